# SPDX-License-Identifier: MIT
# Interactive front panel for the simulator (`make run`, python -m tools.sim --terminal): the LCD drawn from the
# firmware's own 128x64 frame buffer in an 80x24 screen with the meter's comms settings, I/O, pulse LED, 4-20 mA
# output and Modbus line beside it; arrow keys and Enter are the five keys, 1/2 toggle DI1/DI2, q or Ctrl-C powers
# the meter down in order. Typed bytes go through KeyDecoder: whole escape sequences, every key queued in order.
import collections
import json
import os
import re
import select
import signal
import sys
import termios
import time
import tty
import unicodedata

from tools import glass

REFRESH = 0.2  # s between LCD/state polls (5 redraws a second)
ESC_WAIT = 0.05  # s: an ESC followed by nothing for this long is the Esc key, not the start of a sequence
COLS, ROWS = 80, 24  # the screen this panel fits
LCD_W, LCD_H = 64, 16  # the LCD in characters (glass.to_braille: 2x4 pixels a character, every pixel shown)
SIDE = COLS - 1 - (LCD_W + 3)  # the column beside the LCD's frame and a space: 12 characters (the last
# screen column stays empty: some terminals wrap or erase there)
HELP = "arrows + Enter: the meter's five keys   1/2: toggle DI1/DI2   q: quit (saves)"

ESC = 0x1B
_ARROW = {0x41: "up", 0x42: "down", 0x43: "right", 0x44: "left"}  # the final byte of CSI/SS3 A B C D
_QUIT = b"qQ\x03\x04"
_SEQ_MAX = 64  # a CSI/SS3 longer than this is garbage: dropped


def _arrow_params(p):
    """CSI parameters an arrow key may carry: none, "1", or "1;M" (a modifier: Shift, Alt, Ctrl...)."""
    if not p:
        return True
    first, semi, mod = p.partition(b";")
    return first in (b"", b"1") and (not semi or mod.isdigit())


class KeyDecoder:
    """Bytes typed on a raw terminal -> actions ('key', name), ('di', 1|2), ('quit',), in order.

    Sequences are parsed whole: CSI (ESC [ parameters intermediates final, and X10 mouse reports ESC [ M b x y),
    SS3 (ESC O x), ESC x (Alt+x), UTF-8 characters. Only the arrows (normal and application cursor mode, with any
    modifier, also Alt as ESC ESC [ A), keypad Enter (ESC O M), Enter (CR, LF; CR LF is one Enter), 1, 2, q, Q,
    Ctrl-C and Ctrl-D do anything; everything else (function keys, Home, End, Insert, Delete, PageUp/Down, mouse
    reports, other characters) is ignored whole, and so is a bracketed paste (ESC [ 200 ~ ... ESC [ 201 ~) but for
    Ctrl-C/Ctrl-D in it. A sequence cut between two reads is kept until the rest comes; a lone ESC with nothing
    after it for ESC_WAIT seconds is the Esc key (ignored): the caller calls expire() once deadline() has passed.
    Should the rest of a sequence come later than that after all ('[' or 'O' first: no key of the panel), it is
    still read as that sequence, so a slow line never turns its digits into DI toggles."""

    def __init__(self):
        self.buf = b""  # an incomplete sequence from the last feed
        self.esc_at = None  # when the pending lone ESC (or ESC ESC) came
        self.cr = False  # the last token was CR: a LF right after it is the same Enter
        self.paste = False  # inside a bracketed paste
        self.torn = False  # the last thing was an ESC taken for the Esc key: '[' or 'O' next continues it

    def feed(self, data, now=0.0):
        """Take the bytes of one read; returns the actions completed by them."""
        was_esc = self._lone_esc()
        if data and self.torn:
            self.torn = False
            if data[:1] in (b"[", b"O") and not self.buf:
                data = b"\x1b" + data
        self.buf += data
        out = self._parse()
        if self._lone_esc():
            if not was_esc or self.esc_at is None:
                self.esc_at = now
        else:
            self.esc_at = None
        return out

    def deadline(self):
        """The time (in feed's `now` units) at which a pending lone ESC becomes the Esc key, or None."""
        return self.esc_at + ESC_WAIT if self.esc_at is not None else None

    def expire(self, now):
        """Nothing came after a pending ESC until now: if ESC_WAIT has passed, it was the Esc key (ignored)."""
        if self.esc_at is not None and now - self.esc_at >= ESC_WAIT:
            self.buf = b""
            self.esc_at = None
            self.cr = False
            self.torn = True
        return []

    @property
    def pending(self):
        return len(self.buf)

    def _lone_esc(self):
        return self.buf in (b"\x1b", b"\x1b\x1b")

    def _parse(self):
        out = []
        buf = self.buf
        i = 0
        n = len(buf)
        while i < n:
            end, act = self._token(buf, i)
            if end is None:
                break  # incomplete: wait for more bytes
            cr = buf[i] == 0x0D and end == i + 1
            if act == "paste":
                self.paste = True
                act = None
            elif act == "unpaste":
                self.paste = False
                act = None
            elif act is not None and self.paste and buf[i] not in (0x03, 0x04):
                act = None  # pasted text is no key press (Ctrl-C and Ctrl-D still quit)
            if act == ("key", "enter") and buf[i] == 0x0A and self.cr:
                act = None  # CR LF: one Enter
            self.cr = cr
            if act is not None:
                out.append(act)
            i = end
        self.buf = buf[i:]
        return out

    def _token(self, buf, i):
        """(end, action) of the token at buf[i], action None when it does nothing; (None, None) if incomplete."""
        n = len(buf)
        b = buf[i]
        if b == ESC:
            if i + 1 >= n:
                return None, None
            c = buf[i + 1]
            if c == 0x5B:  # '[': CSI
                return self._csi(buf, i)
            if c == 0x4F:  # 'O': SS3
                return self._ss3(buf, i)
            if c == ESC:  # ESC ESC [ ... / ESC ESC O ...: Alt with a sequence (the second ESC starts it)
                if i + 2 >= n:
                    return None, None
                if buf[i + 2] in b"[O":
                    end, act = self._token(buf, i + 1)
                    if end is None:
                        return None, None
                    return end, act if act not in ("paste", "unpaste") else None
                return i + 1, None  # Esc, then the second ESC on its own
            if c < 0x20 or c == 0x7F or c >= 0x80:
                return i + 1, None  # Esc, then a control key or a character: they count on their own
            return i + 2, None  # ESC x: Alt+x
        if b == 0x0D or b == 0x0A:
            return i + 1, ("key", "enter")
        if b == 0x31 or b == 0x32:
            return i + 1, ("di", b - 0x30)
        if b in _QUIT:
            return i + 1, ("quit",)
        if 0xC2 <= b <= 0xF4:  # a UTF-8 lead byte: the whole character is ignored
            k = 2 if b < 0xE0 else (3 if b < 0xF0 else 4)
            for j in range(i + 1, i + k):
                if j >= n:
                    return None, None
                if not 0x80 <= buf[j] <= 0xBF:
                    return j, None  # broken: drop what came, the byte counts on its own
            return i + k, None
        return i + 1, None  # anything else: one ignored byte

    def _params_to_final(self, buf, i, start):
        """Scan parameter (0x30-0x3F) and intermediate (0x20-0x2F) bytes from `start` to a final byte (0x40-0x7E).
        Returns (index of the final byte, None), (None, None) if incomplete, or (j, 'bad') when byte j cannot be in
        a sequence (the sequence is dropped up to it) or the sequence is too long."""
        n = len(buf)
        j = start
        while True:
            if j >= n:
                return (None, None) if j - i <= _SEQ_MAX else (j, "bad")
            x = buf[j]
            if 0x40 <= x <= 0x7E:
                return j, None
            if not 0x20 <= x <= 0x3F or j - i > _SEQ_MAX:
                return j, "bad"
            j += 1

    def _csi(self, buf, i):
        j, bad = self._params_to_final(buf, i, i + 2)
        if j is None:
            return None, None
        if bad:
            return j, None
        final = buf[j]
        params = buf[i + 2:j]
        if final == 0x4D and not params:  # ESC [ M b x y: an X10 mouse report, three raw bytes follow
            return (j + 4, None) if j + 4 <= len(buf) else (None, None)
        if final in _ARROW and _arrow_params(params):
            return j + 1, ("key", _ARROW[final])
        if final == 0x7E and params == b"200":
            return j + 1, "paste"
        if final == 0x7E and params == b"201":
            return j + 1, "unpaste"
        return j + 1, None

    def _ss3(self, buf, i):
        j, bad = self._params_to_final(buf, i, i + 2)
        if j is None:
            return None, None
        if bad:
            return j, None
        final = buf[j]
        params = buf[i + 2:j]
        if final in _ARROW and (not params or params.isdigit()):
            return j + 1, ("key", _ARROW[final])
        if final == 0x4D and not params:  # keypad Enter in application keypad mode
            return j + 1, ("key", "enter")
        return j + 1, None


def parse_keys(data):
    """Bytes typed -> list of actions: ('key', name), ('di', n), ('quit',) (a whole input: a trailing ESC is
    the Esc key)."""
    d = KeyDecoder()
    out = d.feed(data, 0.0)
    d.expire(ESC_WAIT)
    return out


# --- the screen ----------------------------------------------------------------------------------------------
_SGR = re.compile("\x1b\\[[0-9;]*m")
STYLES = {  # LCD lit, LCD dark, a lit LED; the frame and the rest stay in the terminal's colours
    "256": ("\x1b[38;5;235;48;5;151m", "\x1b[38;5;236;48;5;65m", "\x1b[1;38;5;208m"),
    "16": ("\x1b[30;42m", "\x1b[2;32;40m", "\x1b[1;33m"),
    None: ("", "\x1b[2m", "\x1b[1m"),
}
RESET = "\x1b[0m"


def width(s):
    """Display columns of s: SGR sequences take none, East Asian wide/full-width characters two, combining marks
    none, everything else (the block and box characters too: ambiguous width counts as narrow) one."""
    s = _SGR.sub("", s)
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def fit(s, n):
    """s cut to n display columns (an ellipsis marks the cut); plain text (no SGR) only."""
    if width(s) <= n:
        return s
    out = ""
    for ch in s:
        if width(out + ch) > n - 1:
            break
        out += ch
    return out + "…"


def pad(s, n):
    return s + " " * max(0, n - width(s))


def lcd_rows(fb_hex=None, lcd_text=None):
    """The LCD as 16 rows of 64 characters: from the frame buffer (hex, as `fb` answers) when there is one, else
    the `lcd` text (8 lines of at most 16 characters) spread over the rows."""
    if fb_hex:
        try:
            rows = glass.to_braille(bytes.fromhex(fb_hex))
        except ValueError:
            rows = None
        if rows:
            return [pad(fit(r, LCD_W), LCD_W) for r in rows[:LCD_H]] + [" " * LCD_W] * (LCD_H - len(rows))
    lines = lcd_text.split("\n") if lcd_text is not None else ["(waiting for the LCD)"]
    rows = []
    for x in lines[:LCD_H // 2]:
        rows += ["   " + fit(x, LCD_W - 6).ljust(LCD_W - 3), " " * LCD_W]
    return rows + [" " * LCD_W] * (LCD_H - len(rows))


def _num(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def ao_ma(state):
    """The 4-20 mA output in mA from `state`: the board's ao_ua, else (rp2040) the PWM duty of the emulated chip
    (boards/pico/ao.py: duty 1.0 = 24 mA); None when neither is known (or no value was output yet)."""
    ua = _num(state, "ao_ua")
    if isinstance(ua, (int, float)) and ua >= 0:
        return ua / 1000.0
    duty = _num(state, "chip", "ao_duty")
    if isinstance(duty, (int, float)):
        return duty * 24.0
    return None


def backlight_on(state):
    """The backlight from `state`: the sim board's flag, or the emulated LCD's backlight pin; on if unknown."""
    for v in (_num(state, "backlight"), _num(state, "chip", "backlight")):
        if isinstance(v, bool):
            return v
    return True


def pulse_count(state):
    """Energy pulses since start-up (P + Q) as the meter counts them, else as the emulated chip's pins saw them."""
    p = _num(state, "energy", "pulses")
    if p is None:
        p = _num(state, "sim", "chip", "pulses")
    return sum(p) if isinstance(p, list) else None


def shown_link(link):
    """A link path as a person types it: ./NAME below the current directory, else absolute."""
    path = os.path.abspath(link)
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else "./" + rel


def line_text(sim):
    """Where a Modbus master connects: the link and the pty."""
    if not sim.pty:
        return "Modbus RTU line: (not open yet)"
    if sim.link:
        return "Modbus RTU line: %s -> %s" % (shown_link(sim.link), sim.pty)
    return "Modbus RTU line: %s (no link)" % sim.pty


def screen(sim, rows, state, di, messages=(), note="", pulse=False, style=None):
    """The whole screen: at most ROWS lines of at most COLS display columns (SGR colour codes only, no cursor
    movement). rows: lcd_rows(); state: the last `state` (a dict, or None before the first)."""
    lit, dark, led = STYLES.get(style, STYLES[None])
    state = state or {}
    t = state.get("time_s", 0.0) or 0.0
    speed = "max" if sim.speed is None else "%gx" % sim.speed
    title = "KPM53 simulator   %s   speed %s   t %.1f s   scenario %s" % (sim.runtime, speed, t,
                                                                            sim.gen.scenario.name)
    out = [fit(title, COLS - 1)]
    light = backlight_on(state)
    face = lit if light else dark
    relays = state.get("relays") or [0, 0]

    def onoff(name, v):
        return "%s %s" % (name, (led + "● on" + RESET) if v else "○ off")

    ma = ao_ma(state)
    side = ["Modbus RTU",
            "address %s" % state.get("address", "?"),
            "%s %s" % (state.get("baud", "?"), state.get("data", "")),
            "",
            onoff("DI1", di[0]), onoff("DI2", di[1]), onoff("DO1", relays[0]), onoff("DO2", relays[1]),
            "",
            "pulse " + ((led + "●" + RESET) if pulse else "○"),
            "AO " + ("%.3f mA" % ma if ma is not None else "--"),
            "",
            "light " + ("on" if light else "off")]  # 12 columns: "backlight off" would be cut
    side += [""] * (LCD_H + 2 - len(side))
    label = "" if light else " backlight off "
    bottom = "└" + label + "─" * (LCD_W - len(label)) + "┘"
    box = ["┌" + "─" * LCD_W + "┐"] + ["│" + face + r + RESET + "│" for r in rows] + [bottom]
    for k, b in enumerate(box):
        s = side[k]
        out.append(b + " " + (s if _SGR.search(s) else fit(s, SIDE)))
    out.append(fit(line_text(sim), COLS - 1))
    tail = list(messages)[-2:]
    if note:
        tail.append(note)
    tail = tail[-3:]
    out += [fit(m, COLS - 1) for m in tail] + [""] * (3 - len(tail))
    out.append(HELP)
    return out


def draw(lines, cols=COLS, rows=ROWS):
    """Each line at its own row (absolute positions: the last row is written without a newline, so a 24-row
    terminal never scrolls), the rest of each row cleared, the rows below cleared."""
    parts = []
    for k, x in enumerate(lines[:rows]):
        w = width(x)
        # a full-width row needs no clearing (and erasing at the last column would eat its last character)
        parts.append("\x1b[%d;1H%s%s%s" % (k + 1, x, RESET, "\x1b[K" if w < cols else ""))
    if len(lines) < rows:
        parts.append("\x1b[%d;1H\x1b[J" % (len(lines) + 1))
    try:
        sys.stdout.write("".join(parts))
        sys.stdout.flush()
    except OSError:
        pass  # the terminal went away (window closed: SIGHUP follows): the power-down goes on without a screen


def colour_style():
    """256 colours, 16, or none (NO_COLOR set, TERM dumb or unset)."""
    term = os.environ.get("TERM", "")
    if os.environ.get("NO_COLOR") or term in ("", "dumb"):
        return None
    if "256" in term or os.environ.get("COLORTERM"):
        return "256"
    return "16"


# --- the panel -----------------------------------------------------------------------------------------------
class Panel:
    """Typed bytes from fd -> commands to the Sim, in order; polls of fb/lcd/state -> the screen."""

    def __init__(self, sim, fd, messages=None):
        self.sim = sim
        self.fd = fd
        self.decoder = KeyDecoder()
        self.messages = messages if messages is not None else collections.deque(maxlen=2)
        self.want_quit = False
        self.di = [0, 0]
        self.fb = self.lcd = self.state = None
        self.fb_r = self.lcd_r = self.state_r = self.stale = None
        self.fb_ok = True  # the firmware answers `fb`; else the panel shows the `lcd` text
        self.note = ""
        self.keys = 0  # keys submitted (shown in the note)
        self.pulses = None
        self.pulse = False

    def read_input(self, timeout):
        """Wait up to `timeout` s for typed bytes (less while an ESC waits to be the Esc key), decode them and
        submit what they mean. Returns the number of bytes read."""
        now = time.monotonic()
        dl = self.decoder.deadline()
        if dl is not None:
            timeout = min(timeout, max(0.0, dl - now))
        if not select.select([self.fd], [], [], timeout)[0]:
            self.decoder.expire(time.monotonic())
            return 0
        try:
            data = os.read(self.fd, 4096)
        except (BlockingIOError, InterruptedError):
            return 0
        except OSError:
            data = b""  # EIO: the terminal hung up
        if not data:  # end of input: the window was closed; power down in order (as SIGHUP does)
            self.want_quit = True
            return 0
        for act in self.decoder.feed(data, time.monotonic()):
            self.act(act)
        return len(data)

    def act(self, act):
        if act[0] == "quit":
            self.want_quit = True
        elif act[0] == "key":
            self.sim.submit("key " + act[1])  # queued in order: the pump hands each to the firmware, none dropped
            self.keys += 1
            self.note = "key %s (keys sent: %d)" % (act[1], self.keys)
        else:
            k = act[1] - 1
            self.di[k] = 0 if self.di[k] else 1
            self.stale = self.state_r  # asked before the toggle: its DI view is old
            self.sim.submit("di %d %s" % (act[1], "on" if self.di[k] else "off"))
            self.note = "DI%d %s" % (act[1], "on" if self.di[k] else "off")

    def poll(self):
        """Collect finished fb/lcd/state answers and ask again (one of each outstanding at a time)."""
        sim = self.sim
        if self.fb_ok:
            if self.fb_r is None or self.fb_r.wait(0):
                if self.fb_r is not None:
                    if self.fb_r.error is None:
                        self.fb = self.fb_r.text
                    else:
                        self.fb_ok = False  # a firmware without `fb`: the text instead
                        self.messages.append("no frame buffer (%s): the LCD as text" % self.fb_r.error)
                self.fb_r = sim.submit("fb") if self.fb_ok else None
        if not self.fb_ok:
            if self.lcd_r is None or self.lcd_r.wait(0):
                if self.lcd_r is not None:
                    self.lcd = self.lcd_r.text if self.lcd_r.error is None else "ERR " + self.lcd_r.error
                self.lcd_r = sim.submit("lcd")
        if self.state_r is None or self.state_r.wait(0):
            if self.state_r is not None and self.state_r.error is None:
                try:
                    state = json.loads(self.state_r.text)
                except ValueError:
                    state = None
                if isinstance(state, dict):
                    self.state = state
                    if self.state_r is not self.stale and isinstance(state.get("di"), list) \
                            and len(state["di"]) == 2:
                        self.di = list(state["di"])  # the firmware's view wins over our toggles
                    p = pulse_count(state)
                    self.pulse = p is not None and self.pulses is not None and p != self.pulses
                    self.pulses = p
            self.state_r = sim.submit("state")

    def lines(self, style=None):
        rows = lcd_rows(self.fb if self.fb_ok else None, self.lcd)
        return screen(self.sim, rows, self.state, self.di, self.messages, self.note, self.pulse, style)


def run(sim, log_path=None):
    """Run the panel until q/Ctrl-C/SIGTERM (orderly power-down). Returns the process exit status."""
    fd = sys.stdin.fileno()
    if not os.isatty(fd) or not sys.stdout.isatty():
        sys.stderr.write("sim --terminal needs a terminal; use --headless for pipes\n")
        return 2
    messages = collections.deque(maxlen=2)
    sim.log = messages.append
    want_quit = []
    # closing the window (SIGHUP) is an orderly power-down like q and SIGTERM, not a power cut
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: want_quit.append(1))
    saved = termios.tcgetattr(fd)
    rc = 1
    started = False
    try:
        # started before the screen is taken, so a refusal (state directory or link in use) is all that shows
        print("KPM53 simulator (%s): starting the firmware..." % sim.runtime)
        sys.stdout.flush()
        sim.start()
        started = True
        print("KPM53 simulator (%s): Modbus RTU line %s" % (sim.runtime, shown_link(sim.link) if sim.link
                                                                else "%s (no link)" % sim.pty))
        sys.stdout.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[J")  # alternate screen, hide the cursor
        sys.stdout.flush()
        tty.setraw(fd)  # every byte as typed; Ctrl-C arrives as \x03 (ISIG off)
        rc = _loop(Panel(sim, fd, messages), want_quit)
    except RuntimeError as e:
        messages.append(str(e))
    finally:
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
            if started:
                sys.stdout.write("\x1b[?25h\x1b[?1049l")
                sys.stdout.flush()
        except (OSError, termios.error):
            pass  # no terminal any more (SIGHUP)
        sim.close()
    try:
        _goodbye(sim, messages, started, log_path)
    except OSError:
        pass  # no terminal to say it on (SIGHUP)
    return rc


def _goodbye(sim, messages, started, log_path):
    if log_path and os.path.exists(log_path):
        if os.path.getsize(log_path):
            messages.append("firmware stderr: %s" % log_path)
        else:
            os.remove(log_path)
    for m in messages:
        print(m)
    if not started:
        print("sim not started: nothing ran, nothing changed")
        return
    print("the Modbus line was %s%s" % (sim.pty, " (%s, removed)" % shown_link(sim.link) if sim.link else ""))
    print("sim stopped: %s" % ("orderly power-down" if sim.bye else "no orderly power-down"))


def _loop(panel, want_quit):
    sim = panel.sim
    style = colour_style()
    next_t = 0.0
    while not sim.exited.is_set() and not want_quit and not panel.want_quit:
        now = time.monotonic()
        if now >= next_t:
            next_t = now + REFRESH
            panel.poll()
            try:
                cols, rows = os.get_terminal_size(sys.stdout.fileno())
            except OSError:
                cols, rows = COLS, ROWS
            if cols < COLS or rows < ROWS:
                draw([fit(x, cols) for x in ["this terminal is %dx%d: the panel needs %dx%d" % (cols, rows, COLS,
                                                                                                 ROWS),
                                              line_text(sim), HELP]], cols, rows)
            else:
                draw(panel.lines(style), cols, rows)
        if panel.read_input(max(0.0, next_t - time.monotonic())):
            next_t = min(next_t, time.monotonic() + 0.03)  # show a key's effect soon (after its answer came)
    if sim.exited.is_set():
        panel.messages.append("the firmware stopped (status %s)" % sim.proc.returncode)
        return 1
    draw(["powering down..."])
    sim.request_quit()
    rc = sim.wait_exit()
    return 0 if sim.bye and rc == 0 else 1
