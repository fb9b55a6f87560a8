# SPDX-License-Identifier: MIT
# Guest script (host_tests/test_cycle_chip.py): the one-cycle RMS (firmware/cyclerms.py) over integer-made
# signals on the emulated RP2040 (32-bit words, the Thumb-1 span kernel) and on the unix port (64-bit words, the
# viper twin): every ring entry, every level crossing (starts: the C_NEW bits; ends: the records), every window's
# verdict (closes, the off-frequency bits) and the final state printed; the same lines on both
# = the same bits. Half the segments run the currents at shift 2, so the span also stops for range widenings. Integers only (the chip's floats are single precision): samples from the sampler's Q15 sine.
import sys

sys.path.insert(0, ".")
from array import array

import micropython

from firmware import kernel_span
from firmware.cyclerms import (C_ARMED, C_BAD, C_CLOSES, C_COUNT, C_EVN, C_EVQ, C_HEAD, C_LOST, C_NEW, C_POLL,
                               C_RING, C_SIZE, C_TH, RING, CycleRms)
from firmware.kernel import D_READY
from firmware.sampler import Sampler
from firmware.words import SIGN_BIT

ON_CHIP = sys.platform == "rp2"
SIZES = (80, 80, 400, 137, 1, 64, 333, 80, 250)


@micropython.viper
def synth(out: ptr32, n: int, g: ptr32, tab: ptr16):
    """n samples x 8 channels: voltage channel c: amplitude g[8+c] x sine >> 6 at phase offset g[16+c] (table
    steps), third harmonic g[24+c], dc g[4]; currents a fixed small sine. Phase: g[0] (22 bits), step g[1]."""
    h = int(SIGN_BIT)
    ph = g[0]
    dc = (g[4] ^ h) - h
    i = 0
    while i < n:
        k = ph >> 12
        c = 0
        while c < 7:
            kc = (k + g[16 + c]) & 1023
            s = int(tab[kc])
            s = (s ^ 0x8000) - 0x8000
            s3 = int(tab[(3 * kc) & 1023])
            s3 = (s3 ^ 0x8000) - 0x8000
            if c < 3:
                x = ((int(g[8 + c]) * s) >> 6) + ((int(g[24 + c]) * s3) >> 6) + dc
            else:
                x = (2600 * s) >> 6
            out[8 * i + c] = x
            c += 1
        out[8 * i + 7] = 2500
        ph = (ph + int(g[1])) & 0x3FFFFF
        i += 1
    g[0] = ph


# segments: samples, phase step (2**22 f / 8000), amplitudes Ua Ub Uc (x sine >> 6 codes: 5330 = 230 V),
# third harmonics, dc, wiring, Uca gains (Q14: ga^2, gc^2, 2 ga gc)
_U = 5330
SEGMENTS = (
    (4000, 26214, (_U, _U, _U), (0, 0, 0), 0, 0, None),  # 50 Hz
    (2400, 26214, (_U, 3731, _U), (0, 0, 0), 0, 0, None),  # B to 70 % for 300 ms
    (2000, 26214, (_U, _U, _U), (0, 0, 0), 0, 0, None),
    (3000, 26109, (_U, 4000, 6000), (300, 0, 900), -700, 0, None),  # 49.8 Hz, dc, third harmonics
    (3000, 31457, (_U, _U, 6500), (0, 0, 0), 200, 0, None),  # 60 Hz, C above 110 %
    (1500, 31457, (0, 0, 0), (0, 0, 0), 0, 0, None),  # no voltage: sync lost, interruption
    (4000, 26214, (9200, 0, 9200), (0, 0, 0), 150, 1, (17000, 15800, 32800)),  # 2LL, gains
    (2000, 26214, (9200, 0, 6000), (0, 0, 0), 150, 1, (17000, 15800, 32800)),  # Ucb dips, and Uca
)
_OFFS = (0, 683, 341, 85, 768, 426, 0)  # 0, -120, +120 degrees (1024 steps)
# levels (ring units) set by hand around 230 V: (5330 * 32767 / 64 / 256)**2 / 2 / 16 = 3.55e6 (a 10660-code
# peak); dip below 80 % (ends at 82.5), swell above 110 % (ends at 108), interruption 5 %
_MS = 3550000
_LEVELS = (_MS * 64 // 100, _MS * 68 // 100, _MS * 121 // 100, _MS * 117 // 100, _MS // 400)


@micropython.viper
def cycles() -> int:
    """The emulator's cycle counter (low 30 bits: a small int); 0 off the chip."""
    if not ON_CHIP:
        return 0
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)
    return p[0] & 0x3FFFFFFF


def _drop(s):
    s.done[D_READY] = 0


def play(span):
    cyc = CycleRms()
    s = Sampler(span=span, cycle=cyc)
    s.on_window = _drop
    cs = cyc.cs
    for p in range(3):
        for k in range(5):
            cs[C_TH + 5 * p + k] = _LEVELS[k]
    blk = array("i", bytes(32 * 400))
    g = array("i", bytes(4 * 32))
    z = 0
    spent = 0
    fed = 0
    closes = 0
    for seg in range(len(SEGMENTS)):
        n, step, amps, h3, dc, syss, gains = SEGMENTS[seg]
        g[1] = step
        g[4] = dc
        for c in range(3):
            g[8 + c] = amps[c]
            g[24 + c] = h3[c]
        for c in range(7):
            g[16 + c] = _OFFS[c]
        s.configure(syss, 2 if seg & 1 else 8)  # shift 2: the currents widen every window's range (no close)
        if gains:
            cyc.configure(syss, gains[0] / 16384, gains[1] / 16384, gains[2] / 16384)
        else:
            cyc.configure(syss)
        left = n
        while left > 0:
            m = min(left, SIZES[z % len(SIZES)])
            z += 1
            synth(blk, m, g, s.table)
            micropython.heap_lock()
            try:
                t0 = cycles()
                s.feed(blk, m)
                t1 = cycles()
            finally:
                micropython.heap_unlock()
            if m == 80:
                spent += (t1 - t0) & 0x3FFFFFFF
                fed += 1
            left -= m
            cs[C_ARMED] = 1
            c = cs[C_COUNT]
            for j in range(c):
                e = C_RING + 4 * ((cs[C_HEAD] - c + j) & (RING - 1))
                print("R %d %d %d %d" % (cs[e], cs[e + 1], cs[e + 2], cs[e + 3]))
            cs[C_COUNT] = 0
            if cs[C_POLL]:
                for j in range(cs[C_EVN]):
                    e = C_EVQ + 4 * j
                    print("E %d %d %d %d" % (cs[e], cs[e + 1], cs[e + 2], cs[e + 3]))
                print("N %d" % cs[C_NEW])
                cs[C_EVN] = 0
                cs[C_NEW] = 0
                cs[C_POLL] = 0
            if cs[C_CLOSES] != closes:
                closes = cs[C_CLOSES]
                print("J %d %x" % (closes, cs[C_BAD]))
    print("S " + " ".join("%x" % (cs[k] & 0xFFFFFFFF) for k in range(C_SIZE)))
    print("L %d" % cs[C_LOST])
    return spent // fed


if ON_CHIP:
    from boards.pico import kernel_thumb as span
else:
    span = kernel_span
per = play(span)
if ON_CHIP:
    print("CYCLES %d per 80-sample block (feed with the half-cycle stops, all in)" % per)
print("END")
