# SPDX-License-Identifier: MIT
# Microbenchmark of firmware/sf32.py: microseconds per call (call overhead included, as the metering pays it).
# Run from the repo root: .venv/bin/micropython tools/bench_sf32.py  (also runs under CPython, via tools/upy_compat)
import sys

sys.path.insert(0, "tools/upy_compat")
sys.path.insert(0, ".")
import time
from array import array

import micropython
from firmware import sf32, sf32conv

N = 20000


@micropython.viper
def _empty(f: ptr32, d: int, a: int, b: int):
    pass


def _ticks():
    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return int(time.perf_counter() * 1e6)


def _loop2(fn, x, y):
    i = 0
    while i < N:
        fn(x, y)
        i += 1


def _loop3(fn, x, y, z):
    i = 0
    while i < N:
        fn(x, y, z)
        i += 1


def _loop4(fn, x, y, z, w):
    i = 0
    while i < N:
        fn(x, y, z, w)
        i += 1


def _loop5(fn, x, y, z, w, v):
    i = 0
    while i < N:
        fn(x, y, z, w, v)
        i += 1


def bench(name, fn, *args):
    loop = (_loop2, _loop3, _loop4, _loop5)[len(args) - 2]
    t0 = _ticks()
    loop(fn, *args)
    us = (_ticks() - t0) / N
    print("%-10s %7.3f us/call" % (name, us))
    return us


def main():
    f = array("f", [1.2345678, 3.1415927, 0.0, 230.0, -2.5e-3, 0.0])
    acc = array("I", [0x89ABCDEF, 0x00001234])
    ff = array("f", [1.0] * 64)
    buf = bytearray(4 * 64)
    print("sf32 benchmark on", sys.implementation.name, sys.platform, "N =", N)
    bench("(empty)", _empty, f, 2, 0, 1)
    for name in ("fadd", "fsub", "fmul", "fdiv"):
        bench(name, getattr(sf32, name), f, 2, 0, 1)
    bench("fsqrt", sf32.fsqrt, f, 2, 3)
    bench("fmul2", sf32.fmul2, f, 2, 0, 3)
    bench("from_int", sf32conv.from_int, f, 2, 123456789)
    bench("from_i64", sf32conv.from_i64, f, 2, acc, 0)
    bench("to_int", sf32conv.to_int, f, 3)
    bench("fcmp", sf32conv.fcmp, f, 0, 1)
    bench("to_be", sf32conv.to_be, f, 0, buf, 0)
    bench("copy_be64", sf32conv.copy_be, ff, 0, 64, buf, 0)


main()
