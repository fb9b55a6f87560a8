# SPDX-License-Identifier: MIT
# Conversions for the soft float32 of firmware/sf32.py: int / int64 -> float32 slot,
# slot -> int, compare and sign, and the big-endian register words; viper, allocation-free, same bits everywhere.
#
# Same rules as sf32.py: values are raw bits in the float32 slots of an array('f'), split into a sign (x & SIGN_BIT)
# and a magnitude below 2**31, no literal above 2**30 inside viper; results round to nearest even like numpy.
import micropython
from micropython import const

from firmware.words import SIGN_BIT

_MANT = const(0x7FFFFF)  # fraction field
_HID = const(0x800000)  # hidden bit
_MAXI = const(0x3FFFFFFF)  # to_int clamp, 2**30 - 1


@micropython.viper
def from_int(f: ptr32, d: int, x: int):
    s = 0
    if x < 0:
        s = int(SIGN_BIT)
        x = -x
    if x == 0:
        f[d] = 0
        return
    e = 150  # 127 + 23
    if x >= (1 << 24):
        k = 1
        while (x >> k) >= (1 << 24):
            k += 1
        m = x >> k
        rem = x - (m << k)
        half = 1 << (k - 1)
        if rem > half:
            m += 1
        elif rem == half:
            m += m & 1
        if m == (1 << 24):
            m = 1 << 23
            k += 1
        e += k
    else:
        while x < (1 << 20):
            x <<= 4
            e -= 4
        while x < (1 << 23):
            x <<= 1
            e -= 1
        m = x
    f[d] = s | (e << 23) | (m & _MANT)


@micropython.viper
def from_i64(f: ptr32, d: int, acc: ptr32, k: int):
    h = int(SIGN_BIT)
    lo = acc[k]
    hi = acc[k + 1]
    s = hi & h
    # four 16-bit limbs, so nothing depends on the word size or on how the load extends the sign
    w0 = lo & 0xFFFF
    w1 = (lo >> 16) & 0xFFFF
    w2 = hi & 0xFFFF
    w3 = (hi >> 16) & 0xFFFF
    if s:  # two's complement magnitude (2**63 for -2**63 fits: w3 = 0x8000)
        w0 = (w0 ^ 0xFFFF) + 1
        w1 = (w1 ^ 0xFFFF) + (w0 >> 16)
        w2 = (w2 ^ 0xFFFF) + (w1 >> 16)
        w3 = ((w3 ^ 0xFFFF) + (w2 >> 16)) & 0xFFFF
        w0 &= 0xFFFF
        w1 &= 0xFFFF
        w2 &= 0xFFFF
    if (w3 | w2 | w1 | w0) == 0:
        f[d] = 0
        return
    e = 190  # 127 + 63: the exponent once bit 15 of w3 is the leading one
    while w3 == 0:
        w3 = w2
        w2 = w1
        w1 = w0
        w0 = 0
        e -= 16
    n = 0
    while (w3 << n) < 0x8000:
        n += 1
    if n:
        c = 16 - n
        w3 = ((w3 << n) | (w2 >> c)) & 0xFFFF
        w2 = ((w2 << n) | (w1 >> c)) & 0xFFFF
        w1 = ((w1 << n) | (w0 >> c)) & 0xFFFF
        w0 = (w0 << n) & 0xFFFF
        e -= n
    m = (w3 << 8) | (w2 >> 8)
    if w2 & 0x80:  # round bit; below it the sticky bits
        if (w2 & 0x7F) | w1 | w0 | (m & 1):
            m += 1
            if m == (1 << 24):
                m = 1 << 23
                e += 1
    f[d] = s | (e << 23) | (m & _MANT)


@micropython.viper
def fcmp(f: ptr32, a: int, b: int) -> int:
    h = int(SIGN_BIT)
    x = f[a]
    y = f[b]
    sx = x & h
    sy = y & h
    x ^= sx
    y ^= sy
    if (x >> 23) == 0:  # zeros and subnormals compare equal to 0, whatever the sign
        x = 0
    if (y >> 23) == 0:
        y = 0
    if sx:
        x = 0 - x
    if sy:
        y = 0 - y
    if x < y:
        return -1
    if x > y:
        return 1
    return 0


@micropython.viper
def fsign(f: ptr32, a: int) -> int:
    x = f[a]
    if ((x >> 23) & 255) == 0:
        return 0
    if x & int(SIGN_BIT):
        return -1
    return 1


@micropython.viper
def to_int(f: ptr32, a: int) -> int:
    x = f[a]
    ex = (x >> 23) & 255
    if ex < 127:
        return 0
    if ex >= 157:  # |x| >= 2**30 (and inf/NaN)
        v = _MAXI
    else:
        v = (x & _MANT) | _HID
        if ex >= 150:
            v <<= ex - 150
        else:
            v >>= 150 - ex
    if x & int(SIGN_BIT):
        return 0 - v
    return v


@micropython.viper
def to_be(f: ptr32, a: int, buf: ptr8, off: int):
    x = f[a]
    buf[off] = x >> 24  # ptr8 stores keep the low byte
    buf[off + 1] = x >> 16
    buf[off + 2] = x >> 8
    buf[off + 3] = x


@micropython.viper
def copy_be(f: ptr32, a: int, n: int, buf: ptr8, off: int):
    i = a
    end = a + n
    p = off
    while i < end:
        x = f[i]
        buf[p] = x >> 24
        buf[p + 1] = x >> 16
        buf[p + 2] = x >> 8
        buf[p + 3] = x
        i += 1
        p += 4
