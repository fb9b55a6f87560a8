# SPDX-License-Identifier: MIT
# firmware/sf32.py against numpy float32 (IEEE round to nearest even) bit for bit, on seeded random operands:
# through the CPython stand-in, through a simulated 32-bit device, and through the real micropython (viper code).
import os
import subprocess
import sys

import numpy as np
import pytest

import micropython as upy  # the CPython stand-in, registered by conftest
from conftest import MICROPYTHON, ROOT
from firmware import sf32, sf32conv

N = 6000  # random operands per op and run
TINY = np.float32(2.0 ** -126)
OPS2 = ("fadd", "fsub", "fmul", "fdiv")


# ---------------------------------------------------------------- operands
def _bits(rng, n, emin=1, emax=254):
    """Random finite normal float32 bit patterns, exponents uniform in [emin, emax], random sign."""
    s = rng.integers(0, 2, n, dtype=np.uint32) << np.uint32(31)
    e = rng.integers(emin, emax + 1, n).astype(np.uint32) << np.uint32(23)
    m = rng.integers(0, 1 << 23, n, dtype=np.uint32)
    return s | e | m


def operands(op, seed, n=N):
    """Pairs (a, b) as uint32 bits: broad magnitudes, close exponents, near-equal values, ties, zeros."""
    rng = np.random.default_rng(seed)
    q = n // 5
    a = _bits(rng, n)
    b = _bits(rng, n)
    # close exponents (alignment shifts 0..30), both signs
    ea = (a[q:2 * q] >> np.uint32(23)) & np.uint32(255)
    de = rng.integers(-30, 31, q)
    eb = np.clip(ea.astype(np.int64) + de, 1, 254).astype(np.uint32)
    b[q:2 * q] = (b[q:2 * q] & np.uint32(0x807FFFFF)) | (eb << np.uint32(23))
    # near-equal magnitudes: massive cancellation in add/sub, quotients near 1
    k = slice(2 * q, 3 * q)
    b[k] = (a[k] & np.uint32(0x7FFFFFFF)) + rng.integers(-40, 41, q).astype(np.int64).astype(np.uint32)
    b[k] |= rng.integers(0, 2, q, dtype=np.uint32) << np.uint32(31)
    # few mantissa bits: exact results and exact halfway cases
    k = slice(3 * q, 4 * q)
    few = np.uint32(0xFFFFF000)
    a[k] &= few
    b[k] &= few
    if op in ("fmul", "fdiv"):  # results around the overflow and the underflow edge
        for k, edge in ((slice(4 * q, 4 * q + q // 2), 254), (slice(4 * q + q // 2, 5 * q), 1)):
            cnt = k.stop - k.start
            ea = ((a[k] >> np.uint32(23)) & np.uint32(255)).astype(np.int64)
            jit = rng.integers(-2, 3, cnt)
            # result exponent: ea + eb - 127 (fmul), ea - eb + 127 (fdiv)
            eb = edge + 127 - ea + jit if op == "fmul" else ea + 127 - edge + jit
            b[k] = (b[k] & np.uint32(0x807FFFFF)) | (np.clip(eb, 1, 254).astype(np.uint32) << np.uint32(23))
    b = np.where((b >> np.uint32(23)) & np.uint32(255) == 255, a, b).astype(np.uint32)  # no inf/NaN operands
    a[:8] = [0, 0x80000000, 0x00000001, 0x807FFFFF, 0x3F800000, 0x3F800000, 0, 0x80000000]
    b[:8] = [0x80000000, 0x80000000, 0x3F800000, 0x00400000, 0xBF800000, 0x00000007, 0, 0x3F800000]
    return a, b


# ---------------------------------------------------------------- the reference: numpy with DAZ/FTZ
def _f(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def _ftz(v):
    v = np.asarray(v, dtype=np.float32)
    return np.where(np.abs(v) < TINY, np.copysign(np.float32(0), v), v).astype(np.float32)


def expected(op, a, b):
    """Expected result bits (uint32) of op on operand bits a, b (b: exponent shift for fmul2)."""
    x = _ftz(_f(a))
    with np.errstate(all="ignore"):
        if op == "fmul2":
            r = np.ldexp(x, np.asarray(b, dtype=np.int32))
            assert r.dtype == np.float32
        elif op == "fsqrt":
            r = np.where(x < 0, np.float32(0), np.sqrt(x))
        else:
            y = _ftz(_f(b))
            if op == "fdiv":
                r = np.where(y == 0, np.float32(0), x / np.where(y == 0, np.float32(1), y))
            else:
                r = {"fadd": np.add, "fsub": np.subtract, "fmul": np.multiply}[op](x, y)
    return _ftz(r).view(np.uint32)


# ---------------------------------------------------------------- running sf32 under CPython
def run_cpython(op, a, b, wrap=None):
    """Run op on every pair through the stand-in; wrap(buffer) may supply a device-like ptr32."""
    n = len(a)
    buf = np.concatenate([a, b if op not in ("fmul2",) else np.zeros(n, np.uint32), np.zeros(n, np.uint32)])
    p = wrap(buf) if wrap else buf
    fn = getattr(sf32, op)
    for i in range(n):
        if op == "fsqrt":
            fn(p, 2 * n + i, i)
        elif op == "fmul2":
            fn(p, 2 * n + i, i, int(b[i]))
        else:
            fn(p, 2 * n + i, i, n + i)
    return buf[2 * n:].copy()


def _check(op, got, a, b):
    want = expected(op, a, b)
    bad = np.nonzero(got != want)[0]
    msg = ["%s(%08x, %08x) -> %08x, want %08x" % (op, a[i], b[i] & 0xFFFFFFFF, got[i], want[i]) for i in bad[:8]]
    assert not len(bad), "%d mismatches:\n%s" % (len(bad), "\n".join(msg))


@pytest.mark.parametrize("op", OPS2)
def test_binary_ops_match_numpy(op):
    a, b = operands(op, seed=sum(map(ord, op)))
    _check(op, run_cpython(op, a, b), a, b)


def test_fsqrt_matches_numpy():
    a, _ = operands("fsqrt", 7)
    a[-200:] &= np.uint32(0x3FFFFFFF)  # around 1..4: both exponent parities, roots near 1 and 2
    _check("fsqrt", run_cpython("fsqrt", a, a), a, a)


def test_fmul2_matches_numpy_ldexp():
    rng = np.random.default_rng(3)
    a = _bits(rng, N)
    e = rng.integers(-300, 301, N).astype(np.int64)
    e[: N // 2] = rng.integers(-40, 41, N // 2)
    a[:4] = [0x3FFFFFFF, 0xBFFFFFFF, 0x3FFFFFFE, 0x7F7FFFFF]
    e[:4] = [-127, -127, -127, 1]  # the round-up band below 2**-126, its edge, and overflow
    _check("fmul2", run_cpython("fmul2", a, e), a, e)


def _i64_cases(rng, n):
    bits = rng.integers(0, 64, n)
    v = [int(rng.integers(0, 1 << 62)) >> (62 - int(k)) if k < 62 else int(rng.integers(0, 1 << 62)) << 1 | 1
         for k in bits]
    v = [x if s else -x for x, s in zip(v, rng.integers(0, 2, n))]
    v += [0, 1, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 24 + 1, 2 ** 24 + 3, -(2 ** 24 + 1), 2 ** 53 + 1, 2 ** 60 + 2 ** 36 + 1,
          -(2 ** 60 + 2 ** 36 + 1), 2 ** 40 - 1, 2 ** 32, 2 ** 32 - 1, -2 ** 32, 2 ** 31, -2 ** 31, 0xFFFFFF, 0x1FFFFFF]
    return [max(min(x, 2 ** 63 - 1), -2 ** 63) for x in v]


def _exact_f32(x):
    """Independent reference: round the integer x to float32 with integer arithmetic (ties to even)."""
    s, x = (x < 0), abs(x)
    if x == 0:
        return 0
    k = x.bit_length() - 24  # x = m * 2**k with m of 24 bits
    if k <= 0:
        m = x << -k
    else:
        m, rem = x >> k, x & ((1 << k) - 1)
        if 2 * rem > (1 << k) or (2 * rem == (1 << k) and m & 1):
            m += 1
    if m >> 24:
        m, k = m >> 1, k + 1
    return (s << 31) | ((127 + 23 + k) << 23) | (m & 0x7FFFFF)


def test_from_i64_matches_numpy():
    v = _i64_cases(np.random.default_rng(11), 3000)
    acc = np.array(v, dtype=np.int64).view(np.uint32)  # little-endian: low word first
    out = np.zeros(len(v), np.uint32)
    for i in range(len(v)):
        sf32conv.from_i64(out, i, acc, 2 * i)
    want = np.array(v, dtype=np.int64).astype(np.float32).view(np.uint32)
    assert np.array_equal(out, want)
    assert [int(w) for w in out] == [_exact_f32(x) for x in v]


def test_from_int_to_int_compare_sign_match_numpy():
    rng = np.random.default_rng(5)
    xs = [int(x) for x in rng.integers(-(2 ** 30) + 1, 2 ** 30, 2000)]
    xs += [int(x) for x in rng.integers(-3000, 3000, 500)] + [2 ** 30 - 1, -(2 ** 30), 2 ** 24 + 1, 0]
    out = np.zeros(len(xs), np.uint32)
    for i, x in enumerate(xs):
        sf32conv.from_int(out, i, x)
    assert np.array_equal(out, np.array(xs, dtype=np.int64).astype(np.float32).view(np.uint32))
    a, b = operands("fcmp", 9)
    a[-100:], b[-100:] = a[-200:-100], a[-200:-100] ^ np.uint32(1 << 31)  # x vs -x
    buf = np.concatenate([a, b])
    xa, xb = [float(v) for v in _ftz(_f(a))], [float(v) for v in _ftz(_f(b))]
    n = len(a)
    for i in range(n):
        assert sf32conv.fcmp(buf, i, n + i) == (xa[i] > xb[i]) - (xa[i] < xb[i])
        assert sf32conv.fsign(buf, i) == (xa[i] > 0) - (xa[i] < 0)
        t = np.trunc(xa[i])
        assert sf32conv.to_int(buf, i) == int(max(min(t, 2 ** 30 - 1), -(2 ** 30 - 1)))


def test_copy_be_matches_big_endian_bytes():
    a = _bits(np.random.default_rng(2), 64)
    out = bytearray(4 * 64 + 3)
    sf32conv.copy_be(a, 0, 64, out, 3)
    assert bytes(out[3:]) == a.view(np.float32).astype(">f4").tobytes()


# ---------------------------------------------------------------- a simulated 32-bit device under CPython
class _I32(int):
    """An int that must stay a signed 32-bit word through every operation (the device's viper int)."""


def _checked(name):
    op = getattr(int, name)

    def f(self, *o):
        r = op(int(self), *o)
        if r is NotImplemented or not -(1 << 31) <= r < (1 << 31):
            raise OverflowError("%s%r on a 32-bit word gives %r" % (name, (int(self),) + o, r))
        return _I32(r)

    return f


for _n in ("add", "sub", "mul", "lshift", "rshift", "and", "or", "xor"):
    setattr(_I32, "__%s__" % _n, _checked("__%s__" % _n))
    setattr(_I32, "__r%s__" % _n, _checked("__r%s__" % _n))
_I32.__neg__ = _checked("__neg__")


class _DevicePtr32(upy._Ptr):
    """ptr32 with the device's loads: sign-extended 32-bit words whose arithmetic is range-checked."""

    def __getitem__(self, i):
        v = self.m[i]
        return _I32(v - (1 << 32) if v >> 31 else v)

    def __setitem__(self, i, v):
        self.m[i] = int(v) & 0xFFFFFFFF  # the store keeps the word: not an arithmetic operation


def test_device_words_same_bits_and_int32_range(monkeypatch):
    """SIGN_BIT as on a 32-bit MCU, signed loads; every value derived from a load and every int local traced
    must fit in a signed 32-bit word (locals cover the values built from literals alone)."""
    monkeypatch.setattr(sf32, "SIGN_BIT", -(1 << 31))
    monkeypatch.setattr(sf32conv, "SIGN_BIT", -(1 << 31))  # the conversions read their own module's global
    worst = [0, 0]

    def local(frame, event, arg):
        for v in frame.f_locals.values():
            if type(v) is int:
                worst[0], worst[1] = min(worst[0], v), max(worst[1], v)
        return local

    def tracer(frame, event, arg):
        return local if frame.f_code.co_filename.endswith(("sf32.py", "sf32conv.py")) else None

    def dev(buf):
        return _DevicePtr32(buf, "I", 0xFFFFFFFF)

    results = {}
    sys.settrace(tracer)
    try:
        for op in OPS2 + ("fsqrt",):
            a, b = operands(op, 100 + len(op), 600)
            results[op] = (run_cpython(op, a, b, dev), a, b)
        v = _i64_cases(np.random.default_rng(4), 300)
        acc = np.array(v, dtype=np.int64).view(np.uint32)
        out = np.zeros(len(v), np.uint32)
        for i in range(len(v)):
            sf32conv.from_i64(dev(out), i, dev(acc), 2 * i)
        cmp = [(sf32conv.fcmp(dev(acc), i, i + 1), sf32conv.to_int(dev(acc), i), sf32conv.fsign(dev(acc), i)) for i in range(50)]
        be = bytearray(4 * len(acc))
        sf32conv.copy_be(dev(acc), 0, len(acc), be, 0)
    finally:
        sys.settrace(None)
    for op, (got, a, b) in results.items():
        _check(op, got, a, b)
    assert np.array_equal(out, np.array(v, dtype=np.int64).astype(np.float32).view(np.uint32))
    monkeypatch.undo()
    assert cmp == [(sf32conv.fcmp(acc, i, i + 1), sf32conv.to_int(acc, i), sf32conv.fsign(acc, i)) for i in range(50)]
    assert bytes(be) == acc.view(np.float32).astype(">f4").tobytes()
    assert -(1 << 31) <= worst[0] and worst[1] < (1 << 31), worst


# ---------------------------------------------------------------- the same random batch under the real micropython
_UPY_SCRIPT = r"""
import sys
sys.path.insert(0, '.')
import micropython
from array import array
from firmware import sf32, sf32conv
d = sys.argv[1]
for op in sys.argv[2:]:
    with open(d + '/' + op + '.in', 'rb') as fh:
        buf = bytearray(fh.read())
    n = len(buf) // 12
    fn = getattr(sf32conv if op == 'from_i64' else sf32, op)
    ints = array('i', buf[4 * n:8 * n])
    i = 0
    micropython.heap_lock()
    if op == 'fsqrt':
        while i < n:
            fn(buf, 2 * n + i, i)
            i += 1
    elif op == 'fmul2':
        while i < n:
            fn(buf, 2 * n + i, i, ints[i])
            i += 1
    elif op == 'from_i64':
        while i < n:
            fn(buf, 2 * n + i, buf, 2 * i)
            i += 1
    else:
        while i < n:
            fn(buf, 2 * n + i, i, n + i)
            i += 1
    micropython.heap_unlock()
    with open(d + '/' + op + '.out', 'wb') as fh:
        fh.write(buf[8 * n:])
print('OK')
"""


@pytest.mark.skipif(not MICROPYTHON, reason="micropython not installed")
def test_random_batch_under_micropython(tmp_path):
    batch = {}
    for op in OPS2 + ("fsqrt", "fmul2"):
        a, b = operands(op, 1000 + len(op) * 7 + ord(op[1]))
        if op == "fmul2":
            b = np.random.default_rng(8).integers(-60, 61, len(a)).astype(np.int32).view(np.uint32)
        batch[op] = (a, b)
    v = _i64_cases(np.random.default_rng(12), N // 2)
    words = np.array(v, dtype=np.int64).view(np.uint32)  # 2 words per value fill the a and b sections
    batch["from_i64"] = (words[: len(v)], words[len(v):])
    for op, (a, b) in batch.items():
        (np.concatenate([a, b, np.zeros(len(a), np.uint32)]).astype("<u4")).tofile(str(tmp_path / (op + ".in")))
    script = tmp_path / "run_sf32.py"
    script.write_text(_UPY_SCRIPT)
    cmd = [MICROPYTHON, "-X", "heapsize=8M", str(script), str(tmp_path)] + list(batch)
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.stdout.strip().endswith("OK"), r.stdout + r.stderr
    for op, (a, b) in batch.items():
        got = np.fromfile(str(tmp_path / (op + ".out")), dtype="<u4")
        if op == "from_i64":
            assert np.array_equal(got, np.array(v, dtype=np.int64).astype(np.float32).view(np.uint32))
        else:
            _check(op, got, a, b.view(np.int32) if op == "fmul2" else b)
