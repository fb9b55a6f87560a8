# SPDX-License-Identifier: MIT
# Guest script (host_tests/test_kernel_thumb.py): the sampler over integer-made signals, every closed window and
# the final state printed. On the emulated RP2040 it runs the Thumb-1 span kernel (and prints its cycles per
# sample); on the unix port the viper twin. Same lines on both = bit-identical sums. Integers only, so the
# samples and the NCO table are the same bits on both runtimes (floats are single precision on the chip).
import sys

sys.path.insert(0, ".")
from array import array

import micropython

from firmware import kernel_span
from firmware.kernel import D_SIZE, D_READY, S_FY, S_NATIVE, S_SIZE
from firmware.sampler import Sampler
from firmware.words import SIGN_BIT

ON_CHIP = sys.platform == "rp2"
BLK = 400
SIZES = (400, 137, 1, 64, 333, 32, 33, 250)
MAXWIN = 80
_PI40 = 3454217652358  # pi * 2**40


def sine_table():
    """round(32767 sin(2 pi (k + 0.5) / 1024)) by an integer Taylor series (fixed point 2**40)."""
    f = 1 << 40
    t = array("h", bytes(2048))
    for k in range(256):
        x = _PI40 * (2 * k + 1) // 1024
        s = term = x
        for j in range(1, 9):
            term = -term * x * x // ((2 * j) * (2 * j + 1) * f * f)
            s += term
        v = (32767 * s + f // 2) // f
        t[k] = t[511 - k] = v
        t[512 + k] = t[1023 - k] = -v
    return t


@micropython.viper
def synth(out: ptr32, n: int, g: ptr32, tab: ptr16):
    """n samples x 8 channels: per channel c amplitude g[8+c] (x tab >> 6 codes), phase offset g[16+c] and third
    harmonic g[24+c] (table steps), plus g[4] dc, noise g[3] (mask) from an LCG, clipped to 24 bits. Phase: g[0]
    (22 bits), step g[1]; LCG state g[2]. Every intermediate below 2**31: the same bits on 32 and 64 bits."""
    h = int(SIGN_BIT)
    m31 = 31
    m31 = (1 << m31) - 1  # 2**31 - 1 made at run time: as a literal it is an object in viper on the chip
    ph = g[0]
    seed = g[2]
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
            seed = (seed * 48271 + 12345) & m31
            x = ((int(g[8 + c]) * s) >> 6) + ((int(g[24 + c]) * s3) >> 6) + dc
            x += ((seed >> 8) & int(g[3])) - (int(g[3]) >> 1)
            if x > 8388607:
                x = 8388607
            elif x < -8388608:
                x = -8388608
            out[8 * i + c] = x
            c += 1
        out[8 * i + 7] = 2500 + (i & 15)
        ph = (ph + int(g[1])) & 0x3FFFFF
        i += 1
    g[0] = ph
    g[2] = seed


@micropython.viper
def copy(dst: ptr32, at: int, src: ptr32, n: int):
    i = 0
    while i < n:
        dst[at + i] = src[i]
        i += 1


# segments: samples, frequency step (2**22 * f / 8000), amplitudes Ua..In, third harmonics, noise mask, dc,
# sampler.configure(syss, ishift, auto), force reference candidate (-1: no)
_U = 5330  # 230 V rms in x tab >> 6 units (2**23 codes = 1000 V)
_I = 2600  # 5 A rms (2**23 codes = 25 A)
SEGMENTS = (
    (4000, 26114, (_U, _U, _U, _I, _I // 2, 2 * _I, 300), (200, 0, 100, 300, 0, 0, 0), 255, 3000, (0, 8, False), -1),
    (3000, 32139, (_U, 4000, 6000, _I, _I, _I, _I), (0, 0, 0, 0, 0, 0, 0), 1023, -700, (0, 8, True), -1),
    (4400, 26200, (_U, _U, _U, 40, 30, 20, 3), (0, 0, 0, 5, 0, 0, 0), 63, 0, (0, 2, False), -1),
    (3400, 26200, (_U, _U, _U, 30000, 9000, 20, 3), (0, 0, 0, 500, 0, 0, 0), 63, 0, (0, 2, False), -1),
    (1700, 26200, (_U, _U, _U, 40, 30, 20, 3), (0, 0, 0, 5, 0, 0, 0), 63, 0, (0, 2, False), -1),
    (1700, 26200, (_U, _U, _U, 400, 30, 20, 3), (0, 0, 0, 5, 0, 0, 0), 63, 0, (0, 2, False), -1),
    (3400, 25900, (32767, 30000, 32767, 32767, 32767, 32767, 32767), (9000, 0, 0, 9000, 0, 0, 0), 0, 0,
     (2, 8, True), -1),
    (4500, 26114, (0, 0, 0, _I, _I, _I, 0), (0, 0, 0, 0, 0, 0, 0), 15, 0, (2, 8, True), -1),
    (3500, 26021, (_U, _U, 9000, 40, 3000, 900, 70), (0, 0, 0, 0, 0, 0, 0), 255, 100, (1, 6, True), 2),
)
_OFFS = (0, 683, 341, 85, 768, 426, 0)  # 0, -120, +120 degrees (1024 steps); currents lag 30 degrees


@micropython.viper
def cycles() -> int:
    """The emulator's cycle counter (low 30 bits: a small int); 0 off the chip."""
    if not ON_CHIP:
        return 0
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)  # 0x40068000, the emulator's host port
    return p[0] & 0x3FFFFFFF


class Run:
    def __init__(self, span, tab):
        self.s = Sampler(span=span)
        for k in range(len(tab)):
            self.s.table[k] = tab[k]
        self.wins = array("i", bytes(4 * D_SIZE * MAXWIN))
        self.nw = 0
        self.cycles = 0
        self.samples = 0
        self.s.on_window = self.take  # bound once: no allocation in feed

    def take(self, s):
        dn = s.done
        b = self.nw * D_SIZE
        if self.nw < MAXWIN:
            copy(self.wins, b, dn, D_SIZE)  # words past 2**30 are big ints in Python on the chip: copy in viper
            self.nw += 1
        dn[D_READY] = 0


def play(span, tab):
    r = Run(span, tab)
    blk = array("i", bytes(32 * BLK))
    g = array("i", bytes(4 * 32))
    g[2] = 12345
    z = 0
    for n, step, amps, h3, noise, dc, cfg, ref in SEGMENTS:
        g[1] = step
        g[3] = noise
        g[4] = dc
        for c in range(7):
            g[8 + c] = amps[c]
            g[16 + c] = _OFFS[c]
            g[24 + c] = h3[c]
        r.s.configure(*cfg)
        if ref >= 0:
            r.s._set_ref(ref)
        left = n
        while left > 0:
            m = min(left, SIZES[z % len(SIZES)])
            z += 1
            synth(blk, m, g, tab)
            micropython.heap_lock()
            try:
                t0 = cycles()
                r.s.feed(blk, m)
                r.cycles += (cycles() - t0) & 0x3FFFFFFF
            finally:
                micropython.heap_unlock()
            r.samples += m
            left -= m
    return r


def lines(r):
    out = []
    for k in range(r.nw):
        w = r.wins[k * D_SIZE:(k + 1) * D_SIZE]
        out.append("W%d " % k + " ".join("%x" % (v & 0xFFFFFFFF) for v in w))
    st = r.s.state  # sums, first-sample products, scalars, band-pass (not the kernels' scratch: _P, S_NATIVE, work)
    words = list(range(99)) + list(range(132, S_NATIVE)) + list(range(S_FY, S_SIZE))
    out.append("S " + " ".join("%x" % (st[k] & 0xFFFFFFFF) for k in words))
    return out


tab = sine_table()
if ON_CHIP:
    from boards.pico import kernel_thumb as span
else:
    span = kernel_span
r = play(span, tab)
for ln in lines(r):
    print(ln)
if ON_CHIP:  # blocks of 1 to 400 samples, 15 windows: more Python per sample than the meter's 400-sample blocks
    print("CYCLES %d per 8-channel sample (feed, all in)" % (r.cycles // r.samples))
print("END", r.nw, "windows")
