# Interactive front panel for the simulator (`make run`, python -m tools.sim --terminal): draws the LCD text live,
# maps arrow keys/Enter to the five keys and 1/2 to DI1/DI2; q or Ctrl-C powers the meter down in order.
import collections
import json
import os
import select
import signal
import sys
import termios
import time
import tty

REFRESH = 0.2  # s between LCD polls (5 redraws a second)
# escape sequences of the arrow keys (normal and application cursor mode) -> meter key names
_ARROWS = {b"\x1b[A": "up", b"\x1b[B": "down", b"\x1b[C": "right", b"\x1b[D": "left",
           b"\x1bOA": "up", b"\x1bOB": "down", b"\x1bOC": "right", b"\x1bOD": "left"}
_QUIT = (b"q", b"Q", b"\x03", b"\x04")


def parse_keys(data):
    """Bytes typed -> list of actions: ('key', name), ('di', n), ('quit',). Unknown bytes are ignored."""
    out = []
    i = 0
    while i < len(data):
        seq = data[i:i + 3]
        if seq in _ARROWS:
            out.append(("key", _ARROWS[seq]))
            i += 3
            continue
        c = data[i:i + 1]
        if c in (b"\r", b"\n"):
            out.append(("key", "enter"))
        elif c in (b"1", b"2"):
            out.append(("di", int(c)))
        elif c in _QUIT:
            out.append(("quit",))
        i += 1
    return out


def _onoff(v):
    return "ON " if v else "off"


def screen(lcd, state, sim, di, messages, note):
    """The whole screen as a list of lines (no escape codes)."""
    lines = lcd.split("\n") if lcd is not None else ["(waiting for the LCD)"]
    w = max([16] + [len(x) for x in lines])
    t = state.get("time_s", 0.0) if state else 0.0
    speed = "max" if sim.speed is None else "%gx" % sim.speed
    relays = state.get("relays", [0, 0]) if state else [0, 0]
    out = ["KPM53 simulator   runtime %s   speed %s   t = %.1f s   scenario %s"
           % (sim.runtime, speed, t, sim.gen.scenario.name), ""]
    out.append("  +" + "-" * (w + 2) + "+")
    out += ["  | " + x.ljust(w) + " |" for x in lines]
    out.append("  +" + "-" * (w + 2) + "+")
    out.append("")
    out.append("Modbus RTU on %s%s" % (sim.pty, ("   (link %s)" % sim.link) if sim.link else ""))
    out.append("DI1 %s  DI2 %s   DO1 %s  DO2 %s" % (_onoff(di[0]), _onoff(di[1]), _onoff(relays[0]),
                                                    _onoff(relays[1])))
    out.append("")
    out.append("keys: arrows = left/up/down/right   Enter = enter   1/2 = toggle DI1/DI2   q/Ctrl-C = quit")
    out += ["> " + m for m in messages]
    if note:
        out.append(note)
    return out


def draw(lines):
    # home, each line then clear-to-end, clear below: no flicker from full clears; raw mode needs \r\n
    sys.stdout.write("\x1b[H" + "".join(x + "\x1b[K\r\n" for x in lines) + "\x1b[J")
    sys.stdout.flush()


def run(sim, log_path=None):
    """Run the panel until q/Ctrl-C/SIGTERM (orderly power-down). Returns the process exit status."""
    fd = sys.stdin.fileno()
    if not os.isatty(fd) or not sys.stdout.isatty():
        sys.stderr.write("sim --terminal needs a terminal; use --headless for pipes\n")
        return 2
    messages = collections.deque(maxlen=3)
    sim.log = lambda text: messages.append(text)
    want_quit = []
    signal.signal(signal.SIGTERM, lambda *_: want_quit.append(1))
    signal.signal(signal.SIGINT, lambda *_: want_quit.append(1))
    saved = termios.tcgetattr(fd)
    sys.stdout.write("\x1b[?1049h\x1b[?25l\x1b[H\x1b[J")  # alternate screen, hide the cursor
    sys.stdout.flush()
    rc = 1
    try:
        tty.setraw(fd)  # every byte as typed; Ctrl-C arrives as \x03 (ISIG off)
        draw(["starting the firmware (%s)..." % sim.runtime])
        sim.start()
        rc = _loop(sim, fd, messages, want_quit)
    except RuntimeError as e:
        messages.append(str(e))
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write("\x1b[?25h\x1b[?1049l")
        sys.stdout.flush()
        sim.close()
    for m in messages:
        print(m)
    print("sim stopped: %s" % ("orderly power-down" if sim.bye else "no orderly power-down"))
    if log_path and os.path.exists(log_path):
        if os.path.getsize(log_path):
            print("firmware stderr: %s" % log_path)
        else:
            os.remove(log_path)
    return rc


def _loop(sim, fd, messages, want_quit):
    di = [0, 0]
    lcd = state = None
    lcd_r = state_r = stale = None
    note = ""
    next_t = 0.0
    while not sim.exited.is_set():
        if want_quit:
            break
        now = time.monotonic()
        if now >= next_t:
            next_t = now + REFRESH
            if lcd_r is None or lcd_r.wait(0):
                if lcd_r is not None:
                    lcd = lcd_r.text if lcd_r.error is None else "ERR " + lcd_r.error
                lcd_r = sim.submit("lcd")
            if state_r is None or state_r.wait(0):
                if state_r is not None and state_r.error is None:
                    state = json.loads(state_r.text)
                    if state_r is not stale and isinstance(state.get("di"), list) and len(state["di"]) == 2:
                        di = state["di"]  # the firmware's view wins over our toggles
                state_r = sim.submit("state")
            draw(screen(lcd, state, sim, di, messages, note))
        if not select.select([fd], [], [], max(0.0, next_t - time.monotonic()))[0]:
            continue
        for act in parse_keys(os.read(fd, 64)):
            if act[0] == "quit":
                want_quit.append(1)
            elif act[0] == "key":
                sim.submit("key " + act[1])
                note = "key %s" % act[1]
                next_t = 0.0  # show the effect at once
            else:
                k = act[1] - 1
                di[k] = 0 if di[k] else 1
                stale = state_r  # asked before the toggle: its DI view is old
                sim.submit("di %d %s" % (act[1], "on" if di[k] else "off"))
                note = "DI%d %s" % (act[1], "on" if di[k] else "off")
                next_t = 0.0
    if sim.exited.is_set():
        messages.append("the firmware stopped (status %s)" % sim.proc.returncode)
        return 1
    draw(["powering down..."])
    sim.request_quit()
    rc = sim.wait_exit()
    return 0 if sim.bye and rc == 0 else 1
