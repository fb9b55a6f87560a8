# SPDX-License-Identifier: MIT
# Tests of the simulator's runtime loop (boards/sim/main.py) in-process against a recording Meter, exact bytes,
# and under the MicroPython unix port over pipes; plus the terminal's key parsing (tools/terminal.py).
import io
import json
import os
import struct
import subprocess
from array import array

from conftest import MICROPYTHON, ROOT

from boards.sim import main as simmain
from tools import terminal


class FakeMenu:
    """What the runtime's state reads of the panel's menu (firmware/ui/menu.py Menu)."""

    def __init__(self, mode=0, screen=0, group=0, page=0, backlight=True, pages=1):
        self.mode, self.screen, self.group, self.page, self.backlight = mode, screen, group, page, backlight
        self.pages = pages

    def group_len(self):
        return self.pages


class Recorder:
    """A Meter that records its calls, with what the runtime reads of one (firmware/meter.py): the entry points,
    tx, slave.counters, config (line settings), bind_line(on_serial), analog.ua and ui.menu."""

    class config:  # the factory line settings: 9600 baud, 8N1
        @staticmethod
        def get(name):
            return {"baud": 96, "dATA": 0}[name]

    class analog:
        ua = 0

    class ui:
        menu = FakeMenu()

    on_serial = None

    def bind_line(self, on_serial):
        self.on_serial = on_serial

    class _Slave:
        def __init__(self):
            self.counters = array("H", bytes(16))  # FC08 counters (firmware/modbus/slave.py)

    def __init__(self):
        self.tx = bytearray(256)
        self.calls = []
        self.slave = self._Slave()

    def feed(self, block, n):
        self.calls.append(("feed", n, list(block[:8 * n])))

    def modbus(self, frame, n):
        self.calls.append(("modbus", bytes(frame[:n])))
        self.tx[:3] = b"\x01\x02\x03"
        return 3

    def key(self, name):
        self.calls.append(("key", name))

    def di_raw(self, k, on):  # the sim board hands the meter raw switch levels
        self.calls.append(("di", k, on))

    def set(self, name, value):
        self.calls.append(("set", name, value))
        return value < 100

    def tick(self, ms):
        self.calls.append(("tick", ms))

    def lcd_text(self):
        return "L1\nL2"

    def state_json(self):
        return '{"x": 1}'

    def service(self):
        self.calls.append(("service",))

    def power_down(self):
        self.calls.append(("power_down",))


def msg(kind, payload=b""):
    return kind + struct.pack("<I", len(payload)) + payload


def replies(data):
    out = []
    while data:
        n = struct.unpack("<I", data[1:5])[0]
        out.append((data[:1], data[5:5 + n]))
        data = data[5 + n:]
    return out


def after_line(out):
    # every run starts with the meter's line settings (L, before R): the recorders' factory 9600 baud 8N1
    assert out[0] == (b"L", b"9600 0"), out[:1]
    return out[1:]


def run_loop(stream):
    m = Recorder()
    out = io.BytesIO()
    rc = simmain.Runtime(m, io.BytesIO(stream), out).run()
    return m, after_line(replies(out.getvalue())), rc


def test_runtime_dispatch_exact():
    samples = list(range(-8, 8)) + [2 ** 23 - 1, -(2 ** 23)] + [0] * 6  # 3 samples x 8 channels
    frame = bytes([1, 3, 0, 0, 0, 2, 0xC4, 0x0B])
    stream = (msg(b"S", struct.pack("<24i", *samples)) + msg(b"M", frame) + msg(b"K", b"up")
              + msg(b"D", b"\x02\x01") + msg(b"C", b"lcd") + msg(b"C", b"state") + msg(b"Q"))
    m, out, rc = run_loop(stream)
    calls = [c for c in m.calls if c[0] not in ("service", "tick")]
    assert calls == [("feed", 3, samples), ("modbus", frame), ("key", "up"), ("di", 2, True), ("power_down",)]
    assert m.calls.count(("service",)) == 6  # after each message but the last (Q ends the loop)
    assert out[0] == (b"R", b"")
    assert out[1] == (b"M", b"\x01\x02\x03")
    assert out[2] == (b"T", b"L1\nL2")
    st = json.loads(out[3][1])
    assert st["x"] == 1 and st["runtime"]["frames_rx"] == 1 and st["runtime"]["rx_bytes"] == 8
    assert st["runtime"]["blocks"] == 1 and st["runtime"]["frames_tx"] == 1
    assert out[4] == (b"T", b"bye") and len(out) == 5 and rc == 0


class PanelRecorder(Recorder):
    """A Recorder with a panel: render(buf) draws a pattern into the frame buffer it is given; the menu and the
    analog output as the runtime's state reads them."""

    class ui:
        menu = FakeMenu(mode=0, screen=1, group=2, page=3, backlight=False, pages=12)
        bufs = []

        @classmethod
        def render(cls, buf):
            cls.bufs.append(buf)
            for i in range(len(buf)):
                buf[i] = (i * 7 + len(cls.bufs)) & 0xFF

    class analog:
        ua = 12345


def test_runtime_fb_and_panel_state():
    # fb: the frame buffer the panel's render() filled, 1024 bytes as hex, into the same bytearray every time;
    # state: the keys handed to the meter, where the panel is, the backlight, the 4-20 mA output
    m = PanelRecorder()
    m.ui.bufs.clear()
    out = io.BytesIO()
    stream = msg(b"C", b"fb") + msg(b"K", b"up") + msg(b"K", b"down") + msg(b"C", b"fb") + msg(b"C", b"state")
    simmain.Runtime(m, io.BytesIO(stream), out).run()
    r = after_line(replies(out.getvalue()))
    assert [k for k, _ in r] == [b"R", b"T", b"T", b"T"]
    for n, (_, payload) in enumerate(r[1:3]):
        assert payload == bytes((i * 7 + n + 1) & 0xFF for i in range(1024)).hex().encode()
    assert len(m.ui.bufs) == 2 and m.ui.bufs[0] is m.ui.bufs[1] and isinstance(m.ui.bufs[0], bytearray)
    st = json.loads(r[3][1])
    assert st["runtime"]["keys"] == 2 and st["ao_ua"] == 12345 and st["backlight"] is False
    assert st["ui"] == {"mode": 0, "screen": 1, "group": 2, "page": 3, "pages": 12}


def test_runtime_set_and_tick():
    # set NAME VALUE answers ok/ERR; tick gets simulated ms from the sample count, remainders carried
    stream = (msg(b"C", b"set Pt_U 50") + msg(b"C", b"set Pt_U 500") + msg(b"C", b"set x")
              + msg(b"S", bytes(32 * 400)) + msg(b"S", bytes(32 * 3)) + msg(b"S", bytes(32 * 5))
              + msg(b"S", bytes(32 * 4)))
    m, out, rc = run_loop(stream)
    assert [p for k, p in out[1:]] == [b"ok", b"ERR refused Pt_U=500", b"ERR usage: set NAME VALUE"]
    assert [c for c in m.calls if c[0] == "set"] == [("set", "Pt_U", 50), ("set", "Pt_U", 500)]
    assert [c[1] for c in m.calls if c[0] == "tick"] == [50, 1]  # 400 -> 50 ms; 3+5 -> 1 ms; 4 more -> 0.5 ms


def test_runtime_eof_is_a_power_cut():
    # EOF in the middle of a message: stop at once, no power_down, no save
    stream = msg(b"K", b"left") + msg(b"S", struct.pack("<8i", *range(8)))[:20]
    m, out, rc = run_loop(stream)
    assert ("power_down",) not in m.calls
    assert [c for c in m.calls if c[0] not in ("service", "tick")] == [("key", "left")]
    assert out == [(b"R", b"")]


def test_runtime_bad_messages_keep_going():
    stream = (msg(b"X", b"zz") + msg(b"M", bytes(300)) + msg(b"S", bytes(33)) + msg(b"C", b"nope")
              + msg(b"S", bytes(32 * 500)) + msg(b"C", b"state"))
    m, out, rc = run_loop(stream)
    kinds = [k for k, _ in out]
    assert kinds == [b"R", b"E", b"M", b"E", b"T", b"T"]
    assert out[2][1] == b""  # every M gets one M back: empty, no reply
    assert out[4][1].startswith(b"ERR ")
    st = json.loads(out[5][1])["runtime"]
    assert st["frames_dropped"] == 1 and st["frames_rx"] == 0 and st["blocks"] == 1  # the 500-sample block
    assert [c[1] for c in m.calls if c[0] == "feed"] == [500]


class SerialMeter(Recorder):
    """A Recorder whose line settings differ from the factory's and change after a write (on_serial)."""

    class config:
        @staticmethod
        def get(name):
            return {"baud": 192, "dATA": 1}[name]

    changed = False

    def modbus(self, frame, n):
        Recorder.modbus(self, frame, n)
        self.changed = frame[0] == 9
        return 0 if frame[0] == 2 else 3

    def service(self):
        if self.changed:  # as Meter.service() does: new settings take effect after the reply
            self.changed = False
            self.on_serial(38400, 3)


def test_runtime_line_settings_overruns_and_one_reply_per_frame():
    # the meter's line settings at start (before R) and on each on_serial; a frame over 256 bytes is the UART
    # driver's overrun, counted in FC08 0x12 as on a device (firmware/modbus/port.py); every M gets one M back
    m = SerialMeter()
    m.slave.counters[7] = 0
    stream = msg(b"M", bytes(300)) + msg(b"M", b"\x02\x03") + msg(b"M", b"\x09\x03") + msg(b"M", bytes(257))
    out = io.BytesIO()
    simmain.Runtime(m, io.BytesIO(stream), out).run()
    r = replies(out.getvalue())
    assert r == [(b"L", b"19200 1"), (b"R", b""), (b"M", b""), (b"M", b""), (b"M", b"\x01\x02\x03"),
                 (b"L", b"38400 3"), (b"M", b"")]
    assert list(m.slave.counters) == [0, 0, 0, 0, 0, 0, 0, 2]  # the slave itself never saw the long frames
    assert [c[1] for c in m.calls if c[0] == "modbus"] == [b"\x02\x03", b"\x09\x03"]


def test_runtime_under_micropython():
    # the same loop under the unix port, over real pipes
    assert MICROPYTHON
    stream = msg(b"S", struct.pack("<3200i", *range(3200))) + msg(b"K", b"down") + msg(b"C", b"state")
    env = dict(os.environ, MICROPYPATH=ROOT + ":.frozen")
    r = subprocess.run([MICROPYTHON, "boards/sim/main.py"], cwd=ROOT, env=env, input=stream, capture_output=True,
                       timeout=20)
    out = replies(r.stdout)
    assert out[:2] == [(b"L", b"9600 0"), (b"R", b"")] and out[2][0] == b"T", r.stderr.decode()
    st = json.loads(out[2][1])
    assert st["runtime"]["blocks"] == 1 and st["runtime"]["messages"] == 3 and st["time_s"] == 0.05
    assert r.returncode == 0


def test_samples_array_is_reused():
    # the usual block size reads straight into the preallocated array: no per-block buffer
    rt = simmain.Runtime(Recorder(), io.BytesIO(msg(b"S", bytes(32 * 400)) * 2), io.BytesIO())
    first = rt.samples
    assert rt.step() and rt.step()
    assert rt.samples is first and rt.view is first and isinstance(first, array)


def test_terminal_key_parsing():
    acts = terminal.parse_keys(b"\x1b[A\x1b[D\x1bOB\x1b[C\r12x\nq\x03")
    assert acts == [("key", "up"), ("key", "left"), ("key", "down"), ("key", "right"), ("key", "enter"),
                    ("di", 1), ("di", 2), ("key", "enter"), ("quit",), ("quit",)]
