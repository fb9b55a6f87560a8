# SPDX-License-Identifier: MIT
# Shared start of the tools that run the firmware under micropython or python3 from the repo root (accuracy_upy,
# bench_metering): puts the CPython stand-in for `micropython` on sys.path when needed; ticks_us / ticks_diff.
import sys

try:
    import micropython
except ImportError:
    sys.path.insert(0, "tools/upy_compat")
    import micropython

try:
    from time import ticks_diff, ticks_us
except ImportError:
    from time import perf_counter

    def ticks_us():
        return int(perf_counter() * 1e6)

    def ticks_diff(a, b):
        return a - b
