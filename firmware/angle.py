# SPDX-License-Identifier: MIT
# Phase angles: the angle of a complex power P + jQ (float32 slots) in degrees, by an integer CORDIC in viper:
# no float arithmetic, no allocation, the same bits on 32- and 64-bit words (docs/modbus.md: SDM630 angles).
import micropython
from micropython import const

from firmware import sf32, sf32conv
from firmware.words import SIGN_BIT

_MANT = const(0x7FFFFF)
_HID = const(0x800000)
_N = const(26)  # iterations: the last step, atan(2**-25), is 1.7e-6 degrees
FRAC = const(22)  # the CORDIC's angle unit: 2**-22 degrees (180 degrees = 754974720 < 2**30)
_HALF_TURN = const(754974720)  # 180 << 22
# atan(2**-i) in degrees x 2**22, rounded, i = 0..25, as big-endian uint32 (a constant in flash; a test checks it
# against math.atan)
ATAN = (b"\x0b\x40\x00\x00\x06\xa4\x29\xcc\x03\x82\x51\xd0\x01\xc8\x00\x45\x00\xe4\xe2\xaa\x00\x72\x8d\xe5"
        b"\x00\x39\x4a\x87\x00\x1c\xa5\xb6\x00\x0e\x52\xe9\x00\x07\x29\x76\x00\x03\x94\xbb\x00\x01\xca\x5e"
        b"\x00\x00\xe5\x2f\x00\x00\x72\x97\x00\x00\x39\x4c\x00\x00\x1c\xa6\x00\x00\x0e\x53\x00\x00\x07\x29"
        b"\x00\x00\x03\x95\x00\x00\x01\xca\x00\x00\x00\xe5\x00\x00\x00\x73\x00\x00\x00\x39\x00\x00\x00\x1d"
        b"\x00\x00\x00\x0e\x00\x00\x00\x07")


@micropython.viper
def cordic(f: ptr32, a: int, b: int, tab: ptr8) -> int:
    """atan2(f[a], f[b]) (y, x: float32 slots) in degrees x 2**22, in (-180, 180]; 0 when both are 0.
    The magnitudes are aligned to the larger exponent as 27-bit integers (the CORDIC's gain keeps them below
    2**29), vectored to the x axis in the first quadrant, then put in the quadrant of the signs."""
    h = int(SIGN_BIT)
    y = f[a]
    x = f[b]
    ey = (y >> 23) & 255
    ex = (x >> 23) & 255
    if ey == 0 and ex == 0:
        return 0
    my = 0
    mx = 0
    if ey:
        my = (y & _MANT) | _HID
    if ex:
        mx = (x & _MANT) | _HID
    if ex >= ey:
        d = ex - ey
        if d < 25:
            my = my >> d
        else:
            my = 0
    else:
        d = ey - ex
        if d < 25:
            mx = mx >> d
        else:
            mx = 0
    u = mx << 3
    v = my << 3
    z = 0
    i = 0
    while i < _N and v != 0:
        k = 4 * i
        t = (tab[k] << 24) | (tab[k + 1] << 16) | (tab[k + 2] << 8) | tab[k + 3]
        if v > 0:
            w = u + (v >> i)
            v = v - (u >> i)
            z += t
        else:
            w = u - (v >> i)
            v = v + (u >> i)
            z -= t
        u = w
        i += 1
    if x & h:
        z = _HALF_TURN - z
    if (y & h) and ey:
        z = 0 - z
    return z


def degrees(f, d, a, b):
    """f[d] = atan2(f[a], f[b]) in degrees (float32 slots of an array('f')); allocation-free."""
    sf32conv.from_int(f, d, cordic(f, a, b, ATAN))
    sf32.fmul2(f, d, d, -FRAC)
