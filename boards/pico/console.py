# SPDX-License-Identifier: MIT
# The service console on USB CDC while the meter runs (the REPL is for service mode: ENTER held at power-up).
# Line commands from a commissioning PC (and from the simulator's rp2040 runtime, tools/emu):
#   state            -> "=" + JSON: Meter.state() plus the board's figures (heap, ADC, watchdog)
#   set NAME VALUE   -> "=ok" or "=ERR ..."  (a setting as at the panel, refused like there)
#   lcd              -> "=" + the display's text, rows joined by "|"
#   stall            -> "=ok", then the main loop stops for 3 s: the watchdog self-test (the chip resets, and
#                       `state` counts it in watchdog_resets; the clock goes on from the scratch registers)
# Replies start with "=", unsolicited events with "!" ("!bye" after the power-fail save); other lines are logs.
import select
import sys

_MAX = 80  # longest command line: longer input is dropped, answered with one "=ERR"


class Console:
    """meter: the Meter; figures(): a dict of the board's figures merged into `state`. poll() reads what came
    in without blocking and answers whole lines; allocation only when a command arrives."""

    def __init__(self, meter, figures):
        self.meter = meter
        self.figures = figures
        self.line = bytearray(_MAX)
        self.n = 0
        self.over = False
        self.poller = select.poll()
        self.poller.register(sys.stdin, select.POLLIN)
        self.poller.ipoll(0)  # its first call allocates the result tuple: here, not in the loop
        self.commands = 0

    def poll(self):
        # everything that has come in (up to a line's worth a call): a command is answered in the pass it
        # arrived in, before the loop sleeps again (the next wake may be 10 ms away)
        for _ in range(_MAX + 2):
            ready = False
            for _ in self.poller.ipoll(0):  # ipoll: no list built
                ready = True
            if not ready:
                return
            self._char(sys.stdin.buffer.read(1)[0] if hasattr(sys.stdin, "buffer") else ord(sys.stdin.read(1)))

    def _char(self, c):
        if c in (10, 13):
            if self.n or self.over:
                self._run(bytes(self.line[:self.n]).decode() if not self.over else None)
            self.n = 0
            self.over = False
        elif self.n < _MAX:
            self.line[self.n] = c
            self.n += 1
        else:
            self.over = True

    def _run(self, text):
        self.commands += 1
        if text is None:
            print("=ERR line longer than %d characters" % _MAX)
            return
        words = text.split()
        try:
            if words == ["state"]:
                import json

                d = self.meter.state()
                d.update(self.figures())
                print("=" + json.dumps(d))
            elif len(words) == 3 and words[0] == "set":
                ok = self.meter.set(words[1], int(words[2]))
                print("=ok" if ok or ok is None else "=ERR refused %s=%s" % (words[1], words[2]))
            elif words == ["lcd"]:
                print("=" + self.meter.lcd_text().replace("\n", "|"))
            elif words == ["stall"]:
                import time

                print("=ok")
                t0 = time.ticks_ms()
                while time.ticks_diff(time.ticks_ms(), t0) < 3000:  # longer than the watchdog's 2 s
                    pass
            else:
                print("=ERR unknown command %r (state, set NAME VALUE, lcd, stall)" % text)
        except Exception as e:  # a bad value or a meter error: answered, the loop goes on
            print("=ERR %s: %s" % (type(e).__name__, e))
