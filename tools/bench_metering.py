# SPDX-License-Identifier: MIT
# Runs under micropython (or python3) from the repo root. Without arguments: times the sampler kernel and the
# metering updates on one second of 8-channel signal. With FILE [PT CT]: meters int32 LE samples from FILE and
# prints one JSON line per window (the test harness compares them with the truth).
import math
import sys

sys.path.insert(0, ".")
from tools.upy_host import ticks_diff, ticks_us  # first: it puts `micropython` on sys.path
from array import array

from boards.sim.board import BLOCK
from firmware import regmap
from firmware.frontend import SAMPLE_RATE
from firmware.metering import Metering
from firmware.metering_config import ANGLES, OUT
from firmware.sampler import D_READY, Sampler



def _signal(n, f=49.8):
    out = array("i", bytes(32 * n))
    for k in range(n):
        for p in range(3):
            a = 2 * math.pi * f * k / SAMPLE_RATE - 2 * math.pi * p / 3
            out[8 * k + p] = int(2600000 * math.sin(a))
            out[8 * k + 3 + p] = int(1900000 * math.sin(a - 0.5))
        out[8 * k + 6] = out[8 * k + 3] + out[8 * k + 4] + out[8 * k + 5]
    return out


def _blocks(data, n):
    return [data[8 * a:8 * (a + BLOCK)] for a in range(0, n, BLOCK)]


def bench(repeat=5):
    n = SAMPLE_RATE  # one second
    blocks = _blocks(_signal(n), n)
    vals = array("f", [0.0] * regmap.N_MEAS)
    best = None
    for _ in range(repeat):  # kernel only (windows close, metering not called): best of `repeat`
        s = Sampler()
        t0 = ticks_us()
        for b in blocks:
            s.feed(b, BLOCK)
        t = ticks_diff(ticks_us(), t0)
        best = t if best is None or t < best else best
    # metering update alone, on the last window again and again
    m = Metering(vals, s)
    reps = 200
    done = 0
    t0 = ticks_us()
    for _ in range(reps):
        s.done[D_READY] = 1
        done += m.update()
    upd = ticks_diff(ticks_us(), t0) / reps
    if done != reps:
        raise RuntimeError("update skipped the window")
    windows = 1000 / 200.7  # windows per second at 49.8 Hz (10 cycles = 200.8 ms)
    print("one second of 8-channel signal at 49.8 Hz (8000 samples, %.2f windows):" % windows)
    print("  sampler kernel   %8d us  (%.3f us/sample)" % (best, best / n))
    print("  metering update  %8d us per window" % upd)
    print("  total            %8d us  (%.2f%% of real time)" % (best + windows * upd, (best + windows * upd) / 1e4))


def meter_file(path, pt, ct):
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(pt, ct, 0)
    buf = array("i", bytes(32 * BLOCK))
    names = OUT + ANGLES
    slots = [regmap.slot(name) for name in names]
    with open(path, "rb") as f:
        while True:
            got = f.readinto(buf)
            if not got:
                break
            s.feed(buf, got // 32)
            if m.update():
                raw = bytes(vals)
                print("{" + ", ".join('"%s": %r' % (names[k], vals[slots[k]]) for k in range(len(names))) +
                      ', "_raw": "%s"}' % "".join("%02x" % b for b in raw))


if len(sys.argv) > 1:
    meter_file(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
else:
    bench()
