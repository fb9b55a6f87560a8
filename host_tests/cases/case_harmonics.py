# SPDX-License-Identifier: MIT
# Harmonics, THD and unbalance (firmware/harmonics.py) on synthesized three-phase signals with known spectra,
# heap-locked, against ratios computed straight from the definitions (IEC 61000-4-7 / 4-30); the FFT against a
# direct DFT, the flash tables against their formulas, a drifting frequency.
import math
import struct
from array import array

import micropython

from firmware import regmap
from firmware.harmonics import Harmonics
from firmware.harmonics_results import hr_names
from firmware.harmonics_fft import DECONV, TWIDDLE, fft
from firmware.metering import Metering
from firmware.sampler import Sampler
from signals import front_end

_FS = 8000
_CV = 8388608 / 1000.0  # codes per volt
_CA = 8388608 / 25.0  # codes per ampere
# order: (ratio to the fundamental, phase in degrees)
_UH = {3: (0.05, 10.0), 5: (0.06, -40.0), 7: (0.02, 30.0), 31: (0.01, 90.0)}
_IH = {2: (0.03, 0.0), 3: (0.25, 30.0), 5: (0.22, -150.0), 11: (0.07, 170.0), 29: (0.02, -60.0), 31: (0.015, 5.0)}
_U = (230.0, 220.0, 210.0)  # unbalanced magnitudes ...
_UANG = (0.0, -118.0, 121.0)  # ... and angles
_I = (5.0, 2.0, 3.5)
_LAG = (30.0, 60.0, -20.0)


def _gen(f, n0, n, cur=1.0):
    """Through the front end (signals.front_end): order h scaled by its gain and shifted by its phase."""
    fe = {h: front_end(h * f) for h in set(_UH) | set(_IH) | {1}}
    g1, d1 = fe[1]
    b = array("i", [0] * (8 * n))
    for k in range(n):
        t = 2 * math.pi * f * (n0 + k) / _FS
        for p in range(3):
            a = t + math.radians(_UANG[p])
            u = g1 * math.sin(a + d1)
            for h in _UH:
                u += _UH[h][0] * fe[h][0] * math.sin(h * a + math.radians(_UH[h][1]) + fe[h][1])
            ai = a - math.radians(_LAG[p])
            i = g1 * math.sin(ai + d1)
            for h in _IH:
                i += _IH[h][0] * fe[h][0] * math.sin(h * ai + math.radians(_IH[h][1]) + fe[h][1])
            b[8 * k + p] = int(round(_U[p] * math.sqrt(2) * _CV * u))
            b[8 * k + 3 + p] = int(round(cur * _I[p] * math.sqrt(2) * _CA * i))
    return b


def _neg_ratio(mags, angs):
    """|X2| / |X1| in percent, from the definition with a = exp(j 120 deg)."""
    x = [complex(mags[k] * math.cos(math.radians(angs[k])), mags[k] * math.sin(math.radians(angs[k])))
         for k in range(3)]
    a = complex(-0.5, math.sqrt(3) / 2)
    pos = x[0] + a * x[1] + a * a * x[2]
    neg = x[0] + a * a * x[1] + a * x[2]
    return 100 * abs(neg) / abs(pos)


def _run(f, seconds, locked=True, cur=1.0):
    s = Sampler()
    vals = array("f", [0.0] * regmap.N_MEAS)
    m = Metering(vals, s)
    image = bytearray(2 * regmap.block_end())
    h = Harmonics(vals, s, image, every=2)  # the meter uses 4; 2 keeps the test short
    n = 400
    blocks = [_gen(f, j * n, n, cur) for j in range(int(seconds * _FS) // n)]
    for j in range(len(blocks)):
        lock = locked and j >= 2
        if lock:
            micropython.heap_lock()
        try:
            d = s.feed(blocks[j], n)
            if d:
                m.update(s)
            h.feed(blocks[j], n, d)
        finally:
            if lock:
                micropython.heap_unlock()
    return h, vals, image


def _check(f):
    h, vals, image = _run(f, 1.3)  # the first capture starts at the first synchronised close (~0.3 s)
    assert h.updates >= 2, h.updates
    thd_u = 100 * math.sqrt(sum(r * r for r, _ in _UH.values()))
    thd_i = 100 * math.sqrt(sum(r * r for r, _ in _IH.values()))
    for c in range(6):
        want = _UH if c < 3 else _IH
        for k in range(30):
            r = 100 * want[k + 2][0] if (k + 2) in want else 0.0
            assert abs(h.hr[30 * c + k] - r) < 0.1, (f, c, k + 2, h.hr[30 * c + k], r)
        thd = vals[regmap.slot("THD_" + ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")[c])]
        assert abs(thd - (thd_u if c < 3 else thd_i)) < 0.1, (c, thd)
    unb_u = _neg_ratio(_U, _UANG)
    unb_i = _neg_ratio(_I, [_UANG[p] - _LAG[p] for p in range(3)])
    assert abs(vals[regmap.slot("UNB_U")] - unb_u) < 0.05, (vals[regmap.slot("UNB_U")], unb_u)
    assert abs(vals[regmap.slot("UNB_I")] - unb_i) < 0.05, (vals[regmap.slot("UNB_I")], unb_i)
    # the HARMONICS block in the image: float32 big-endian, HR_Ia_3 at its row address
    names = hr_names()
    k = names.index("HR_Ia_3")
    off = 2 * (regmap.block("harmonics")[0] + 2 * k)
    v = struct.unpack(">f", bytes(image[off:off + 4]))[0]
    assert abs(v - 25.0) < 0.1, v


def test_hr_thd_unbalance_50_3hz():
    _check(50.3)


def test_hr_thd_unbalance_45_and_65hz():
    _check(45.0)
    _check(65.0)


def test_fft_matches_a_direct_dft():
    # a 256-point pair of pseudo-random signals below 2**20: the fixed-point FFT (two halves of 4 stages) against
    # sum z exp(-2 pi j h k / 256) in floats, within a few units of its 2**28 scale
    z = bytearray(4 * 512)
    zs = array("i", [0] * 512)
    r = 12345
    for k in range(512):
        r = (r * 1103515245 + 12345) & 0x7FFFFFFF
        zs[k] = (r >> 10) - (1 << 20) + 1 if (r >> 10) < (1 << 21) - 1 else 0
    struct.pack_into("<512i", z, 0, *zs)
    fft(z, 0, TWIDDLE, 0, 4)
    fft(z, 0, TWIDDLE, 4, 8)
    out = struct.unpack("<512i", z)
    for h in (0, 1, 2, 31, 64, 127, 200, 255):
        re = im = 0.0
        for k in range(256):
            a = -2 * math.pi * h * k / 256
            c, s = math.cos(a), math.sin(a)
            re += zs[2 * k] * c - zs[2 * k + 1] * s
            im += zs[2 * k] * s + zs[2 * k + 1] * c
        assert abs(out[2 * h] - re) < 3000 and abs(out[2 * h + 1] - im) < 3000, (h, out[2 * h], re, out[2 * h + 1], im)


def test_tables_are_what_they_say():
    tw = struct.unpack("<192h", TWIDDLE)
    for k in range(192):
        assert tw[k] == min(32767, int(round(32768 * math.sin(2 * math.pi * k / 256)))), k
    dc = struct.unpack("<31H", DECONV)
    for h in range(1, 32):
        x = math.pi * h / 256
        assert dc[h - 1] == int(round(32768 / (math.sin(x) / x) ** 4)), h


def test_a_drifting_frequency_is_followed():
    # 0.5 Hz/s: the capture's step is extrapolated from the last two windows and confirmed by the sampler
    s = Sampler()
    vals = array("f", [0.0] * regmap.N_MEAS)
    h = Harmonics(vals, s, None, every=2)
    n = 400
    for j in range(int(1.6 * _FS) // n):
        b = array("i", [0] * (8 * n))
        for k in range(n):
            t = (j * n + k) / _FS
            a = 2 * math.pi * (50.0 * t + 0.25 * t * t)  # 50 Hz + 0.5 Hz/s
            g1, d1 = front_end(50.0 + 0.5 * t)
            g5, d5 = front_end(5 * (50.0 + 0.5 * t))
            for p in range(3):
                x = a - 2 * math.pi * p / 3
                b[8 * k + p] = int(round(2600000 * (g1 * math.sin(x + d1) + 0.05 * g5 * math.sin(5 * x + d5))))
        d = s.feed(b, n)
        h.feed(b, n, d)
    assert h.updates >= 2 and h.dropped <= 1, (h.updates, h.dropped)
    for c in range(3):
        assert abs(h.hr[30 * c + 3] - 5.0) < 0.02 and abs(h.hr[30 * c]) < 0.02, (c, h.hr[30 * c], h.hr[30 * c + 3])


def test_names_and_block():
    names = hr_names()
    assert len(names) == 180 and names[0] == "HR_Ua_2" and names[29] == "HR_Ua_31" and names[-1] == "HR_Ic_31"


def test_no_current_reads_zero_and_unbalance_is_u_only():
    h, vals, image = _run(50.0, 0.8, True, 0.0)
    assert h.updates >= 1
    for c in ("Ia", "Ib", "Ic"):
        assert vals[regmap.slot("THD_" + c)] == 0.0
    assert vals[regmap.slot("UNB_I")] == 0.0 and max(h.hr[90:]) == 0.0
    assert abs(vals[regmap.slot("UNB_U")] - _neg_ratio(_U, _UANG)) < 0.05


def test_names_match_the_register_map():
    assert hr_names() == tuple(r[0] for r in regmap.HARMONICS)
