# SPDX-License-Identifier: MIT
# The simulator's terminal as a person meets it (tools/terminal.py): the key decoder (whole escape sequences, none
# split or lost), the 80x24 screen, and the panel driving the real firmware (MicroPython unix port) from a pty:
# a burst of 200 DOWN presses moves the firmware's page by exactly 200, a burst of other keys changes nothing.
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
import tty

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ROOT
from tools import terminal

DOWN = b"\x1b[B"
ENTER = ("key", "enter")

# keys and reports that must do nothing, each with the digits/letters inside that a byte-by-byte reader took for
# DI toggles or quit (F2 = ESC O Q, Home = ESC [ 1 ~, Insert = ESC [ 2 ~, F5 = ESC [ 1 5 ~ ...)
IGNORED = [b"\x1bOP", b"\x1bOQ", b"\x1bOR", b"\x1bOS"]  # F1-F4 (SS3)
IGNORED += [b"\x1b[%d~" % n for n in (11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 23, 24)]  # F1-F12 (CSI)
IGNORED += [b"\x1b[1;2P", b"\x1b[1;5Q", b"\x1b[15;2~", b"\x1b[24;8~", b"\x1bO2Q", b"\x1b[[A", b"\x1b[[E"]
IGNORED += [b"\x1b[H", b"\x1b[F", b"\x1bOH", b"\x1bOF", b"\x1b[1~", b"\x1b[4~", b"\x1b[7~", b"\x1b[8~",  # Home End
            b"\x1b[2~", b"\x1b[3~", b"\x1b[5~", b"\x1b[6~", b"\x1b[3;5~", b"\x1b[1;2H",  # Ins Del PgUp PgDn
            b"\x1b[E", b"\x1bOE", b"\x1b[Z", b"\x1b[I", b"\x1b[O",  # keypad 5, Shift-Tab, focus in/out
            b"\x1b[M 12", b"\x1b[Mq1q", b"\x1b[<0;12;21M", b"\x1b[<0;12;21m", b"\x1b[32;1;2M",  # mouse reports
            b"\x1b[200~q12\r\n\x1b[A\x1b[201~",  # a bracketed paste, its content included
            "é€😀жΩ".encode(), b"\x1bx", b"\x1b1", b"\x1bq", b"\x1bQ",  # UTF-8, Alt+x
            b"\x1b[?1;2c", b"\x1b[12;40R", b"\x1b]0;title\x07", b"\x80\xbf\xff", b"x", b"\t", b"\x7f", b" "]
ARROWS = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left",
          b"\x1bOA": "up", b"\x1bOB": "down", b"\x1bOC": "right", b"\x1bOD": "left",
          b"\x1b[1;5A": "up", b"\x1b[1;2B": "down", b"\x1b[1;3C": "right", b"\x1b[1;8D": "left",
          b"\x1b\x1b[A": "up", b"\x1b\x1bOD": "left"}


def decode(data):
    return terminal.parse_keys(data)


def test_keys_that_count():
    for seq, name in ARROWS.items():
        assert decode(seq) == [("key", name)], seq
    assert decode(b"\r") == decode(b"\n") == decode(b"\r\n") == decode(b"\x1bOM") == [ENTER]
    assert decode(b"\r\r") == decode(b"\n\n") == decode(b"\r\n\r\n") == decode(b"\n\r") == [ENTER, ENTER]
    assert decode(b"12") == [("di", 1), ("di", 2)]
    for q in (b"q", b"Q", b"\x03", b"\x04"):
        assert decode(q) == [("quit",)]


def test_other_keys_are_ignored_whole():
    for seq in IGNORED:
        assert decode(seq) == [], seq
    # between two Downs, each one
    for seq in IGNORED:
        assert decode(DOWN + seq + DOWN) == [("key", "down")] * 2, seq
    assert decode(b"\x1b[200~\x03\x1b[201~") == [("quit",)]  # Ctrl-C quits even inside a paste


def test_lone_esc_waits_then_is_the_esc_key():
    d = terminal.KeyDecoder()
    assert d.feed(b"\x1b", now=10.0) == [] and d.deadline() == 10.0 + terminal.ESC_WAIT
    assert d.expire(10.0 + terminal.ESC_WAIT / 2) == [] and d.pending  # not yet: the rest may still come
    assert d.feed(b"[", now=10.01) == [] and d.deadline() is None  # a CSI has begun: no deadline
    assert d.feed(b"B", now=10.02) == [("key", "down")] and not d.pending
    # Esc alone, then q 1 s later: the Esc key (nothing), then quit
    assert d.feed(b"\x1b", now=20.0) == []
    assert d.expire(20.0 + terminal.ESC_WAIT) == [] and not d.pending
    assert d.feed(b"q", now=21.0) == [("quit",)]
    # Esc and q in one read: Alt+q, nothing
    assert d.feed(b"\x1bq", now=22.0) == []
    # Esc Esc then nothing: both Esc keys; a sequence's tail that comes later still is that sequence
    assert d.feed(b"\x1b\x1b", now=23.0) == [] and d.deadline() == 23.0 + terminal.ESC_WAIT
    d.expire(24.0)
    assert d.feed(b"[15~", now=25.0) == []  # F5: its '1' is no DI toggle
    assert d.feed(b"1", now=26.0) == [("di", 1)]


def test_a_sequence_torn_by_a_slow_line_still_counts():
    d = terminal.KeyDecoder()
    d.feed(b"\x1b", now=0.0)
    d.expire(1.0)
    assert d.feed(b"[B", now=2.0) == [("key", "down")]
    d.feed(b"\x1b", now=3.0)
    d.expire(4.0)
    assert d.feed(b"OQ1", now=5.0) == [("di", 1)]  # F2, then a real 1
    d.feed(b"\x1b", now=6.0)
    d.expire(7.0)
    assert d.feed(b"q", now=8.0) == [("quit",)]


def _corpus():
    out = b""
    for seq in IGNORED:
        out += seq
    for seq in ARROWS:
        out += seq + b"\r\n"
    return out + b"12\r\r\n\n" + b"\x1b[200~abc\r\x1b[201~" + DOWN * 5 + b"q"


def _chunked(data, cuts):
    d = terminal.KeyDecoder()
    out = []
    prev = 0
    for c in sorted(set(cuts)) + [len(data)]:
        out += d.feed(data[prev:c])
        prev = c
    return out, d.buf


def test_split_at_every_byte_position_decodes_identically():
    data = _corpus()
    whole = _chunked(data, [])
    assert whole[0].count(("key", "down")) == 5 + 3 and whole[1] == b""
    for k in range(1, len(data)):
        assert _chunked(data, [k]) == whole, k
    assert _chunked(data, range(1, len(data))) == whole  # one byte a read


TOKENS = list(ARROWS) + IGNORED + [b"\r", b"\n", b"1", b"2", b"q", b"\x03", b"\x1bOM"]


def _expected(tokens):
    out = []
    prev = None
    for t in tokens:
        if t in ARROWS:
            out.append(("key", ARROWS[t]))
        elif t == b"\r" or t == b"\x1bOM" or (t == b"\n" and prev != b"\r"):
            out.append(ENTER)
        elif t in (b"1", b"2"):
            out.append(("di", int(t)))
        elif t in (b"q", b"\x03"):
            out.append(("quit",))
        prev = t
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=40), st.lists(st.integers(0, 2000), max_size=30))
def test_random_key_streams_split_anywhere(tokens, cuts):
    data = b"".join(tokens)
    got, rest = _chunked(data, [c for c in cuts if c < len(data)])
    assert got == _expected(tokens) and rest == b""


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.lists(st.integers(0, 200), max_size=20))
def test_any_bytes_split_anywhere(data, cuts):
    assert _chunked(data, [c for c in cuts if c < len(data)]) == _chunked(data, [])


# --- the screen ----------------------------------------------------------------------------------------------
class FakeSim:
    runtime = "micropython"
    speed = 1.0
    pty = "/dev/pts/123"
    link = "ttyKPM53"

    class gen:
        class scenario:
            name = "default"


def _states():
    yield None
    yield {"time_s": 1.5, "address": 1, "baud": 9600, "data": "8N1", "di": [0, 1], "relays": [1, 0],
           "ao_ua": 12345, "backlight": True, "energy": {"pulses": [3, 0]}}
    yield {"time_s": 123456789.25, "address": 247, "baud": 115200, "data": "8E1", "relays": [1, 1],
           "ao_ua": 24000, "backlight": False}
    yield {"time_s": 7.0, "chip": {"ao_duty": 0.5, "backlight": False}, "sim": {"chip": {"pulses": [1, 2]}}}


def test_screen_fits_80x24():
    sim = FakeSim()
    long_sim = FakeSim()
    long_sim.speed = None
    long_sim.link = "/a/very/long/directory/name/that/goes/on/and/on/for/ever/and/ever/ttyKPM53-of-a-meter"
    long_sim.gen = type("G", (), {"scenario": type("S", (), {"name": "x" * 200})})
    fbs = [None, "00" * 1024, "ff" * 1024, bytes(range(256)).hex() * 4]
    msgs = [[], ["firmware: " + "a very long log line " * 10, "宽字符的日志" * 10, "sim: x"]]
    for s in (sim, long_sim):
        for state in _states():
            for fb in fbs:
                for m in msgs:
                    rows = terminal.lcd_rows(fb, "Meter U\nA 220.00 V\n" + "W" * 40)
                    for style in (None, "16", "256"):
                        lines = terminal.screen(s, rows, state, [1, 0], m, "key down (keys sent: 200)",
                                                True, style)
                        assert len(lines) <= terminal.ROWS
                        for x in lines:
                            assert terminal.width(x) < terminal.COLS, (terminal.width(x), x)  # 79 at most
    assert terminal.width(terminal.HELP) < terminal.COLS


def test_screen_shows_the_meter_facts():
    state = {"time_s": 1.5, "address": 17, "baud": 19200, "data": "8E1", "di": [0, 1], "relays": [1, 0],
             "ao_ua": 12345, "backlight": False}
    rows = terminal.lcd_rows("ff" * 1024)
    plain = [re.sub("\x1b\\[[0-9;]*m", "", x) for x in terminal.screen(FakeSim(), rows, state, [0, 1], (), "",
                                                                            True)]
    text = "\n".join(plain)
    for want in ("address 17", "19200 8E1", "DI1 ○ off", "DI2 ● on", "DO1 ● on", "DO2 ○ off", "pulse ●",
                 "AO 12.345 mA", "backlight off", "./ttyKPM53 -> /dev/pts/123", "t 1.5 s", "scenario default"):
        assert want in text, want
    assert sum("\u28ff" * 64 in x for x in plain) == 16  # every pixel on: all 16 rows of the glass full


# --- the panel on the real firmware ----------------------------------------------------------------------------
def _ask(sim, cmd):
    r = sim.submit(cmd)
    assert r.wait(30), cmd
    assert r.error is None, r.error
    return r.text


def _state(sim):
    return json.loads(_ask(sim, "state"))


def _feed(panel, master, data, piece=None):
    """Write `data` to the pty at once (piece None) or in pieces of `piece` bytes, each read by the panel before
    the next is written (so reads end inside sequences), and let the panel read it all."""
    if piece is None:
        os.write(master, data)
    else:
        for k in range(0, len(data), piece):
            os.write(master, data[k:k + piece])
            panel.read_input(5.0)  # returns once some of it was read
    while panel.read_input(0.3) or panel.decoder.pending:
        pass


def _labels(lcd):
    return re.sub(r"[-+]?\d[\d.:]*", "#", lcd)


def test_panel_bursts_reach_the_firmware_in_order():
    from tools.sim import Sim

    sim = Sim(runtime="micropython", speed=1.0, log=lambda text: None)
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        sim.start()
        panel = terminal.Panel(sim, slave)
        while _state(sim)["time_s"] < 1.0:  # measuring: the LCD's indicators (quadrant, load) are up
            time.sleep(0.1)
        s0 = _state(sim)
        lcd0 = _ask(sim, "lcd")
        ui0 = s0["ui"]
        n = ui0["pages"]
        assert 200 % n, "pick a burst the page count does not divide"
        _feed(panel, master, DOWN * 200)
        s1 = _state(sim)
        assert s1["runtime"]["keys"] - s0["runtime"]["keys"] == 200  # the firmware got every key
        ui1 = s1["ui"]
        assert (ui1["screen"], ui1["group"], ui1["mode"]) == (ui0["screen"], ui0["group"], ui0["mode"])
        assert (ui1["page"] - ui0["page"]) % n == 200 % n
        assert _labels(_ask(sim, "lcd")) != _labels(lcd0)
        # 200 more, each read ending inside a sequence (7-byte writes, every read taken before the next write)
        _feed(panel, master, DOWN * 200, piece=7)
        s2 = _state(sim)
        assert s2["runtime"]["keys"] - s0["runtime"]["keys"] == 400
        assert (s2["ui"]["page"] - ui0["page"]) % n == 400 % n
        for _ in range(n - 400 % n):  # the rest of the way round, one at a time: back at the first page
            sim.submit("key down")
        assert _labels(_ask(sim, "lcd")) == _labels(lcd0)

        # everything else in one burst: nothing happens (no key, no DI toggle, no quit)
        burst = b"".join(IGNORED) * 3
        before = _state(sim)
        _feed(panel, master, burst)
        after = _state(sim)
        for k in ("ui", "di", "relays", "address", "baud", "data", "wiring"):
            assert after[k] == before[k], k
        assert after["runtime"]["keys"] == before["runtime"]["keys"] and not panel.want_quit
        assert _labels(_ask(sim, "lcd")) == _labels(lcd0)
        # in the password entry (a static screen) the LCD text stays exactly the same
        _feed(panel, master, b"\r")
        pass_lcd = _ask(sim, "lcd")
        assert _state(sim)["ui"]["mode"] != ui0["mode"]
        _feed(panel, master, burst)
        assert _ask(sim, "lcd") == pass_lcd and not panel.want_quit and not sim.exited.is_set()
        # the frame buffer comes through as 1024 bytes
        fb = _ask(sim, "fb")
        assert len(fb) == 2048 and any(bytes.fromhex(fb))
        _feed(panel, master, b"q")
        assert panel.want_quit
    finally:
        sim.close()
        os.close(master)
        os.close(slave)


def test_link_has_one_owner(tmp_path):
    from tools.simrelay import PtyLine

    link = tmp_path / "ttyKPM53"
    first = PtyLine(str(link))
    try:
        pts = first.open()
        assert os.readlink(link) == pts
        second = PtyLine(str(link))
        try:
            second.open()
            raise AssertionError("a second line took the link")
        except RuntimeError as e:
            assert "is the line of another simulated meter (pid %d)" % os.getpid() in str(e)
        assert os.readlink(link) == pts and second.master is None  # untouched, and no pty left open
    finally:
        first.close()
    assert not os.path.lexists(link) and not os.listdir(tmp_path)  # link and lock gone
    link.write_text("not a link")
    try:
        PtyLine(str(link)).open()
        raise AssertionError("a file was replaced")
    except RuntimeError as e:
        assert "not a symlink" in str(e)
    assert link.read_text() == "not a link"


# --- make run: the whole terminal under a pty -------------------------------------------------------------------
class Glass:
    """The little of a terminal that the panel's draw() uses (cursor position, text, erase, SGR), at 80x24;
    writing past the last column (a wrap) is recorded."""

    CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")

    def __init__(self):
        self.rows = [[" "] * terminal.COLS for _ in range(terminal.ROWS)]
        self.r = self.c = 0
        self.overflow = []

    def write(self, s):
        i = 0
        while i < len(s):
            m = self.CSI.match(s, i)
            if m:
                p, f = m.groups()
                if f == "H":
                    a = [int(x) for x in p.split(";")] if p else [1, 1]
                    self.r, self.c = a[0] - 1, a[1] - 1
                elif f == "K":
                    self.rows[self.r][self.c:] = [" "] * (terminal.COLS - self.c)
                elif f == "J" and not p:
                    self.rows[self.r][self.c:] = [" "] * (terminal.COLS - self.c)
                    for r in range(self.r + 1, terminal.ROWS):
                        self.rows[r] = [" "] * terminal.COLS
                i = m.end()
                continue
            ch = s[i]
            i += 1
            if ch in "\r\n":
                continue
            if self.c >= terminal.COLS or self.r >= terminal.ROWS:
                self.overflow.append((self.r, self.c, ch))
            else:
                self.rows[self.r][self.c] = ch
            self.c += 1

    def text(self):
        return "\n".join("".join(r) for r in self.rows)


def test_make_run_in_80x24(tmp_path):
    """`python -m tools.sim --terminal` in an 80x24 pty: ./ttyKPM53 made (a stale one replaced, a second
    simulator refused), the screen fits, stray keys change nothing, q powers down and the link goes."""
    import fcntl
    import pty
    import termios

    link = tmp_path / "ttyKPM53"
    os.symlink("/dev/pts/9999", link)  # left by a run that was killed
    env = dict(os.environ, PYTHONPATH=ROOT, TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(tmp_path))
        os.execve(sys.executable, [sys.executable, "-m", "tools.sim", "--terminal", "--speed", "1"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out = []

    def pump(until, timeout=60):
        t_end = time.monotonic() + timeout
        while time.monotonic() < t_end:
            if until():
                return True
            if select.select([fd], [], [], 0.1)[0]:
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    return until()
                if not data:
                    return until()
                out.append(data)
        return False

    text = lambda: b"".join(out).decode("utf-8", "replace")
    try:
        assert pump(lambda: "address 1" in text()), text()[-2000:]
        assert "KPM53 simulator (micropython): Modbus RTU line ./ttyKPM53" in text()
        pts = os.readlink(link)
        assert pts.startswith("/dev/pts/") and pts != "/dev/pts/9999"  # the stale link replaced
        second = subprocess.run([sys.executable, "-m", "tools.sim", "--headless", "--serial-link", "ttyKPM53"],
                                cwd=str(tmp_path), env=env, input="", capture_output=True, text=True,
                                timeout=60)
        assert second.returncode == 1 and "is the line of another simulated meter (pid %d)" % pid in second.stderr
        assert os.readlink(link) == pts  # still ours
        os.write(fd, b"".join(IGNORED))
        n = len(out)
        assert pump(lambda: len(out) > n + 2)  # a few redraws later
        screen = text()
        g = Glass()
        g.write(screen[screen.rindex("\x1b[?1049h"):])
        assert not g.overflow, g.overflow[:5]
        shown = g.text()
        for want in ("./ttyKPM53 -> " + pts, "address 1", "9600 8N1", "DI1 ○ off", "DI2 ○ off", "AO ",
                     "scenario default", terminal.HELP):
            assert want in shown, (want, shown)
        assert "keys sent" not in shown  # no key reached the meter
        os.write(fd, b"q")
        assert pump(lambda: "sim stopped" in text())
        assert "sim stopped: orderly power-down" in text()
        _, status = os.waitpid(pid, 0)
        pid = None
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        assert not os.path.lexists(link) and not os.path.exists(tmp_path / ".ttyKPM53.lock")
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)


def test_closing_the_window_is_an_orderly_power_down(tmp_path):
    """SIGHUP (the terminal window closed) saves like q: the energy and run time metered so far are in the
    flash at the next start (a power cut would keep only the last periodic save: none in the first 30 s)."""
    import fcntl
    import pty
    import termios

    state = tmp_path / "state"
    env = dict(os.environ, PYTHONPATH=ROOT, TERM="xterm-256color")
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(str(tmp_path))
        os.execve(sys.executable, [sys.executable, "-m", "tools.sim", "--terminal", "--speed", "10",
                                   "--state-dir", str(state)], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    out = []
    t_end = time.monotonic() + 60
    try:
        while time.monotonic() < t_end and "address 1" not in b"".join(out).decode("utf-8", "replace"):
            if select.select([fd], [], [], 0.1)[0]:
                out.append(os.read(fd, 65536))
        time.sleep(2.0)  # about 20 simulated seconds at 10x
        os.kill(pid, signal.SIGHUP)
        os.close(fd)  # the window is gone: writes to the terminal fail from now on
        fd = None
        _, status = os.waitpid(pid, 0)
        pid = None
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        if fd is not None:
            os.close(fd)
    assert not os.path.lexists(tmp_path / "ttyKPM53")  # the link went with the orderly exit
    r = subprocess.run([sys.executable, "-m", "tools.sim", "--headless", "--state-dir", str(state)], cwd=ROOT,
                       input="state\nquit\n", capture_output=True, text=True, timeout=60)
    st_ = json.loads(next(x for x in r.stdout.splitlines() if x.startswith("{")))
    e = st_["energy"]
    # 2858 W for at least 10 simulated seconds before the hang-up: 7.9 Wh or more, and the run time with it
    assert e["EP_imp_Wh"] >= 7 and e["RTime"] >= 10, e
