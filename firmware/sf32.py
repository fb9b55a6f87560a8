# SPDX-License-Identifier: MIT
# Allocation-free IEEE754 binary32 arithmetic in viper on the float32 slots of an array('f') (f[d] = f[a] op f[b]),
# for the metering update. Round to nearest even like numpy float32; subnormals flush to signed zero.
#
# Why this shape: MicroPython floats are heap objects, so hot paths keep values as raw bits in float32 slots.
# Bit-identical on 32-bit devices, the 64-bit unix port and CPython: a loaded word is split into its sign
# (x & SIGN_BIT, the device's 0x80000000 pattern or 2**31 on 64-bit) and a magnitude below 2**31; every
# intermediate fits a signed 32-bit word (mantissa products use 12-bit limbs). No literal above 2**30 appears
# inside viper (armv6m would reject it). Each operation is written out in full (fsub repeats fadd): a viper-to-
# viper call costs a call and boxes its arguments, so only the rare out-of-range tail (_edge) is shared, with
# arguments below 2**30.
# Rounding works on a mantissa m in [2**26, 2**27): 24 bits + 3 extra bits, the lowest one sticky ("jammed").
# Results below 2**-126 flush to signed zero, except those that IEEE rounding with subnormals would round up to
# 2**-126 (exact values in [(2**24-1)*2**-150, 2**-126)): they give 2**-126, so normal results match numpy.
# Inf/NaN inputs are not treated specially: they give some inf/NaN/number, never a crash or an allocation.
import micropython
from micropython import const

from firmware.words import SIGN_BIT

_MANT = const(0x7FFFFF)  # fraction field
_HID = const(0x800000)  # hidden bit
_FULL = const(0xFFFFFF)  # 24 one bits: the mantissa that lies in the round-up band below 2**-126


@micropython.viper
def _edge(f: ptr32, d: int, e: int, m: int):
    # Rare path of the rounding tail: exponent e (after rounding) out of range, f[d] already holds the sign,
    # m is the unrounded mantissa with its 3 extra bits (all values small: the call boxes nothing big).
    s = f[d]
    if e >= 255:
        e = 255
        f[d] = s | (e << 23)
    elif e == 0 and (m >> 3) == _FULL:  # the band that rounds up to 2**-126 with subnormals
        f[d] = s | _HID


@micropython.viper
def _add(f: ptr32, d: int, a: int, b: int, neg_b: int):
    # f[d] = f[a] + f[b], or f[a] - f[b] when neg_b: one body for both, so rounding is the same code
    h = int(SIGN_BIT)
    x = f[a]
    y = f[b]
    if neg_b:
        y ^= h
    sx = x & h
    sy = y & h
    x ^= sx
    y ^= sy
    if y > x:  # larger magnitude first
        t = x
        x = y
        y = t
        t = sx
        sx = sy
        sy = t
    ex = x >> 23
    ey = y >> 23
    if ey == 0:  # smaller operand is zero (or subnormal, counted as zero)
        if ex == 0:
            f[d] = sx & sy  # -0 only for (-0) + (-0)
        else:
            f[d] = sx | x
        return
    if ex == 255:
        f[d] = sx | x
        return
    mx = ((x & _MANT) | _HID) << 3
    my = ((y & _MANT) | _HID) << 3
    k = ex - ey
    if k > 26:
        my = 1
    elif k:
        t = my >> k
        if (t << k) != my:
            t |= 1
        my = t
    if sx == sy:
        m = mx + my
        if m >= (1 << 27):
            m = (m >> 1) | (m & 1)
            ex += 1
    else:
        m = mx - my
        if m == 0:
            f[d] = 0  # exact cancellation is +0
            return
        while m < (1 << 19):
            m <<= 8
            ex -= 8
        while m < (1 << 26):
            m <<= 1
            ex -= 1
    r = (m + 3 + ((m >> 3) & 1)) >> 3
    ex += r >> 24  # a carry out to 2**24 leaves the fraction field 0
    if ex > 0 and ex < 255:
        f[d] = sx | (ex << 23) | (r & _MANT)
    else:
        f[d] = sx
        _edge(f, d, ex, m)


@micropython.viper
def fadd(f: ptr32, d: int, a: int, b: int):
    _add(f, d, a, b, 0)


@micropython.viper
def fsub(f: ptr32, d: int, a: int, b: int):
    _add(f, d, a, b, 1)


@micropython.viper
def fmul(f: ptr32, d: int, a: int, b: int):
    h = int(SIGN_BIT)
    x = f[a]
    y = f[b]
    s = (x ^ y) & h
    ex = (x >> 23) & 255
    ey = (y >> 23) & 255
    if ex == 0 or ey == 0:
        f[d] = s
        return
    e = ex + ey - 127
    if ex == 255 or ey == 255:
        e = 255
    mx = (x & _MANT) | _HID
    my = (y & _MANT) | _HID
    # 24x24-bit product from 12-bit limbs (no partial product reaches 2**26): hi = P >> 24, lo = P & 0xFFFFFF
    xh = mx >> 12
    xl = mx & 4095
    yh = my >> 12
    yl = my & 4095
    mid = xh * yl + xl * yh
    t = xl * yl + ((mid & 4095) << 12)
    hi = xh * yh + (mid >> 12) + (t >> 24)
    lo = t & _FULL
    if hi >= _HID:  # product in [2, 4)
        m = (hi << 3) | (lo >> 21)
        if lo & 0x1FFFFF:
            m |= 1
        e += 1
    else:
        m = (hi << 4) | (lo >> 20)
        if lo & 0xFFFFF:
            m |= 1
    r = (m + 3 + ((m >> 3) & 1)) >> 3
    e += r >> 24  # a carry out to 2**24 leaves the fraction field 0
    if e > 0 and e < 255:
        f[d] = s | (e << 23) | (r & _MANT)
    else:
        f[d] = s
        _edge(f, d, e, m)


@micropython.viper
def fdiv(f: ptr32, d: int, a: int, b: int):
    h = int(SIGN_BIT)
    x = f[a]
    y = f[b]
    s = (x ^ y) & h
    ex = (x >> 23) & 255
    ey = (y >> 23) & 255
    if ey == 0:  # division by zero: 0.0 by contract
        f[d] = 0
        return
    if ex == 0 or ey == 255:
        f[d] = s
        return
    if ex == 255:
        f[d] = s | (ex << 23)
        return
    mx = (x & _MANT) | _HID
    my = (y & _MANT) | _HID
    e = ex - ey + 127
    if mx < my:
        mx <<= 1
        e -= 1
    # restoring division, 26 quotient bits (two per pass); the remainder stays below 2**25
    q = 0
    n = 13
    while n:
        q <<= 2
        if mx >= my:
            mx -= my
            q |= 2
        mx <<= 1
        if mx >= my:
            mx -= my
            q |= 1
        mx <<= 1
        n -= 1
    m = q << 1
    if mx:
        m |= 1
    r = (m + 3 + ((m >> 3) & 1)) >> 3
    e += r >> 24  # a carry out to 2**24 leaves the fraction field 0
    if e > 0 and e < 255:
        f[d] = s | (e << 23) | (r & _MANT)
    else:
        f[d] = s
        _edge(f, d, e, m)


@micropython.viper
def fsqrt(f: ptr32, d: int, a: int):
    h = int(SIGN_BIT)
    x = f[a]
    ex = (x >> 23) & 255
    if ex == 0:
        f[d] = x & h  # sqrt(+-0) = +-0 (IEEE)
        return
    if x & h:
        f[d] = 0  # negative: 0.0 by contract
        return
    if ex == 255:
        f[d] = x
        return
    # digit-by-digit root of w * 2**24 (w: mantissa aligned to an even exponent): 25 bits = 24 + round bit.
    # An exact tie is impossible for a square root, so the round bit alone decides.
    w = ((x & _MANT) | _HID) << 1
    if (ex & 1) == 0:
        w <<= 1
    q = 0
    r = 0
    k = 24
    while k >= 0:
        r = (r << 2) | ((w >> k) & 3)
        t = (q << 2) | 1
        q <<= 1
        if r >= t:
            r -= t
            q |= 1
        k -= 2
    k = 12
    while k:
        r <<= 2
        t = (q << 2) | 1
        q <<= 1
        if r >= t:
            r -= t
            q |= 1
        k -= 1
    m = (q >> 1) + (q & 1)
    e = (ex + 127) >> 1
    if m == (1 << 24):
        m = 1 << 23
        e += 1
    f[d] = (e << 23) | (m & _MANT)


@micropython.viper
def fneg(f: ptr32, d: int, a: int):
    f[d] = f[a] ^ int(SIGN_BIT)


@micropython.viper
def fabs(f: ptr32, d: int, a: int):
    x = f[a]
    f[d] = x ^ (x & int(SIGN_BIT))


@micropython.viper
def fcopy(f: ptr32, d: int, a: int):
    f[d] = f[a]


@micropython.viper
def fmul2(f: ptr32, d: int, a: int, e: int):
    h = int(SIGN_BIT)
    x = f[a]
    s = x & h
    ex = (x >> 23) & 255
    if ex == 0:
        f[d] = s
        return
    if ex == 255:
        f[d] = x
        return
    ex += e
    if ex >= 255:
        ex = 255
        x = 0
    elif ex <= 0:
        if ex == 0 and (x & _MANT) == _MANT:
            ex = 1
            x = 0
        else:
            f[d] = s
            return
    f[d] = s | (ex << 23) | (x & _MANT)
