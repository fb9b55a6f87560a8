# Pulse outputs: active energy on P+/P- (terminals 26/27), reactive on 29/30 when Pulse_Q = 1. Energy counts
# the pulses due (Energy.gen); this module plays them out on sample time with a fixed width, none dropped.
from array import array

from micropython import const

from firmware.frontend import SAMPLE_RATE

WIDTH_MS = const(80)  # on time of a pulse while the rate allows it
MIN_WIDTH_MS = const(5)  # shortest on time (the optocoupler and counters need a few ms): 100 Hz at most


def width_ms(max_hz):
    """On time (= least off time) for a highest pulse rate: 80 ms up to 6.25 Hz, shorter above, >= 5 ms."""
    if max_hz <= 0:
        return WIDTH_MS
    w = 1000 // (2 * max_hz + 1)
    return max(MIN_WIDTH_MS, min(WIDTH_MS, w))


class Pulse:
    """gen: the energy module's array('i') of pulses due (P, Q); out(channel, level): board callback
    (None in the sim: the counts are the observable)."""

    def __init__(self, gen, out=None):
        self.gen = gen
        self.out = out
        self.emitted = array("i", [0, 0])  # pulses completed on the output since start-up
        self.timer = array("i", [0, 0])  # samples left in the current on (> 0) or off (< 0) phase
        self.level = bytearray(2)
        self.enabled = bytearray(b"\x01\x00")  # Q: terminals 29/30 in pulse mode (Pulse_Q = 1)
        self.width = WIDTH_MS * SAMPLE_RATE // 1000
        self.max_backlog = 0

    def configure(self, max_hz, pulse_q):
        self.width = width_ms(max_hz) * SAMPLE_RATE // 1000
        self.enabled[1] = 1 if pulse_q else 0

    def advance(self, n):
        """n samples have passed (allocation-free; call after each block)."""
        for ch in range(2):
            t = self.timer[ch]
            if t > 0:
                t -= n
                if t <= 0:
                    self.level[ch] = 0
                    if self.out is not None:
                        self.out(ch, 0)
                    self.emitted[ch] += 1
                    t = -self.width  # off phase as long as the on phase
                self.timer[ch] = t
                continue
            if t < 0:
                t += n
                if t > 0:
                    t = 0
                self.timer[ch] = t
                if t < 0:
                    continue
            due = self.gen[ch] - self.emitted[ch]
            if due > 0:
                if due > self.max_backlog:
                    self.max_backlog = due
                if self.enabled[ch]:
                    self.level[ch] = 1
                    if self.out is not None:
                        self.out(ch, 1)
                    self.timer[ch] = self.width
                else:
                    self.emitted[ch] = self.gen[ch]  # terminals in RS485 mode: nothing to play
