# SPDX-License-Identifier: MIT
# Simulator launcher: runs the firmware process (tools/simproc.py), feeds it generator samples at a paced speed,
# relays Modbus RTU through a pty line (tools/simrelay.py) and takes commands. See docs/sim.md. The rp2040 runtime
# runs the meter's UF2 on the emulated RP2040 instead (tools/simchip.py): it paces itself and pulls its samples.
import argparse
import json
import os
import queue
import signal
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools import generator as _generator  # noqa: E402  (after the sys.path set-up)
from tools import scenario as _scenario  # noqa: E402  (after the sys.path set-up)
from boards.sim import proto  # noqa: E402  (after the sys.path set-up)
from tools import wire  # noqa: E402  (after the sys.path set-up)
from tools.simproc import Firmware, Reply, message  # noqa: E402  (after the sys.path set-up)
from tools.simrelay import BAUD, FRAME_GAP, PtyLine, owner_lock, stamp_owner  # noqa: E402  (after the sys.path set-up)
from boards.sim.board import BLOCK  # noqa: E402  (after the sys.path set-up)  samples per S message
from firmware.frontend import SAMPLE_RATE as RATE  # noqa: E402  (after the sys.path set-up)  samples/s per channel
from firmware.ui.pages import KEYS  # noqa: E402  (after the sys.path set-up)

# settings a scenario gives the meter (the wiring and the transformers); comms settings stay the meter's own
WIRING = ("SYSS", "Un", "In", "Pt_U", "Ct_I")
# --terminal's Modbus line: a symlink in the current directory to the pty (whose number changes every run)
TERMINAL_LINK = "ttyKPM53"


class Sim:
    """One simulated meter: firmware process, generator pump, pty line. start(), submit(line), quit().

    line: a PtyLine shared with other meters (tools/bus.py); the owner opens, starts and closes it. Without it the
    meter gets its own line on a new pty (at serial_link if given)."""

    def __init__(self, scenario=None, runtime="micropython", speed=1.0, state_dir=None, serial_link=None,
                 seed=0, fw_stderr=None, log=None, meter=None, frame_gap=FRAME_GAP, baud=BAUD, line=None,
                 chip_main=None):
        self.scenario_obj = _scenario.parse(scenario if scenario is not None else _scenario.DEFAULT)
        # an explicit scenario sets the meter's wiring; without one the meter keeps its stored configuration
        self.apply_wiring = scenario is not None
        self.gen = _generator.Generator(self.scenario_obj, sample_rate=RATE, seed=seed)
        self.runtime = runtime
        self.speed = speed  # float, or None for max
        self.state_dir = os.path.abspath(state_dir) if state_dir else None
        self.meter = meter
        self.log = log or (lambda text: sys.stderr.write(text + "\n"))
        self.own_line = line is None
        self.line = PtyLine(serial_link, frame_gap, baud) if line is None else line
        if runtime == "rp2040":
            from tools.simchip import Chip

            self.fw = Chip(self.state_dir, fw_stderr, lambda text: self.log(text), self._reply, speed=speed,  # noqa: PLW0108  (self.log may be replaced later)
                           scenario=self.scenario_obj, seed=seed, main=chip_main)
        else:
            self.fw = Firmware(runtime, self.state_dir, meter, fw_stderr, lambda text: self.log(text),  # noqa: PLW0108  (self.log may be replaced later)
                               self._reply)
        self.fw.on_format = self._format
        self.samples = 0  # samples sent to the firmware: the simulated clock
        self.inbox = queue.Queue()  # commands and Modbus frames, in arrival order, for the pump
        self.quitting = False
        self.stopping = False
        self.threads = []

    # the firmware process and the line, under the names the terminal and older callers use
    pty = property(lambda self: self.line.path)
    link = property(lambda self: self.line.link)
    proc = property(lambda self: self.fw.proc)
    exited = property(lambda self: self.fw.exited)
    ready = property(lambda self: self.fw.ready)
    bye = property(lambda self: self.fw.bye)
    relay_stats = property(lambda self: self.line.stats)

    # --- start-up -----------------------------------------------------------------------------------------
    def start(self, timeout=None):
        """Open the pty, spawn the firmware, wait for `R`, start relaying and pacing. Returns the pty path.
        rp2040: also waits for the emulated meter's answer to a Modbus request (booting takes seconds)."""
        if timeout is None:
            timeout = 180.0 if self.runtime == "rp2040" else 30.0
        if self.state_dir:
            os.makedirs(self.state_dir, exist_ok=True)
            self._lock_state_dir()
        if self.own_line:
            self.line.open()
        try:
            self.fw.start(timeout)
        except RuntimeError:
            self.close()
            raise
        if self.own_line:
            self.line.start(self.frame)  # the pty is at the meter's settings already (_format)
        self.threads = [threading.Thread(target=self._pump, daemon=True)]
        for t in self.threads:
            t.start()
        return self.pty

    def _lock_state_dir(self):
        """One meter per flash: a second simulator on the same --state-dir would interleave its writes with the
        first one's (a configuration write lost, records mixed). flock on STATE_DIR/.lock, held until exit."""
        f, owner = owner_lock(os.path.join(self.state_dir, ".lock"))
        if f is None:
            raise RuntimeError("the state directory %s is in use by another simulated meter (pid %s): stop it "
                               "first, or give this one its own --state-dir (make run STATE=DIR)"
                               % (self.state_dir, owner))
        stamp_owner(f)
        self._lockfile = f  # kept open: the lock lasts as long as this process

    def frame(self, data):
        """A Modbus frame as the line delimited it (request number line.rx_seq, sent in the master's format
        line.rx_fmt): what the meter's UART reads of it goes to the firmware, in order with samples and commands.
        A meter at other settings than the master's reads garbage (tools/wire.py), or nothing at all."""
        seq, sent = self.line.rx_seq, self.line.rx_fmt
        fmt = self.fw.line_fmt
        if fmt is not None and not fmt.same_reading(sent):
            data = wire.meter_reads(data, sent, fmt)
            if not data:
                self.line.write(b"", seq, fmt)  # heard nothing: silence, as far as the line is concerned
                return
        self.inbox.put((("frame", data, seq), Reply()))

    def _format(self, fmt):
        if self.own_line and self.line.master is not None and self.line.thread is None:
            self.line.configure(fmt)  # start-up: the pty starts at the meter's settings (docs/sim.md, "The line")

    def _reply(self, data, seq):
        """The firmware's answer to request seq (b"": none), sent in the meter's settings."""
        self.line.write(data, seq, self.fw.line_fmt)

    def setting(self, name, value):
        """Set one parameter as at the panel (`C set NAME VALUE`); the Reply completes with ok or an error."""
        reply = Reply("set", waiting=True)
        self.inbox.put((("set", name, value), reply))
        return reply

    # --- commands -----------------------------------------------------------------------------------------
    def submit(self, line):
        """Queue one command line (the headless syntax). Returns its Reply; syntax errors come back done."""
        words = line.split()
        if not words:
            return Reply()
        cmd, args = words[0], words[1:]
        if cmd in ("lcd", "state", "fb") and not args:
            item = (cmd,)
        elif cmd == "key" and len(args) == 1 and args[0] in KEYS:
            item = ("K", message(proto.KEY, args[0].encode()))
        elif cmd == "di" and len(args) == 2 and args[0] in ("1", "2") and args[1] in ("on", "off"):
            item = ("D", message(proto.DI, bytes([int(args[0]), args[1] == "on"])))
        elif cmd == "di" and len(args) == 3 and args[0] in ("1", "2") and args[1] == "pulse" and args[2].isdigit():
            item = ("pulse", int(args[0]), int(args[2]))  # closed for MS ms of sample time, then open (bounce)
        elif cmd == "scenario" and len(args) == 1:
            try:
                item = ("scenario", _scenario.load(args[0]))
            except (OSError, ValueError) as e:
                return Reply(error="scenario: %s" % e)
        elif cmd == "quit" and not args:
            item = ("quit",)
        elif cmd in ("key", "di", "scenario", "lcd", "state", "fb", "quit"):
            return Reply(error="usage: key left|up|down|right|enter, di 1|2 on|off|pulse MS, scenario FILE, lcd, fb, "
                               "state, quit (got %r)" % line.strip())
        else:
            return Reply(error="unknown command %r" % cmd)
        # completed by the pump or the firmware, in order (a scenario the generator refuses shows there)
        reply = Reply(cmd if cmd in ("lcd", "state", "fb") else ("bye" if cmd == "quit" else None), waiting=True)
        self.inbox.put((item, reply))
        return reply

    def request_quit(self):
        """Orderly power-down (SIGTERM, q in the terminal): Q, wait for bye. Safe from a signal handler."""
        self.inbox.put((("quit",), Reply("bye", waiting=True)))

    def wait_exit(self, timeout=None):
        """Wait for the firmware process to end after a quit; kill it if it hangs (after 20 s, 60 s for the
        rp2040 runtime). Returns its exit status."""
        return self.fw.wait_exit() if timeout is None else self.fw.wait_exit(timeout)

    def close(self):
        self.stopping = True
        self.fw.kill()
        for t in self.threads:
            t.join(1.0)
        if self.own_line:
            self.line.close()
        lock = getattr(self, "_lockfile", None)
        if lock is not None:  # the state directory is free again (the firmware process is gone)
            self._lockfile = None
            lock.close()

    # --- pump: the only producer of firmware messages, so commands stay in order with the samples ---------
    def _facts(self):
        if self.runtime == "rp2040":  # the chip's simulated time; its ADC model pulls the samples
            facts = {"time_s": self.fw.time_s, "samples": int(self.fw.time_s * RATE), "chip": self.fw.facts()}
        else:
            facts = {"time_s": self.samples / RATE, "samples": self.samples}
        facts.update({
                "speed": "max" if self.speed is None else self.speed, "pty": self.pty, "link": self.link,
                "scenario": self.gen.scenario.name, "runtime": self.runtime, "pid": self.proc.pid,
                "relay": dict(self.line.stats),
                "line": {"meter": None if self.fw.line_fmt is None else str(self.fw.line_fmt),
                         "master": str(self.line.master_format()[0]), "users": self.line.users}})
        return facts

    def _put(self, msg):
        while not self.stopping and not self.fw.exited.is_set():
            try:
                self.fw.out.put(msg, timeout=0.1)
                return True
            except queue.Full:
                pass
        return False

    def _handle(self, item, reply):
        kind = item[0]
        if self.quitting:
            reply.done(error="shutting down") if kind != "quit" else reply.done()
            return
        if kind == "frame":
            self.fw.note_frame(item[2])
            self._put(message(proto.FRAME, item[1]))
        elif kind == "set":
            reply.facts = item[1]
            self.fw.expect(reply)
            self._put(message(proto.COMMAND, ("set %s %d" % (item[1], item[2])).encode()))
        elif kind in ("K", "D"):
            self._put(item[1])
            reply.done()
        elif kind == "pulse" and self.runtime == "rp2040":
            self.fw.di_pulse(item[1], item[2])  # the emulated pin, timed by the chip
            reply.done()
        elif kind == "pulse":  # D on, exactly MS ms of samples, D off: a contact bounce between two blocks
            n = item[2] * RATE // 1000
            self._put(message(proto.DI, bytes([item[1], 1])))
            if n and self._put(message(proto.SAMPLES, self.gen.block(n))):
                self.samples += n
            self._put(message(proto.DI, bytes([item[1], 0])))
            reply.done()
        elif kind == "scenario":
            try:
                self.gen.set_scenario(item[1])
            except ValueError as e:
                reply.done(error="scenario: %s" % e)
                return
            if self.runtime == "rp2040":  # the emulator's feeder switches (time and phase run on)
                self._put(message(proto.SCENARIO, json.dumps(self.gen.scenario.to_dict()).encode()))
            self._wiring(self.gen.scenario)
            reply.done()
        elif kind in ("lcd", "state", "fb", "quit"):
            reply.facts = self._facts()
            self.fw.expect(reply)
            if kind == "quit":
                self.quitting = True
                self._put(message(proto.QUIT))
            else:
                self._put(message(proto.COMMAND, kind.encode()))

    def _wiring(self, scn):
        for name in WIRING:
            r = Reply("set", waiting=True)
            r.facts = name
            self.fw.expect(r)
            self._put(message(proto.COMMAND, ("set %s %d" % (name, scn.settings[name])).encode()))

    def _drain(self, timeout):
        try:
            item = self.inbox.get(timeout=timeout) if timeout > 0 else self.inbox.get_nowait()
        except queue.Empty:
            return
        while True:
            self._handle(*item)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                return

    def _block(self):
        data = self.gen.block(BLOCK)
        if self._put(message(proto.SAMPLES, data)):
            self.samples += BLOCK

    def _pump(self):
        if self.apply_wiring:
            self._wiring(self.gen.scenario)  # before the first sample
        period = None if self.speed is None else BLOCK / RATE / self.speed
        next_t = time.monotonic()
        while not self.stopping and not self.fw.exited.is_set():
            if self.quitting or self.runtime == "rp2040":  # the chip's ADC model pulls its own samples
                self._drain(0.1)  # answer late commands; no more samples after Q
                continue
            if period is None:
                self._drain(0)
                if not self.quitting:
                    self._block()  # blocks in _put while the pipe is full: the firmware's pace
                continue
            now = time.monotonic()
            if now >= next_t:
                self._block()
                next_t += period
                if now - next_t > 1.0:
                    next_t = now  # the firmware fell behind by over 1 s: resynchronise, do not burst
            else:
                self._drain(next_t - now)


def parse_speed(text):
    if text == "max":
        return None
    v = float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError("speed must be > 0 or max")
    return v


def headless(sim):
    """stdin commands -> replies on stdout, in order. stdin EOF does not stop the meter (SIGTERM/quit do)."""
    printer = queue.Queue()

    def emit(text):
        try:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            pass

    def print_loop():
        while True:
            r = printer.get()
            if r is None:
                return
            r.wait()
            text = r.output()
            if text is not None:
                emit(text)

    def stdin_loop():
        # os.read, not sys.stdin: a daemon thread blocked inside sys.stdin's lock breaks interpreter shutdown
        rest = b""
        while True:
            try:
                data = os.read(0, 4096)
            except OSError:
                return
            if not data:
                return  # EOF: keep running
            rest += data
            while b"\n" in rest:
                line, rest = rest.split(b"\n", 1)
                printer.put(sim.submit(line.decode("utf-8", "replace")))

    out = threading.Thread(target=print_loop, daemon=True)
    out.start()
    threading.Thread(target=stdin_loop, daemon=True).start()
    while not sim.exited.wait(0.2):
        pass
    printer.put(None)
    out.join(2.0)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.sim", description="Simulated KPM53-class meter")
    ap.add_argument("--scenario", help="scenario JSON file or name in tools/scenarios (default: balanced "
                                       "220 V, 5 A, 30 degrees lag, 50 Hz)")
    ap.add_argument("--runtime", choices=("micropython", "cpython", "rp2040"), default="micropython",
                    help="rp2040: the UF2 (build/pico/firmware.uf2) on the emulated RP2040 (docs/device.md)")
    ap.add_argument("--serial-link", metavar="PATH",
                    help="make PATH a symlink to the Modbus pty (default with --terminal: ./%s; none: no link)"
                         % TERMINAL_LINK)
    ap.add_argument("--state-dir", help="the simulated flash (kept across restarts)")
    ap.add_argument("--speed", type=parse_speed, default=1.0, help="simulated/wall time ratio, or max")
    ap.add_argument("--seed", type=int, default=0, help="generator noise seed")
    ap.add_argument("--frame-gap", type=float, default=FRAME_GAP * 1000,
                    help="ms of line silence that ends a Modbus frame (default %(default)g)")
    ap.add_argument("--baud", type=int, default=BAUD,
                    help="the line's baud rate (8N1) until the meter reports its own settings, which a meter "
                         "double may never do: the pty's start settings and the reply hold (default %(default)d)")
    ap.add_argument("--meter", help="MODULE:CLASS to run instead of firmware.meter:Meter (test doubles; the "
                                    "module is found on MICROPYPATH/PYTHONPATH)")
    ap.add_argument("--chip-main", metavar="FILE.py",
                    help="rp2040: run this MicroPython main loop instead of board.run() (booted in service mode, "
                         "sent through the raw REPL; tests)")
    ap.add_argument("--headless", action="store_true", help="commands on stdin (the default without --terminal)")
    ap.add_argument("--terminal", action="store_true", help="interactive LCD and keys (make run)")
    a = ap.parse_args(argv)
    try:
        scn = _scenario.load(a.scenario) if a.scenario else None
    except (OSError, ValueError) as e:
        ap.error("--scenario: %s" % e)
    link = a.serial_link
    if link is None and a.terminal:
        link = TERMINAL_LINK
    if link in ("none", ""):
        link = None
    fw_log = None
    if a.terminal:
        import tempfile
        fw_log = tempfile.NamedTemporaryFile("w+b", prefix="kpm53-sim-", suffix=".log", delete=False)
    sim = Sim(scn, runtime=a.runtime, speed=a.speed, state_dir=a.state_dir, serial_link=link, seed=a.seed,
              fw_stderr=fw_log, meter=a.meter, frame_gap=a.frame_gap / 1000.0,
              baud=a.baud, chip_main=a.chip_main)
    if a.terminal:
        from tools import terminal
        return terminal.run(sim, fw_log.name)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):  # SIGHUP: the terminal went away
        signal.signal(sig, lambda *_: sim.request_quit())
    try:
        pty = sim.start()
    except RuntimeError as e:
        sys.stderr.write("sim: %s\n" % e)
        sim.close()
        return 1
    sys.stdout.write("READY %s\n" % pty)
    sys.stdout.flush()
    headless(sim)
    rc = sim.wait_exit()
    sim.close()
    if not sim.bye:
        sys.stderr.write("sim: the firmware stopped without an orderly power-down (status %s)\n" % rc)
        return 1
    return 0 if rc == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
