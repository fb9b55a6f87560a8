# SPDX-License-Identifier: MIT
# The simulator's firmware process: spawns boards/sim/main.py under micropython or python3 and speaks the message
# protocol over its stdin/stdout (docs/ARCHITECTURE.md, "Sim process protocol"; docs/sim.md).
import collections
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time

from boards.sim import proto
from boards.sim.proto import message

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAIN = os.path.join(ROOT, "boards", "sim", "main.py")
QUEUE_DEPTH = 4  # messages buffered ahead of the firmware pipe: bounds Modbus latency at --speed max
PIPE_BYTES = 16384  # the firmware's stdin pipe: one 12.8 kB block and change


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
    """The answer to one command, completed in command order. kind: lcd, state, fb, bye, set or None (no
    output)."""

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
        if self.kind in ("state", "fb"):
            return self.text
        return None


class Firmware:
    """The firmware process. Messages go through `out` (a bounded queue) to its stdin; its `M` replies go to
    on_frame(bytes, seq), `T` answers complete the Replies registered with expect() in order, `E` lines go to log.

    Every `M` frame gets exactly one `M` back (empty: no reply): note_frame(seq) before queueing a frame, and the
    reply is handed on with that seq (the line's request number). `L` tells the meter's line settings (line_fmt, a
    tools.wire.Format; on_format(fmt) is called on each change)."""

    def __init__(self, runtime="micropython", state_dir=None, meter=None, fw_stderr=None, log=None, on_frame=None):
        self.runtime = runtime
        self.state_dir = state_dir
        self.meter = meter
        self.fw_stderr = fw_stderr
        self.log = log
        self.on_frame = on_frame
        self.out = queue.Queue(QUEUE_DEPTH)  # messages for the firmware's stdin, in order
        self.pending = collections.deque()  # replies waiting for a T, in the order their C/Q were sent
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.exited = threading.Event()  # the process ended (stdout EOF)
        self.bye = False
        self.ready_info = b""  # the R message's payload
        self.proc = None
        self.frame_seqs = collections.deque()  # the seq of each frame sent, in order, until its M comes back
        self.line_fmt = None  # the meter's UART settings (tools.wire.Format) once it told them
        self.on_format = None

    def note_frame(self, seq):
        """A frame for request seq is about to be queued (in the order frames are queued)."""
        self.frame_seqs.append(seq)

    def start(self, timeout=30.0):
        """Spawn the process and wait for its `R`. RuntimeError (process killed) when it does not come."""
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
                self.kill()
                raise RuntimeError("firmware did not signal ready (exit status %s)" % self.proc.poll())

    def expect(self, reply):
        """Register a reply for the next `T` (call right before queueing its C or Q message)."""
        with self.lock:
            self.pending.append(reply)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # like a power cut: stdin EOF would do the same
            self.proc.wait()

    def wait_exit(self, timeout=20.0):
        """Wait for the process to end after a Q; kill it if it hangs. Returns its exit status."""
        if not self.exited.wait(timeout):
            self.log("sim: firmware did not power down in %g s: killed" % timeout)
            self.proc.kill()
        try:
            return self.proc.wait(5)
        except subprocess.TimeoutExpired:
            return None

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
            hdr = r.read(proto.HEADER)
            if len(hdr) < proto.HEADER:
                break
            n = proto.length(hdr)
            payload = r.read(n)
            if len(payload) < n:
                break
            kind = hdr[0]
            if kind == proto.READY:
                self.ready_info = payload
                self.ready.set()
            elif kind == proto.FRAME:
                self._reply(payload)
            elif kind == proto.LINE:
                self._format(payload)
            elif kind == proto.TEXT:
                self._answer(payload.decode("utf-8", "replace"))
            elif kind == proto.ERROR:
                self.log("firmware: " + payload.decode("utf-8", "replace"))
            elif self._extra(kind, payload):
                pass
            else:
                self.log("sim: protocol error: message type %r from the firmware (a stray print?)" % chr(kind))
                self.proc.kill()
                break
        self.proc.wait()
        self.exited.set()
        with self.lock:
            while self.pending:
                self.pending.popleft().done(error="firmware exited (status %s)" % self.proc.returncode)

    def _reply(self, payload):
        seq = self.frame_seqs.popleft() if self.frame_seqs else None
        if self.on_frame is not None:
            self.on_frame(payload, seq)

    def _format(self, payload):
        from tools import wire

        try:
            baud, code = payload.split()
            fmt = wire.Format.parse(int(baud), int(code))
        except (ValueError, IndexError):
            self.log("sim: line settings the launcher cannot read: %r" % payload)
            return
        self.line_fmt = fmt
        if self.on_format is not None:
            self.on_format(fmt)

    def _extra(self, kind, payload):
        """A message kind this process speaks beyond R M T E (tools/simchip.py: G, F). True if handled."""
        return False

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
