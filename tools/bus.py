# SPDX-License-Identifier: MIT
# A simulated RS485 bus: several meters (each its own firmware process and generator) with different addresses on
# one line, one pty for the master. Every meter sees every frame; only the addressed one answers. See docs/bus.md.
import argparse
import json
import os
import signal
import sys
import threading

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools import scenario as _scenario  # noqa: E402  (after the sys.path set-up)
from tools.sim import Sim, parse_speed  # noqa: E402  (after the sys.path set-up)
from tools.simrelay import BAUD, FRAME_GAP, PtyLine  # noqa: E402  (after the sys.path set-up)


class Bus:
    """start() -> pty path; state() -> dict; quit() (orderly power-down of every meter); close()."""

    def __init__(self, addresses, scenario=None, runtime="micropython", speed=1.0, serial_link=None,
                 state_dir=None, frame_gap=FRAME_GAP, baud=BAUD, log=None, fw_stderr=None):
        if len(set(addresses)) != len(addresses) or not all(1 <= a <= 247 for a in addresses):
            raise ValueError("addresses must be distinct, 1..247: %r" % (addresses,))
        self.addresses = list(addresses)
        self.line = PtyLine(serial_link, frame_gap, baud, voters=len(self.addresses))  # each meter answers each frame
        self.meters = []
        for k, a in enumerate(self.addresses):
            sd = os.path.join(state_dir, "meter-%d" % a) if state_dir else None
            self.meters.append(Sim(scenario, runtime=runtime, speed=speed, state_dir=sd, seed=k, log=log,
                                   fw_stderr=fw_stderr, line=self.line))

    @property
    def pty(self):
        return self.line.path

    def start(self, timeout=30.0):
        """Spawn every meter, give each its address, then connect the line. Returns the pty path."""
        self.line.open()
        try:
            for sim in self.meters:
                sim.start(timeout)
            replies = [sim.setting("Adr", a) for sim, a in zip(self.meters, self.addresses)]
            for a, r in zip(self.addresses, replies):
                if not r.wait(timeout) or r.error:
                    raise RuntimeError("meter %d: address not set: %s" % (a, r.error or "no answer"))
        except (RuntimeError, SystemExit):
            self.close()
            raise
        fmt = self.meters[0].fw.line_fmt
        if fmt is not None:
            self.line.configure(fmt)  # the pty starts at the first meter's settings
        self.line.start(self._fanout)
        return self.line.path

    def _fanout(self, frame):
        # the wire: every receiver gets the same bytes (read at its own settings); each meter's firmware decides
        # whether the frame is its own, and answers the line either way (a reply or silence), so the line knows
        # when two replies collided
        for sim in self.meters:
            sim.frame(frame)

    def state(self, timeout=10.0):
        """The line's counters and each meter's state JSON (address, frames, runtime counters...)."""
        replies = [sim.submit("state") for sim in self.meters]
        meters = []
        for r in replies:
            r.wait(timeout)
            meters.append(json.loads(r.text) if r.text and r.error is None else {"error": r.error})
        return {"pty": self.line.path, "line": dict(self.line.stats), "meters": meters}

    def quit(self, timeout=20.0):
        """Orderly power-down of every meter. True when all said bye and exited with status 0."""
        for sim in self.meters:
            sim.request_quit()
        ok = True
        for sim in self.meters:
            rc = sim.wait_exit(timeout)
            ok = ok and sim.bye and rc == 0
        return ok

    def close(self):
        for sim in self.meters:
            sim.close()
        self.line.close()


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.bus", description="Several simulated meters on one RS485 "
                                 "line (one pty). stdin commands: state (one JSON line), quit.")
    ap.add_argument("--meters", type=int, default=8, help="how many meters (default %(default)d)")
    ap.add_argument("--first-address", type=int, default=1, help="address of the first meter; the others follow")
    ap.add_argument("--scenario", help="scenario for every meter (JSON file or name in tools/scenarios)")
    ap.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    ap.add_argument("--speed", type=parse_speed, default=1.0, help="simulated/wall time ratio, or max")
    ap.add_argument("--serial-link", help="make this path a symlink to the line's pty")
    ap.add_argument("--state-dir", help="simulated flash: one subdirectory meter-ADDRESS per meter")
    ap.add_argument("--frame-gap", type=float, default=FRAME_GAP * 1000, help="ms of silence that ends a frame")
    ap.add_argument("--baud", type=int, default=BAUD, help="the line's baud rate until the meters report theirs")
    a = ap.parse_args(argv)
    if a.meters < 1 or a.first_address < 1 or a.first_address + a.meters - 1 > 247:
        ap.error("--meters/--first-address: addresses must lie in 1..247")
    try:
        scn = _scenario.load(a.scenario) if a.scenario else None
    except (OSError, ValueError) as e:
        ap.error("--scenario: %s" % e)
    bus = Bus(range(a.first_address, a.first_address + a.meters), scn, a.runtime, a.speed, a.serial_link,
              a.state_dir, a.frame_gap / 1000.0, a.baud)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        pty = bus.start()
    except RuntimeError as e:
        sys.stderr.write("bus: %s\n" % e)
        return 1
    sys.stdout.write("READY %s\n" % pty)
    sys.stdout.flush()

    def commands():
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "state":
                sys.stdout.write(json.dumps(bus.state()) + "\n")
                sys.stdout.flush()
            elif cmd == "quit":
                break
            elif cmd:
                sys.stdout.write("ERR unknown command %r (state, quit)\n" % cmd)
                sys.stdout.flush()
        else:
            return  # stdin EOF: keep running until SIGTERM, like the sim
        stop.set()

    threading.Thread(target=commands, daemon=True).start()
    while not stop.wait(0.2):
        pass
    ok = bus.quit()
    bus.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
