# SPDX-License-Identifier: MIT
# Multiword unsigned integers as little-endian 15-bit limbs in array('i'), with viper routines that allocate
# nothing and give the same bits on 32-bit MCUs, the 64-bit unix port and CPython (every partial sum < 2**31).
import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

BITS = const(15)
MASK = const(0x7FFF)


@micropython.viper
def zero(a: ptr32, ai: int, n: int):
    k = 0
    while k < n:
        a[ai + k] = 0
        k += 1


@micropython.viper
def copy(d: ptr32, di: int, s: ptr32, si: int, n: int):
    k = 0
    while k < n:
        d[di + k] = s[si + k]
        k += 1


@micropython.viper
def pack16(out: ptr8, o: int, s: ptr32, si: int, n: int):
    """n limbs (each < 2**16) from s[si] into out[o:o+2n], 2 bytes each, little-endian (the store's records)."""
    k = 0
    while k < n:
        v = s[si + k]
        out[o + 2 * k] = v & 0xFF
        out[o + 2 * k + 1] = (v >> 8) & 0xFF
        k += 1


@micropython.viper
def from_i64(dn: ptr32, k: int, d: ptr32, di: int) -> int:
    """|signed 64-bit (low, high) pair dn[k], dn[k+1]| -> 5 limbs at d[di]; returns 1 when it was negative."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    lo = dn[k] & m
    hi = (dn[k + 1] ^ h) - h
    neg = 0
    if hi < 0:
        neg = 1
        if lo == 0:
            hi = 0 - hi
        else:
            hi = 0 - hi - 1
        lo = (0 - lo) & m
    d[di] = lo & 0x7FFF
    d[di + 1] = (lo >> 15) & 0x7FFF
    d[di + 2] = ((lo >> 30) & 3) | ((hi & 0x1FFF) << 2)
    d[di + 3] = (hi >> 13) & 0x7FFF
    d[di + 4] = (hi >> 28) & 0x7
    return neg


@micropython.viper
def mul(a: ptr32, ai: int, na: int, b: ptr32, bi: int, nb: int, d: ptr32, di: int):
    """d[di .. di+na+nb) = a * b (schoolbook; each step < 2**15 + 2**30 + 2**16)."""
    k = 0
    while k < na + nb:
        d[di + k] = 0
        k += 1
    i = 0
    while i < na:
        x = a[ai + i]
        c = 0
        j = 0
        while j < nb:
            t = d[di + i + j] + x * b[bi + j] + c
            d[di + i + j] = t & 0x7FFF
            c = t >> 15
            j += 1
        d[di + i + nb] = c
        i += 1


@micropython.viper
def shr(s: ptr32, si: int, ns: int, sh: int, d: ptr32, di: int, nd: int):
    """d[di .. di+nd) = s >> sh (bits dropped: floor)."""
    q = sh // 15
    r = sh - q * 15
    k = 0
    while k < nd:
        j = q + k
        v = 0
        if j < ns:
            v = s[si + j] >> r
            if j + 1 < ns:
                v = v | ((s[si + j + 1] << (15 - r)) & 0x7FFF)
        d[di + k] = v & 0x7FFF
        k += 1


@micropython.viper
def add(a: ptr32, ai: int, na: int, b: ptr32, bi: int, nb: int) -> int:
    """a += b (nb <= na limbs); returns the carry out of a's top limb (an overflow)."""
    c = 0
    k = 0
    while k < na:
        t = a[ai + k] + c
        if k < nb:
            t += b[bi + k]
        a[ai + k] = t & 0x7FFF
        c = t >> 15
        k += 1
    return c


@micropython.viper
def sub(a: ptr32, ai: int, b: ptr32, bi: int, n: int):
    """a -= b, both n limbs, a >= b."""
    br = 0
    k = 0
    while k < n:
        t = a[ai + k] - b[bi + k] - br
        if t < 0:
            t += 0x8000
            br = 1
        else:
            br = 0
        a[ai + k] = t
        k += 1


@micropython.viper
def cmp(a: ptr32, ai: int, b: ptr32, bi: int, n: int) -> int:
    """1, 0 or -1 as a >, ==, < b (n limbs each)."""
    k = n - 1
    while k >= 0:
        x = a[ai + k]
        y = b[bi + k]
        if x > y:
            return 1
        if x < y:
            return -1
        k -= 1
    return 0


@micropython.viper
def is_zero(a: ptr32, ai: int, n: int) -> int:
    k = 0
    while k < n:
        if a[ai + k]:
            return 0
        k += 1
    return 1


@micropython.viper
def put_u64(s: ptr32, si: int, buf: ptr8, off: int):
    """The low 64 bits of s (at least 5 limbs) into buf[off .. off+8), big-endian (a uint64 register, high word
    first)."""
    bits = 0
    nb = 0
    li = 0
    j = 7
    while j >= 0:
        while nb < 8:
            bits = bits | (s[si + li] << nb)
            nb += 15
            li += 1
        buf[off + j] = bits & 0xFF
        bits = bits >> 8
        nb -= 8
        j -= 1


@micropython.viper
def f32_mag(f: ptr32, k: int, d: ptr32, di: int) -> int:
    """A float32's 24-bit mantissa into 2 limbs at d[di] (0 for zero/denormals); returns the exponent e with
    |x| = mantissa * 2**(e - 150), negative e for a negative x (e is never 0 when the mantissa is not)."""
    x = f[k]
    e = (x >> 23) & 0xFF
    if e == 0 or e == 255:
        d[di] = 0
        d[di + 1] = 0
        return 0
    mt = (x & 0x7FFFFF) | 0x800000
    d[di] = mt & 0x7FFF
    d[di + 1] = mt >> 15
    if (x >> 31) & 1:
        return 0 - e
    return e


def from_int(a, ai, n, v):
    """Store a Python int (not for hot paths)."""
    for k in range(n):
        a[ai + k] = v & MASK
        v >>= BITS


def to_int(a, ai, n):
    v = 0
    for k in range(n - 1, -1, -1):
        v = (v << BITS) | a[ai + k]
    return v
