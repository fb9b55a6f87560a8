# SPDX-License-Identifier: MIT
# The harmonics capture's spreading loop in Thumb-1 assembly for the RP2040 (Cortex-M0+): the native twin of
# firmware/harmonics_grid.py's spread(), same signature, same grid words and state, bit for bit.
#
# Why: the viper loop costs ~1,776 cycles per sample on the M0+ (24 multiply-adds of ~53 cycles: viper keeps 3
# locals in registers); here a multiply-add is 8 cycles (mov, muls, asrs, ldr, adds, str) and a sample ~300.
# Shape: per sample, the 4 cubic B-spline weights (Q15) go to r8-r11 and the 4 grid points' byte offsets (the
# wrap of the grid included: ((k + j - 1) & 255) * 8) to r1, r5, r6, r7; each channel then adds x * w >> 5 at
# its base + offset with register-offset loads and stores (encodings the assembler lacks: data()). Every
# product is below 2**30 (x: 16 bits, w <= 2**15) and the grid words wrap at 2**32 as the twin's stores do.
# asm_thumb compiles only for ARM ports: only the pico board imports it (boards/pico/board.py hands it to the
# Meter, which hands it to Harmonics).
import micropython
from micropython import const

# Byte offsets from st = g + 4 * 1536 (harmonics_grid.G_PH): the capture's state words
BASE = const(1536)
_PH = const(0)  # G_PH: phase of the next sample, 2**32 = one cycle
_STEP = const(4)  # G_STEP
_LEFT = const(8)  # G_LEFT: cycle boundaries left
_A = const(12)  # G_A: first sample
_B = const(16)  # G_B: end of the span
_END = const(20)  # scratch (G_X, which only start() and finish() use): address of sample G_B
_BLK = const(24)  # scratch: the block's address

# ldr/str r3, [r0, rm] (register offset): ARMv6-M encodings the assembler has no form for
_LDR_R3_R0_R1 = const(0x5800 | (1 << 6) | 3)
_LDR_R3_R0_R5 = const(0x5800 | (5 << 6) | 3)
_LDR_R3_R0_R6 = const(0x5800 | (6 << 6) | 3)
_LDR_R3_R0_R7 = const(0x5800 | (7 << 6) | 3)
_STR_R3_R0_R1 = const(0x5000 | (1 << 6) | 3)
_STR_R3_R0_R5 = const(0x5000 | (5 << 6) | 3)
_STR_R3_R0_R6 = const(0x5000 | (6 << 6) | 3)
_STR_R3_R0_R7 = const(0x5000 | (7 << 6) | 3)


@micropython.asm_thumb
def spread(r0, r1):
    # spread(g, blk) -> the first sample past the window's end (G_LEFT is then 0), or G_B (harmonics_grid.py).
    # Registers, whole function: lr = st (g + 6144: the state words; the prologue saved lr and the epilogue
    # returns through the saved copy, so lr is free here), r12 = address of the current sample in blk.
    # Per sample: r8-r11 = weights w0..w3, r1 r5 r6 r7 = byte offsets of grid points k-1, k, k+1, k+2 (wrapped);
    # the multiply-adds: r0 = the channel's base in the grid, r4 = its sample x (>> 8), r2 = x * w >> 5,
    # r3 = the grid word. r8-r11 are the caller's: saved on entry, restored on exit.
    mov(r4, r8)
    mov(r5, r9)
    mov(r6, r10)
    mov(r7, r11)
    push({r4, r5, r6, r7})
    mov(r2, 3)
    lsl(r2, r2, 11)
    add(r0, r0, r2)  # st
    mov(lr, r0)
    str(r1, [r0, _BLK])
    ldr(r2, [r0, _A])
    ldr(r3, [r0, _B])
    lsl(r4, r3, 5)
    add(r4, r4, r1)
    str(r4, [r0, _END])
    lsl(r5, r2, 5)
    add(r5, r5, r1)
    mov(r12, r5)
    cmp(r2, r3)  # i < b (signed, as the twin) ...
    blt(some)
    b(done)
    label(some)
    ldr(r4, [r0, _LEFT])  # ... and left != 0
    cmp(r4, 0)
    bne(loop)
    b(done)

    # --- one sample: r0 = st ----------------------------------------------------------------------------------
    label(loop)
    ldr(r3, [r0, _PH])
    lsl(r2, r3, 8)
    lsr(r2, r2, 17)  # r2 = d: the phase's fraction of a grid step, Q15 (bits 9..23)
    lsr(r3, r3, 24)  # r3 = k: the grid point (bits 24..31)
    sub(r1, r3, 1)
    lsl(r1, r1, 24)
    lsr(r1, r1, 21)  # ((k - 1) & 255) * 8
    lsl(r5, r3, 24)
    lsr(r5, r5, 21)  # k * 8
    add(r6, r3, 1)
    lsl(r6, r6, 24)
    lsr(r6, r6, 21)  # ((k + 1) & 255) * 8
    add(r7, r3, 2)
    lsl(r7, r7, 24)
    lsr(r7, r7, 21)  # ((k + 2) & 255) * 8
    mov(r0, 1)
    lsl(r0, r0, 15)  # r0 = 32768
    sub(r4, r0, r2)  # r4 = e = 32768 - d
    mov(r3, r4)
    mul(r3, r4)
    lsr(r3, r3, 15)  # e2
    mul(r3, r4)
    lsr(r3, r3, 15)  # e3
    mov(r4, 0x55)
    lsl(r4, r4, 8)
    add(r4, 0x55)  # r4 = 21845
    mul(r3, r4)
    lsr(r3, r3, 17)  # w0 = e3 * 21845 >> 17: (1 - d)**3 / 6
    mov(r8, r3)
    mov(r3, r2)
    mul(r3, r2)
    lsr(r3, r3, 15)  # r3 = d2
    mul(r2, r3)
    lsr(r2, r2, 15)  # r2 = d3 = d2 * d >> 15
    sub(r3, r4, r3)  # 21845 - d2
    mul(r4, r2)
    lsr(r4, r4, 17)  # w3 = d3 * 21845 >> 17: d**3 / 6
    mov(r11, r4)
    lsr(r2, r2, 1)
    add(r3, r3, r2)  # w1 = 21845 - d2 + (d3 >> 1)
    mov(r9, r3)
    sub(r0, r0, r3)
    sub(r0, r0, r4)
    mov(r2, r8)
    sub(r0, r0, r2)  # w2 = 32768 - w0 - w1 - w3
    mov(r10, r0)
    mov(r0, lr)  # r0 = g: the real parts of pair 0 (Ua)
    mov(r2, 3)
    lsl(r2, r2, 11)
    sub(r0, r0, r2)
    mov(r3, r12)  # Ua
    ldr(r4, [r3, 0])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)
    add(r0, 4)  # Ia: the imaginary parts of pair 0
    mov(r3, r12)  # Ia
    ldr(r4, [r3, 12])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)
    mov(r2, 1)  # Ub: pair 1, g + 2048
    lsl(r2, r2, 11)
    add(r0, r0, r2)
    sub(r0, 4)
    mov(r3, r12)  # Ub
    ldr(r4, [r3, 4])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)
    add(r0, 4)
    mov(r3, r12)  # Ib
    ldr(r4, [r3, 16])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)
    mov(r2, 1)  # Uc: pair 2, g + 4096
    lsl(r2, r2, 11)
    add(r0, r0, r2)
    sub(r0, 4)
    mov(r3, r12)  # Uc
    ldr(r4, [r3, 8])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)
    add(r0, 4)
    mov(r3, r12)  # Ic
    ldr(r4, [r3, 20])
    asr(r4, r4, 8)
    mov(r2, r8)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R1)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R1)
    mov(r2, r9)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R5)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R5)
    mov(r2, r10)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R6)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R6)
    mov(r2, r11)
    mul(r2, r4)
    asr(r2, r2, 5)
    data(2, _LDR_R3_R0_R7)
    add(r3, r3, r2)
    data(2, _STR_R3_R0_R7)

    # --- next sample: the phase advances; a wrap is a cycle boundary -------------------------------------------
    mov(r3, r12)
    add(r3, 32)
    mov(r12, r3)
    mov(r0, lr)
    ldr(r2, [r0, _PH])
    ldr(r3, [r0, _STEP])
    add(r2, r2, r3)  # carry: the phase wrapped
    str(r2, [r0, _PH])
    bcc(same)
    ldr(r3, [r0, _LEFT])
    sub(r3, 1)
    str(r3, [r0, _LEFT])
    beq(done)  # the window ends before this sample
    label(same)
    mov(r3, r12)
    ldr(r2, [r0, _END])
    cmp(r3, r2)
    bcs(done)
    b(loop)

    label(done)
    mov(r0, lr)
    ldr(r1, [r0, _BLK])
    mov(r0, r12)
    sub(r0, r0, r1)
    asr(r0, r0, 5)  # the sample's index
    pop({r4, r5, r6, r7})
    mov(r8, r4)
    mov(r9, r5)
    mov(r10, r6)
    mov(r11, r7)
