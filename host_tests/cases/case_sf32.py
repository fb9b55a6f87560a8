# SPDX-License-Identifier: MIT
# Fixed vectors for firmware/sf32.py: expected bit patterns computed independently with numpy float32 / struct
# (IEEE round to nearest even, subnormals flushed), every op under heap_lock, and a simulated 32-bit device.
import sys
from array import array

import micropython
from firmware import sf32, sf32conv

# (op, a, b, expected): ties, cancellation, signed zeros, overflow, flush, the band that rounds up to 2**-126
BINARY = (
    ("fadd", 0x3DCCCCCD, 0x3E4CCCCD, 0x3E99999A),  # 0.1 + 0.2
    ("fadd", 0x3F800000, 0x33800000, 0x3F800000),  # 1 + 5.9604645e-08
    ("fadd", 0x3F800001, 0x33800000, 0x3F800002),  # 1.0000001 + 5.9604645e-08
    ("fadd", 0x3F800000, 0x33C00000, 0x3F800001),  # 1 + 8.9406967e-08
    ("fadd", 0xC0200000, 0x3FA00000, 0xBFA00000),  # -2.5 + 1.25
    ("fadd", 0x80000000, 0x80000000, 0x80000000),  # -0 + -0
    ("fadd", 0x00000000, 0x80000000, 0x00000000),  # 0 + -0
    ("fadd", 0x00000000, 0x40A00000, 0x40A00000),  # 0 + 5
    ("fadd", 0xC0400000, 0x00000000, 0xC0400000),  # -3 + 0
    ("fadd", 0xC0F80000, 0x40F80000, 0x00000000),  # -7.75 + 7.75
    ("fadd", 0x7149F2CA, 0x3F800000, 0x7149F2CA),  # 1e+30 + 1
    ("fadd", 0x7F7FFFFF, 0x7F7FFFFF, 0x7F800000),  # 3.4028235e+38 + 3.4028235e+38
    ("fadd", 0xFF7FFFFF, 0xFF7FFFFF, 0xFF800000),  # -3.4028235e+38 + -3.4028235e+38
    ("fadd", 0x00000001, 0x00000000, 0x00000000),  # 1.4012985e-45 + 0
    ("fadd", 0x00800001, 0x80800000, 0x00000000),  # 1.1754945e-38 + -1.1754944e-38
    ("fadd", 0x80800001, 0x00800000, 0x80000000),  # -1.1754945e-38 + 1.1754944e-38
    ("fadd", 0x00400000, 0x3F800000, 0x3F800000),  # 5.8774718e-39 + 1
    ("fsub", 0x3F800001, 0x3F800000, 0x34000000),  # 1.0000001 - 1
    ("fsub", 0x3F800000, 0x3F7FFFFF, 0x33800000),  # 1 - 0.99999994
    ("fsub", 0x3F800000, 0x33000000, 0x3F800000),  # 1 - 2.9802322e-08
    ("fsub", 0x3E99999A, 0x3DCCCCCD, 0x3E4CCCCE),  # 0.30000001 - 0.1
    ("fsub", 0x40400000, 0x40400000, 0x00000000),  # 3 - 3
    ("fsub", 0x80000000, 0x00000000, 0x80000000),  # -0 - 0
    ("fsub", 0x3A83126F, 0x447A0000, 0xC479FFF0),  # 0.001 - 1000
    ("fsub", 0x4B800000, 0x3F800000, 0x4B7FFFFF),  # 16777216 - 1
    ("fmul", 0x3DCCCCCD, 0x40400000, 0x3E99999A),  # 0.1 * 3
    ("fmul", 0x3F800800, 0x3F800800, 0x3F801000),  # 1.0002441 * 1.0002441
    ("fmul", 0x3FC00000, 0x3F800001, 0x3FC00002),  # 1.5 * 1.0000001
    ("fmul", 0xC0200000, 0x40800000, 0xC1200000),  # -2.5 * 4
    ("fmul", 0x00000000, 0xC0400000, 0x80000000),  # 0 * -3
    ("fmul", 0x60AD78EC, 0x60AD78EC, 0x7F800000),  # 1e+20 * 1e+20
    ("fmul", 0xE0AD78EC, 0x60AD78EC, 0xFF800000),  # -1e+20 * 1e+20
    ("fmul", 0x1E3CE508, 0x1E3CE508, 0x00000000),  # 9.9999997e-21 * 9.9999997e-21
    ("fmul", 0x9E3CE508, 0x1E3CE508, 0x80000000),  # -9.9999997e-21 * 9.9999997e-21
    ("fmul", 0x21FFFFFF, 0x1E000000, 0x00800000),  # 1.7347234e-18 * 6.7762636e-21
    ("fmul", 0x21FFFFFE, 0x1E000000, 0x00000000),  # 1.7347233e-18 * 6.7762636e-21
    ("fmul", 0x7F7FFFFF, 0x3F800000, 0x7F7FFFFF),  # 3.4028235e+38 * 1
    ("fmul", 0x3FFFFFFF, 0x3FFFFFFF, 0x407FFFFE),  # 1.9999999 * 1.9999999
    ("fmul", 0x00400000, 0x7149F2CA, 0x00000000),  # 5.8774718e-39 * 1e+30
    ("fdiv", 0x3F800000, 0x40400000, 0x3EAAAAAB),  # 1 / 3
    ("fdiv", 0x40000000, 0x40400000, 0x3F2AAAAB),  # 2 / 3
    ("fdiv", 0xBF800000, 0x40400000, 0xBEAAAAAB),  # -1 / 3
    ("fdiv", 0x3F800000, 0x00000000, 0x00000000),  # 1 / 0
    ("fdiv", 0xBF800000, 0x80000000, 0x00000000),  # -1 / -0
    ("fdiv", 0x00000000, 0x40A00000, 0x00000000),  # 0 / 5
    ("fdiv", 0x80000000, 0x40A00000, 0x80000000),  # -0 / 5
    ("fdiv", 0x7149F2CA, 0x0DA24260, 0x7F800000),  # 1e+30 / 1e-30
    ("fdiv", 0x0DA24260, 0x7149F2CA, 0x00000000),  # 1e-30 / 1e+30
    ("fdiv", 0x41200000, 0x40800000, 0x40200000),  # 10 / 4
    ("fdiv", 0x21FFFFFF, 0x61000000, 0x00800000),  # 1.7347234e-18 / 1.4757395e+20
    ("fdiv", 0x43660000, 0x40E00000, 0x42036DB7),  # 230 / 7
    ("fdiv", 0x3F800000, 0x3FFFFFFF, 0x3F000001),  # 1 / 1.9999999
)
# (a, sqrt(a)): both exponent parities, negative -> 0.0, -0 -> -0, subnormal -> 0
SQRT = (
    (0x40000000, 0x3FB504F3),
    (0x40800000, 0x40000000),
    (0x3E800000, 0x3F000000),
    (0x40400000, 0x3FDDB3D7),
    (0xC0800000, 0x00000000),
    (0x80000000, 0x80000000),
    (0x00000000, 0x00000000),
    (0x7F7FFFFF, 0x5F7FFFFF),
    (0x00800000, 0x20000000),
    (0x3FFFFFFF, 0x3FB504F3),
    (0x407FFFFF, 0x3FFFFFFF),
    (0x474EA500, 0x4366008E),
    (0x00000005, 0x00000000),
)
# (a, e, a * 2**e)
MUL2 = (
    (0x3FC00000, 3, 0x41400000),
    (0x3FC00000, -3, 0x3E400000),
    (0x7F7FFFFF, 1, 0x7F800000),
    (0x03800000, -10, 0x00000000),
    (0x83800000, -10, 0x80000000),
    (0x3FFFFFFF, -127, 0x00800000),
    (0x3FFFFFFE, -127, 0x00000000),
    (0xBF800000, 127, 0xFF000000),
    (0x3F800000, -126, 0x00800000),
    (0x00000003, 5, 0x00000000),
)
# (x, float32(x)): ties at 2**24, 2**30 - 1 rounds up
FROM_INT = (
    (0, 0x00000000),
    (1, 0x3F800000),
    (-1, 0xBF800000),
    (16777217, 0x4B800000),
    (16777219, 0x4B800002),
    (1073741823, 0x4E800000),
    (-1073741823, 0xCE800000),
    (123456789, 0x4CEB79A3),
    (-123456789, 0xCCEB79A3),
    (1000, 0x447A0000),
    (-7, 0xC0E00000),
)
# (low word, high word, float32(int64)): 2**60 + 2**36 + 1 needs one correct rounding (via a double it errs)
FROM_I64 = (
    (0x00000000, 0x00000000, 0x00000000),  # 0
    (0x00000001, 0x00000000, 0x3F800000),  # 1
    (0xFFFFFFFF, 0xFFFFFFFF, 0xBF800000),  # -1
    (0xFFFFFFFB, 0xFFFFFFFF, 0xC0A00000),  # -5
    (0x01000001, 0x00000000, 0x4B800000),  # 16777217
    (0x01000003, 0x00000000, 0x4B800002),  # 16777219
    (0xFEFFFFFF, 0xFFFFFFFF, 0xCB800000),  # -16777217
    (0x00000001, 0x00200000, 0x5A000000),  # 9007199254740993
    (0x00000001, 0x10000010, 0x5D800001),  # 1152921573326323713
    (0xFFFFFFFF, 0xEFFFFFEF, 0xDD800001),  # -1152921573326323713
    (0xFFFFFFFF, 0x7FFFFFFF, 0x5F000000),  # 9223372036854775807
    (0x00000000, 0x80000000, 0xDF000000),  # -9223372036854775808
    (0xFFFFFFFF, 0x00000000, 0x4F800000),  # 4294967295
    (0x80000000, 0xFFFFFFFF, 0xCF000000),  # -2147483648
    (0x80000000, 0x00000000, 0x4F000000),  # 2147483648
    (0x142E0400, 0x00000000, 0x4DA17020),  # 338560000
)
# (a, trunc(a) clamped to +-(2**30 - 1))
TO_INT = (
    (0x406CCCCD, 3),
    (0xC06CCCCD, -3),
    (0x3F7FBE77, 0),
    (0x60AD78EC, 1073741823),
    (0xE0AD78EC, -1073741823),
    (0x80000000, 0),
    (0x47F12065, 123456),
    (0x4E000001, 536870976),
    (0x800116C2, 0),

)


def _plain(buf):
    return buf


def _check_binary(wrap):
    f = array("I", [0, 0, 0])
    p = wrap(f)
    for op, a, b, want in BINARY:
        f[0], f[1], f[2] = a, b, 0x5A5A5A5A
        getattr(sf32, op)(p, 2, 0, 1)
        assert f[2] == want, "%s(%08x, %08x) = %08x, want %08x" % (op, a, b, f[2], want)
    f[0], f[1] = 0x3F800000, 0x40400000  # d aliasing an operand
    sf32.fdiv(p, 0, 0, 1)
    assert f[0] == 0x3EAAAAAB


def _check_unary(wrap):
    f = array("I", [0, 0])
    p = wrap(f)
    for a, want in SQRT:
        f[0] = a
        sf32.fsqrt(p, 1, 0)
        assert f[1] == want, "sqrt(%08x) = %08x, want %08x" % (a, f[1], want)
    for a, e, want in MUL2:
        f[0] = a
        sf32.fmul2(p, 1, 0, e)
        assert f[1] == want, "fmul2(%08x, %d) = %08x, want %08x" % (a, e, f[1], want)
    for x, want in FROM_INT:
        sf32conv.from_int(p, 1, x)
        assert f[1] == want, "from_int(%d) = %08x, want %08x" % (x, f[1], want)
    acc = array("I", [0, 0, 0])
    q = wrap(acc)
    for lo, hi, want in FROM_I64:
        acc[1], acc[2] = lo, hi
        sf32conv.from_i64(p, 0, q, 1)
        assert f[0] == want, "from_i64(%08x %08x) = %08x, want %08x" % (hi, lo, f[0], want)
    for a, want in TO_INT:
        f[0] = a
        assert sf32conv.to_int(p, 0) == want, "to_int(%08x)" % a
    for a, neg, ab in ((0x3FC00000, 0xBFC00000, 0x3FC00000), (0x80000000, 0, 0), (0xC1200000, 0x41200000, 0x41200000)):
        f[0] = a
        sf32.fneg(p, 1, 0)
        assert f[1] == neg
        sf32.fabs(p, 1, 0)
        assert f[1] == ab
        sf32.fcopy(p, 1, 0)
        assert f[1] == a


def _check_compare_bytes(wrap):
    # (a, b, fcmp, fsign(a)): -0 == +0, subnormals count as zero
    cases = ((0x3F800000, 0x40000000, -1, 1), (0x40000000, 0x3F800000, 1, 1), (0x80000000, 0, 0, 0),
             (0xBF800000, 0xC0000000, 1, -1), (0x00000001, 0, 0, 0), (0xC0400000, 0x3F800000, -1, -1),
             (0x7F7FFFFF, 0x7F7FFFFE, 1, 1), (0xFF7FFFFF, 0x80800000, -1, -1), (0x80400000, 0x00000003, 0, 0))
    f = array("I", [0, 0])
    p = wrap(f)
    for a, b, c, s in cases:
        f[0], f[1] = a, b
        assert sf32conv.fcmp(p, 0, 1) == c and sf32conv.fcmp(p, 1, 0) == -c and sf32conv.fsign(p, 0) == s, (a, b)
    f[0], f[1] = 0x3FC00000, 0xC0000000
    out = bytearray(14)
    sf32conv.to_be(p, 1, out, 1)
    sf32conv.copy_be(p, 0, 2, out, 5)
    assert bytes(out) == b"\x00\xc0\x00\x00\x00\x3f\xc0\x00\x00\xc0\x00\x00\x00\x00"
    f[0], f[1] = 0x12345678, 0x80FF0001
    sf32conv.copy_be(p, 0, 2, out, 0)
    assert bytes(out[:8]) == b"\x12\x34\x56\x78\x80\xff\x00\x01"


def test_binary_ops():
    _check_binary(_plain)


def test_sqrt_mul2_conversions():
    _check_unary(_plain)


def test_compare_and_big_endian():
    _check_compare_bytes(_plain)


def test_float_array_slots():
    f = array("f", [0.5, 0.25, 0.0, 0.0])
    sf32.fadd(f, 2, 0, 1)
    sf32.fmul(f, 3, 2, 2)
    assert f[2] == 0.75 and f[3] == 0.5625
    f[0] = 230.0
    sf32.fmul2(f, 1, 0, -1)
    assert f[1] == 115.0 and sf32conv.to_int(f, 1) == 115


def test_no_allocation():
    f = array("f", [1.5, -2.25, 0.0, 9.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    acc = array("I", [0xFFFFFFFB, 0xFFFFFFFF])  # -5
    out = bytearray(16)
    r = array("i", [0, 0, 0])
    micropython.heap_lock()
    try:
        sf32.fadd(f, 2, 0, 1)
        sf32.fsub(f, 4, 0, 1)
        sf32.fmul(f, 5, 0, 1)
        sf32.fdiv(f, 6, 3, 0)
        sf32.fsqrt(f, 7, 3)
        sf32.fneg(f, 8, 0)
        sf32.fabs(f, 9, 1)
        sf32.fcopy(f, 10, 3)
        sf32.fmul2(f, 11, 3, 200)  # overflow path
        sf32.fmul(f, 11, 11, 3)  # inf * 9: the shared out-of-range tail
        sf32conv.from_i64(f, 12, acc, 0)
        sf32conv.from_int(f, 0, -123)
        r[0] = sf32conv.fcmp(f, 0, 1)
        r[1] = sf32conv.fsign(f, 1)
        r[2] = sf32conv.to_int(f, 5)
        sf32conv.to_be(f, 3, out, 0)
        sf32conv.copy_be(f, 0, 3, out, 4)
    finally:
        micropython.heap_unlock()
    assert list(f)[2:] == [-0.75, 9.0, 3.75, -3.375, 6.0, 3.0, -1.5, 2.25, 9.0, float("inf"), -5.0] and f[0] == -123.0
    assert list(r) == [-1, -1, -3]
    assert bytes(out) == b"\x41\x10\x00\x00\xc2\xf6\x00\x00\xc0\x10\x00\x00\xbf\x40\x00\x00"


def test_device_words():
    """Under CPython: all vectors again as on a 32-bit MCU (SIGN_BIT negative, ptr32 loads sign-extended).
    The unix port cannot emulate this; host_tests/test_sf32_numpy.py also range-checks every value."""
    if sys.implementation.name != "cpython":
        return

    class Signed(micropython._Ptr):
        def __getitem__(self, i):
            v = self.m[i]
            return v - (1 << 32) if v >> 31 else v

    def wrap(buf):
        return Signed(buf, "I", 0xFFFFFFFF)

    saved = sf32.SIGN_BIT
    sf32.SIGN_BIT = -(1 << 31)
    sf32conv.SIGN_BIT = -(1 << 31)  # the conversions read their own module's global
    try:
        _check_binary(wrap)
        _check_unary(wrap)
        _check_compare_bytes(wrap)
    finally:
        sf32.SIGN_BIT = saved
        sf32conv.SIGN_BIT = saved
