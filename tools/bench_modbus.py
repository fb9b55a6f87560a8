# SPDX-License-Identifier: MIT
# Modbus request-handling benchmark (make bench): FC03 x 125 registers served by this firmware and by the
# micropython-modbus package (PyPI 2.3.7, `umodbus` on the device) in one MicroPython unix run; time and heap.
# Under CPython it fetches that package's sources into build/ and runs itself under micropython.
import sys

N = 500  # requests per timed round
ROUNDS = 11
PKG = "micropython-modbus"
VERSION = "2.3.7"


# ------------------------------------------------------------------------------------------------------------
# MicroPython side: both servers, same request, same register contents, same process
# ------------------------------------------------------------------------------------------------------------
def upy_main(have_theirs):
    import time

    # MicroPython puts this script's folder (tools/) first on sys.path, where tools/firmware.py (the image
    # builder) would shadow the firmware package: the path given in MICROPYPATH decides
    while sys.path and sys.path[0].rstrip("/").endswith("tools"):
        sys.path.pop(0)
    # helper F's firmware-side measurement (best round, gc.mem_alloc per request, one call under heap_lock)
    from firmware.modbus import bench_support as bs

    req = bs.fc03_request(1, 0x0100, 125)
    n = len(req)

    from firmware.meter import Meter
    meter = Meter(None)
    img = meter.regs.image
    for i in range(250):  # a recognisable pattern in 0x0100..0x017C, so both replies can be compared
        img[0x200 + i] = (i * 7 + 3) & 0xFF
    tx = meter.tx
    mine = bytes(tx[:meter.modbus(req, n)])
    res = {"reply_len": len(mine), "ours": bs.measure(meter.modbus, req, n, N, ROUNDS)}

    if have_theirs:
        import umodbus.serial as userial
        from umodbus.serial import ModbusRTU

        class NoWait:
            # the package waits out t3.5 and the transmit time with sleep_us: line timing, not request handling
            ticks_us = time.ticks_us
            ticks_diff = time.ticks_diff

            @staticmethod
            def sleep_us(us):
                pass

        userial.time = NoWait
        slave = ModbusRTU(addr=1, baudrate=115200, pins=(0, 1))
        slave.add_hreg(address=0x0100, value=[(img[0x200 + 2 * i] << 8) | img[0x201 + 2 * i] for i in range(125)])
        itf = slave._itf
        uart = itf._uart
        frame = bytearray(req)
        # the frame as its UART reader would deliver it, without the t3.5 busy-wait of _uart_read_frame
        itf._uart_read_frame = lambda timeout=None: frame

        def theirs(f, k):
            slave.process()
            return len(uart.sent)

        uart.sent = None
        theirs(req, n)
        res["same_reply"] = uart.sent == mine
        res["theirs_reply"] = uart.sent
        res["theirs"] = bs.measure(theirs, req, n, N, ROUNDS)
    print(repr(res))


# ------------------------------------------------------------------------------------------------------------
# CPython side: sources, stubs, run, table
# ------------------------------------------------------------------------------------------------------------
MACHINE_STUB = '''# machine stand-in for the unix port (bench only): a UART that keeps what is written, a Pin that does nothing
class UART:
    def __init__(self, *a, **kw):
        self.sent = None
    def any(self):
        return 0
    def read(self, n=None):
        return None
    def write(self, data):
        self.sent = bytes(data)
        return len(data)
    def flush(self):
        pass
class Pin:
    OUT = 1
    IN = 0
    def __init__(self, *a, **kw):
        pass
    def on(self):
        pass
    def off(self):
        pass
'''


def fetch(build):
    """micropython-modbus sources in build/third_party (pip; its sdist has no setup.py, so pip downloads and
    unpacks it and then gives up: --no-clean keeps the unpacked tree). Returns the directory holding umodbus/."""
    import glob
    import os
    import shutil
    import subprocess
    dest = os.path.join(build, "%s-%s" % (PKG, VERSION))
    if os.path.isfile(os.path.join(dest, "umodbus", "serial.py")):
        return dest
    tmp = os.path.join(build, "pip-tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    env = dict(os.environ, TMPDIR=tmp)
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-clean", "-d", tmp,
                    "%s==%s" % (PKG, VERSION)], env=env, capture_output=True, timeout=300)
    found = glob.glob(os.path.join(tmp, "**", "umodbus", "serial.py"), recursive=True)
    if not found:
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    src = os.path.dirname(found[0])
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    shutil.copytree(src, os.path.join(dest, "umodbus"))
    shutil.rmtree(tmp, ignore_errors=True)
    return dest


def cpython_main():
    import ast
    import os
    import shutil
    import subprocess
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    build = os.path.join(root, "build", "third_party")
    os.makedirs(build, exist_ok=True)
    theirs = fetch(build)
    stubs = os.path.join(build, "stubs")
    os.makedirs(stubs, exist_ok=True)
    with open(os.path.join(stubs, "machine.py"), "w") as f:
        f.write(MACHINE_STUB)
    exe = shutil.which("micropython", path=os.path.dirname(sys.executable)) or shutil.which("micropython")
    if not exe:
        sys.exit("bench_modbus: micropython not found (make setup)")
    # the package's directory first: its `umodbus` must win over nothing else on this path (the CPython umodbus
    # package lives in site-packages, which MicroPython never sees)
    path = ([theirs] if theirs else []) + [stubs, root, os.path.join(root, ".frozen")]
    env = dict(os.environ, MICROPYPATH=":".join(path))
    r = subprocess.run([exe, "-X", "heapsize=4M", os.path.abspath(__file__), "--upy", "1" if theirs else "0"], cwd=root, env=env, capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        sys.exit("bench_modbus: the MicroPython run failed")
    res = ast.literal_eval(r.stdout.strip().splitlines()[-1])
    print("Modbus request handling: FC03, 125 registers from 0x0100 (reply %d bytes), MicroPython unix port, "
          "best of %d rounds of %d requests" % (res["reply_len"], ROUNDS, N))
    o = res["ours"]
    t = res.get("theirs")
    yes = lambda v: "yes" if v else "no (MemoryError)"  # noqa: E731  (a one-line helper)
    rows = [("", "this firmware", "%s %s" % (PKG, VERSION) if t else "%s: not available" % PKG, "")]
    rows.append(("time per request, best round (us)", "%.1f" % o["us"], "%.1f" % t["us"] if t else "",
                 "%.1fx faster" % (t["us"] / o["us"]) if t else ""))
    rows.append(("time per request, median round (us)", "%.1f" % o["us_median"],
                 "%.1f" % t["us_median"] if t else "", "%.1fx faster" % (t["us_median"] / o["us_median"]) if t else ""))
    rows.append(("bytes allocated per request", "%d" % o["bytes"], "%d" % t["bytes"] if t else "", ""))
    rows.append(("runs with the heap locked", yes(o["heap_locked"]), yes(t["heap_locked"]) if t else "", ""))
    if t:
        rows.append(("same reply bytes", "", "yes" if res["same_reply"] else "NO", ""))
    w = [max(len(r[k]) for r in rows) for k in range(4)]
    for r in rows:
        print("  %-*s  %*s  %*s  %s" % (w[0], r[0], w[1], r[1], w[2], r[2], r[3]))
    if t and not res["same_reply"]:
        print("  note: the replies differ: theirs %r" % (res["theirs_reply"],))
    ok = o["bytes"] == 0 and o["heap_locked"] and (not t or t["us"] >= 10 * o["us"])
    print("  goal (>= 10x faster, 0 bytes allocated): %s" % ("met" if ok else "NOT met"))
    return 0


if __name__ == "__main__":
    if sys.implementation.name == "micropython":
        upy_main(len(sys.argv) > 2 and sys.argv[2] == "1")
    else:
        sys.exit(cpython_main())
