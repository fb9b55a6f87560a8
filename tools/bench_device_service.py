# SPDX-License-Identifier: MIT
# Where Meter.service's longest calls go on the emulated RP2040: make bench-device's guest (tools/device/
# bench_meter.py, same signal, requests, keys and scenario switches) with the parts service() calls wrapped by
# cycle-counting shims (instance attributes over the frozen methods), printing each service call over --over ms
# with its parts, nested calls included (a part's figure contains those it calls):
#   .venv/bin/python -m tools.bench_device_service --seconds 120 [--over 8]
import argparse
import os
import sys
import tempfile

from tools import bench_device as bd
from tools import emu

# (object path under the meter, method) pairs timed; store and journal internals too
TARGETS = (
    ("diag", "service"), ("calib", "service"), ("config", "save"), ("ledger", "service"), ("maxmin", "service"),
    ("alarms", "service"), ("iolog", "service"), ("journal", "watch"), ("demand", "service"),
    ("regs", "refresh_config"), ("metering", "configure"), ("calib", "publish"), ("analog", "configure"),
    ("ledger", "configure"), ("demand", "configure"), ("demand", "restart"), ("io", "set_mode"),
    ("alarms", "wiring"), ("pq", "configure"), ("alarms", "drive"),
    ("store", "save"), ("store", "_rotate"), ("store", "_erase"), ("store", "_same"), ("store", "_append"),
    ("journal", "add"), ("journal", "publish"), ("journal.log", "log"),
)

HOOK = '''
_TN = %r
_TC = array("i", [0] * len(_TN))  # cycles of the current service call per target
_TK = array("i", [0] * len(_TN))  # calls


def _wrap(obj, name, i):
    f = getattr(obj, name)

    def w(*a, **kw):
        t0 = cyc()
        try:
            return f(*a, **kw)
        finally:
            _TC[i] += (cyc() - t0) & MASK
            _TK[i] += 1
    setattr(obj, name, w)


for _i, (_p, _n) in enumerate(_TN):
    _o = meter
    for _a in _p.split("."):
        _o = getattr(_o, _a)
    _wrap(_o, _n, _i)
_ser = meter.on_serial


def _serial(a, b):
    t0 = cyc()
    _ser(a, b)
    print("R on_serial cycles=%%d" %% ((cyc() - t0) & MASK))


if _ser is not None:
    meter.on_serial = _serial
OVER = %d


def _svc_report(s, b, d):
    if d > OVER:
        print("R slow s=%%d b=%%d cycles=%%d " %% (s, b, d) + " ".join(
            "%%s.%%s=%%d/%%d" %% (_TN[i][0], _TN[i][1], _TC[i], _TK[i]) for i in range(len(_TN)) if _TK[i]))
    for i in range(len(_TN)):
        _TC[i] = 0
        _TK[i] = 0

'''


def guest(seconds, over_ms):
    text = bd.guest_script(seconds)
    anchor = 'print("R part=construction'
    i = text.index(anchor)
    i = text.index("\n", i) + 1
    text = text[:i] + HOOK % (TARGETS, int(over_ms * 125000)) + text[i:]
    old = "            note(SERVICE, d)\n"
    assert old in text
    text = text.replace(old, old + "            _svc_report(s, b, d)\n")
    # the first service (the start scenario's settings) before the loop: reset the shims' sums after it
    text = text.replace("apply(P[\"settings\"][0])\nmeter.service()\n",
                        "apply(P[\"settings\"][0])\nmeter.service()\n_svc_report(-1, 0, 0)\n")
    return text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=120)
    ap.add_argument("--over", type=float, default=8.0, help="print service calls longer than this (ms)")
    ap.add_argument("--uf2")
    a = ap.parse_args(argv)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(guest(a.seconds, a.over))
        path = f.name
    try:
        code, out, err, st = emu.run([path], uf2=a.uf2, scenarios=bd.SCENARIOS, timeout=4 * 3600,
                                     stream=sys.stderr, adc=True)
    finally:
        os.unlink(path)
    for line in out.splitlines():
        if line.startswith("R slow") or line.startswith("R on_serial") or line.startswith("R step part=service"):
            if line.startswith("R slow"):
                head, _, rest = line.partition(" cycles=")
                cyc, _, parts = rest.partition(" ")
                print("%s %.2f ms" % (head[2:], int(cyc) / 125000.0))
                for p in parts.split():
                    k, v = p.split("=")
                    c, n = v.split("/")
                    print("    %-24s %7.2f ms  x%s" % (k, int(c) / 125000.0, n))
            else:
                print(line[2:])
    if code:
        sys.stderr.write(err)
        return 1
    r = bd.parse(out)
    table, fig = bd.report(r)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
