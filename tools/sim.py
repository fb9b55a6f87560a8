# Simulator launcher: runs boards/sim/main.py (MicroPython or CPython) as the meter, feeds it generator samples
# at a paced speed, relays Modbus RTU between a pty and the firmware, and takes commands. See docs/sim.md.
import argparse
import collections
import json
import os
import queue
import select
import shutil
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
import tty

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from tools import generator as _generator  # noqa: E402
from tools import scenario as _scenario  # noqa: E402

RATE = 8000  # samples/s per channel (firmware/frontend.py SAMPLE_RATE)
BLOCK = 400  # samples per S message: 50 ms (boards/sim/board.py BLOCK)
FRAME_GAP = 0.004  # s of line silence that ends a Modbus frame on the pty (stands in for t3.5, see docs/sim.md)
QUEUE_DEPTH = 4  # messages buffered ahead of the firmware pipe: bounds Modbus latency at --speed max
PIPE_BYTES = 16384  # the firmware's stdin pipe: one 12.8 kB block and change
KEYS = ("left", "up", "down", "right", "enter")
# settings a scenario gives the meter (the wiring and the transformers); comms settings stay the meter's own
WIRING = ("SYSS", "Un", "In", "Pt_U", "Ct_I")
MAIN = os.path.join(ROOT, "boards", "sim", "main.py")


def message(kind, payload=b""):
    return kind + struct.pack("<I", len(payload)) + payload


def firmware_argv(runtime, state_dir, meter=None):
    """Command line and environment that run the sim board under `runtime` (micropython|cpython)."""
    env = dict(os.environ)
    if runtime == "micropython":
        exe = shutil.which("micropython", path=os.path.dirname(sys.executable)) or shutil.which("micropython")
        if not exe:
            raise SystemExit("sim: micropython not found (run make setup), or use --runtime cpython")
        env["MICROPYPATH"] = ":".join([ROOT, ".frozen"] + ([env["MICROPYPATH"]] if env.get("MICROPYPATH") else []))
        argv = [exe, MAIN]
    elif runtime == "cpython":
        env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "tools", "upy_compat"), ROOT]
                                            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        argv = [sys.executable, MAIN]
    else:
        raise ValueError("runtime: micropython or cpython, got %r" % runtime)
    if state_dir:
        argv.append(state_dir)
    if meter:
        argv.append("--meter=" + meter)
    return argv, env


class Reply:
    """The answer to one command, completed in command order. kind: lcd, state, bye or None (no output)."""

    def __init__(self, kind=None, error=None, waiting=False):
        self.kind = kind
        self.text = None
        self.error = error
        self.facts = None
        self._ev = threading.Event()
        if not waiting:
            self._ev.set()

    def done(self, text=None, error=None):
        self.text, self.error = text, error
        self._ev.set()

    def wait(self, timeout=None):
        return self._ev.wait(timeout)

    def output(self):
        """What headless mode prints: None, one ERR line, the LCD text and '.', or one JSON line."""
        if self.error is not None:
            return "ERR " + self.error
        if self.kind == "lcd":
            return self.text + "\n."
        if self.kind == "state":
            return self.text
        return None


class Sim:
    """One simulated meter: firmware process, generator pump, pty relay. start(), submit(line), quit()."""

    def __init__(self, scenario=None, runtime="micropython", speed=1.0, state_dir=None, serial_link=None,
                 seed=0, fw_stderr=None, log=None, meter=None, frame_gap=FRAME_GAP):
        self.scenario_obj = _scenario.parse(scenario if scenario is not None else _scenario.DEFAULT)
        # an explicit scenario sets the meter's wiring; without one the meter keeps its stored configuration
        self.apply_wiring = scenario is not None
        self.gen = _generator.Generator(self.scenario_obj, sample_rate=RATE, seed=seed)
        self.runtime = runtime
        self.speed = speed  # float, or None for max
        self.state_dir = os.path.abspath(state_dir) if state_dir else None
        self.link = serial_link
        self.meter = meter
        self.frame_gap = frame_gap  # s of line silence that ends a frame
        self.fw_stderr = fw_stderr
        self.log = log or (lambda text: sys.stderr.write(text + "\n"))
        self.pty = None
        self.samples = 0  # samples sent to the firmware: the simulated clock
        self.inbox = queue.Queue()  # commands and Modbus frames, in arrival order, for the pump
        self.out = queue.Queue(QUEUE_DEPTH)  # messages for the firmware's stdin, in order
        self.pending = collections.deque()  # replies waiting for a T, in the order their C/Q were sent
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.exited = threading.Event()  # the firmware process ended (stdout EOF)
        self.quitting = False
        self.bye = False
        self.stopping = False
        self.relay_stats = {"frames_in": 0, "bytes_in": 0, "frames_out": 0, "dropped_out": 0}
        self.proc = None
        self.master = self.slave = None
        self.threads = []

    # --- start-up -----------------------------------------------------------------------------------------
    def start(self, timeout=30.0):
        """Open the pty, spawn the firmware, wait for `R`, start relaying and pacing. Returns the pty path."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # binary frames pass intact: no echo, no CR/LF translation
        os.set_blocking(self.master, False)  # a master nobody reads from must not stall replies
        self.pty = os.ttyname(self.slave)
        if self.link:
            if os.path.lexists(self.link):
                os.remove(self.link)
            os.symlink(self.pty, self.link)
        if self.state_dir:
            os.makedirs(self.state_dir, exist_ok=True)
        argv, env = firmware_argv(self.runtime, self.state_dir, self.meter)
        # own session: a Ctrl-C in the terminal reaches the launcher only, which then powers down in order
        self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.fw_stderr, start_new_session=True)
        try:  # a small pipe keeps few blocks ahead of a Modbus frame at --speed max (Linux F_SETPIPE_SZ)
            import fcntl
            fcntl.fcntl(self.proc.stdin.fileno(), 1031, PIPE_BYTES)
        except (ImportError, OSError):
            pass
        for fn in (self._reader, self._writer):
            threading.Thread(target=fn, daemon=True).start()
        t_end = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if self.exited.is_set() or time.monotonic() > t_end:
                self.close()
                raise RuntimeError("firmware did not signal ready (exit status %s)" % self.proc.poll())
        self.threads = [threading.Thread(target=fn, daemon=True) for fn in (self._relay, self._pump)]
        for t in self.threads:
            t.start()
        return self.pty

    # --- commands -----------------------------------------------------------------------------------------
    def submit(self, line):
        """Queue one command line (the headless syntax). Returns its Reply; syntax errors come back done."""
        words = line.split()
        if not words:
            return Reply()
        cmd, args = words[0], words[1:]
        if cmd in ("lcd", "state") and not args:
            item = (cmd,)
        elif cmd == "key" and len(args) == 1 and args[0] in KEYS:
            item = ("K", message(b"K", args[0].encode()))
        elif cmd == "di" and len(args) == 2 and args[0] in ("1", "2") and args[1] in ("on", "off"):
            item = ("D", message(b"D", bytes([int(args[0]), args[1] == "on"])))
        elif cmd == "scenario" and len(args) == 1:
            try:
                item = ("scenario", _scenario.load(args[0]))
            except (OSError, ValueError) as e:
                return Reply(error="scenario: %s" % e)
        elif cmd == "quit" and not args:
            item = ("quit",)
        elif cmd in ("key", "di", "scenario", "lcd", "state", "quit"):
            return Reply(error="usage: key left|up|down|right|enter, di 1|2 on|off, scenario FILE, lcd, state, "
                               "quit (got %r)" % line.strip())
        else:
            return Reply(error="unknown command %r" % cmd)
        # completed by the pump or the firmware, in order (a scenario the generator refuses shows there)
        reply = Reply(cmd if cmd in ("lcd", "state") else ("bye" if cmd == "quit" else None), waiting=True)
        self.inbox.put((item, reply))
        return reply

    def request_quit(self):
        """Orderly power-down (SIGTERM, q in the terminal): Q, wait for bye. Safe from a signal handler."""
        self.inbox.put((("quit",), Reply("bye", waiting=True)))

    def wait_exit(self, timeout=20.0):
        """Wait for the firmware process to end after a quit; kill it if it hangs. Returns its exit status."""
        if not self.exited.wait(timeout):
            self.log("sim: firmware did not power down in %g s: killed" % timeout)
            self.proc.kill()
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            return None

    def close(self):
        self.stopping = True
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # like a power cut: stdin EOF would do the same
            self.proc.wait()
        for t in self.threads:
            t.join(1.0)  # the relay must be out of select/read before its fds close
        if self.link and os.path.islink(self.link) and os.readlink(self.link) == self.pty:
            os.remove(self.link)
        for fd in (self.master, self.slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self.slave = None

    # --- pump: the only producer of firmware messages, so commands stay in order with the samples ---------
    def _facts(self):
        return {"time_s": self.samples / RATE, "samples": self.samples,
                "speed": "max" if self.speed is None else self.speed, "pty": self.pty, "link": self.link,
                "scenario": self.gen.scenario.name, "runtime": self.runtime, "pid": self.proc.pid,
                "relay": dict(self.relay_stats)}

    def _put(self, msg):
        while not self.stopping and not self.exited.is_set():
            try:
                self.out.put(msg, timeout=0.1)
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
            self._put(message(b"M", item[1]))
        elif kind in ("K", "D"):
            self._put(item[1])
            reply.done()
        elif kind == "scenario":
            try:
                self.gen.set_scenario(item[1])
            except ValueError as e:
                reply.done(error="scenario: %s" % e)
                return
            self._wiring(self.gen.scenario)
            reply.done()
        elif kind in ("lcd", "state", "quit"):
            reply.facts = self._facts()
            with self.lock:
                self.pending.append(reply)
            if kind == "quit":
                self.quitting = True
                self._put(message(b"Q"))
            else:
                self._put(message(b"C", kind.encode()))

    def _wiring(self, scn):
        for name in WIRING:
            r = Reply("set", waiting=True)
            r.facts = name
            with self.lock:
                self.pending.append(r)
            self._put(message(b"C", ("set %s %d" % (name, scn.settings[name])).encode()))

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
        if self._put(message(b"S", data)):
            self.samples += BLOCK

    def _pump(self):
        if self.apply_wiring:
            self._wiring(self.gen.scenario)  # before the first sample
        period = None if self.speed is None else BLOCK / RATE / self.speed
        next_t = time.monotonic()
        while not self.stopping and not self.exited.is_set():
            if self.quitting:
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

    # --- pipes to the firmware ----------------------------------------------------------------------------
    def _writer(self):
        w = self.proc.stdin
        while True:
            msg = self.out.get()
            try:
                w.write(msg)
                w.flush()
            except (BrokenPipeError, OSError, ValueError):
                return

    def _reader(self):
        r = self.proc.stdout
        while True:
            hdr = r.read(5)
            if len(hdr) < 5:
                break
            n = struct.unpack("<I", hdr[1:])[0]
            payload = r.read(n)
            if len(payload) < n:
                break
            kind = hdr[:1]
            if kind == b"R":
                self.ready.set()
            elif kind == b"M":
                self._line_write(payload)
            elif kind == b"T":
                self._answer(payload.decode("utf-8", "replace"))
            elif kind == b"E":
                self.log("firmware: " + payload.decode("utf-8", "replace"))
            else:
                self.log("sim: protocol error: message type %r from the firmware (a stray print?)" % kind)
                self.proc.kill()
                break
        self.proc.wait()
        self.exited.set()
        with self.lock:
            while self.pending:
                self.pending.popleft().done(error="firmware exited (status %s)" % self.proc.returncode)

    def _answer(self, text):
        with self.lock:
            reply = self.pending.popleft() if self.pending else None
        if reply is None:
            self.log("sim: unexpected text from the firmware: %r" % text)
        elif text.startswith("ERR "):
            if reply.kind == "set":
                self.log("sim: scenario setting %s not applied: %s" % (reply.facts, text[4:]))
            reply.done(error="firmware: " + text[4:])
        elif reply.kind == "state":
            try:
                d = json.loads(text)
                d.setdefault("time_s", reply.facts["time_s"])
                d["sim"] = reply.facts
                reply.done(json.dumps(d))
            except ValueError as e:
                reply.done(error="firmware state is not JSON: %s" % e)
        else:
            if reply.kind == "bye":
                self.bye = text == "bye"
            reply.done(text)

    # --- the RS485 line: a pty --------------------------------------------------------------------------
    def _line_write(self, data):
        try:
            os.write(self.master, data)
            self.relay_stats["frames_out"] += 1
        except (BlockingIOError, OSError, TypeError):
            self.relay_stats["dropped_out"] += 1  # nobody reading the line: the bytes are lost, as on RS485

    def _relay(self):
        buf = bytearray()
        while not self.stopping and self.master is not None:
            try:
                ready = select.select([self.master], [], [], self.frame_gap if buf else 0.2)[0]
            except (OSError, ValueError):
                return
            if not ready:
                if buf:  # the line went quiet: the frame is complete
                    self.relay_stats["frames_in"] += 1
                    self.inbox.put((("frame", bytes(buf)), Reply()))
                    buf = bytearray()
                continue
            try:
                data = os.read(self.master, 4096)
            except BlockingIOError:
                continue
            except OSError:
                time.sleep(0.05)  # EIO: no reader/writer on the slave side right now
                continue
            if not buf and self.slave is not None:
                # a new request: drop any reply the master never read (it timed out), as a master's flush would
                termios.tcflush(self.slave, termios.TCIFLUSH)
            buf += data
            self.relay_stats["bytes_in"] += len(data)


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
    ap.add_argument("--runtime", choices=("micropython", "cpython"), default="micropython")
    ap.add_argument("--serial-link", help="make this path a symlink to the Modbus pty")
    ap.add_argument("--state-dir", help="the simulated flash (kept across restarts)")
    ap.add_argument("--speed", type=parse_speed, default=1.0, help="simulated/wall time ratio, or max")
    ap.add_argument("--seed", type=int, default=0, help="generator noise seed")
    ap.add_argument("--frame-gap", type=float, default=FRAME_GAP * 1000,
                    help="ms of line silence that ends a Modbus frame (default %(default)g)")
    ap.add_argument("--meter", help="MODULE:CLASS to run instead of firmware.meter:Meter (test doubles; the "
                                    "module is found on MICROPYPATH/PYTHONPATH)")
    ap.add_argument("--headless", action="store_true", help="commands on stdin (the default without --terminal)")
    ap.add_argument("--terminal", action="store_true", help="interactive LCD and keys (make run)")
    a = ap.parse_args(argv)
    try:
        scn = _scenario.load(a.scenario) if a.scenario else None
    except (OSError, ValueError) as e:
        ap.error("--scenario: %s" % e)
    fw_log = None
    if a.terminal:
        import tempfile
        fw_log = tempfile.NamedTemporaryFile("w+b", prefix="kpm53-sim-", suffix=".log", delete=False)
    sim = Sim(scn, runtime=a.runtime, speed=a.speed, state_dir=a.state_dir, serial_link=a.serial_link, seed=a.seed,
              fw_stderr=fw_log, meter=a.meter, frame_gap=a.frame_gap / 1000.0)
    if a.terminal:
        from tools import terminal
        return terminal.run(sim, fw_log.name)
    signal.signal(signal.SIGTERM, lambda *_: sim.request_quit())
    signal.signal(signal.SIGINT, lambda *_: sim.request_quit())
    try:
        pty = sim.start()
    except RuntimeError as e:
        sys.stderr.write("sim: %s\n" % e)
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
