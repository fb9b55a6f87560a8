# SPDX-License-Identifier: MIT
# Pulse outputs: active energy on P+/P- (terminals 26/27), reactive on 29/30 when Pulse_Q = 1. Energy counts
# the pulses due (Energy.gen); this module plays them out on sample time with a fixed width, none dropped.
from array import array

import micropython
from micropython import const

from firmware.frontend import SAMPLE_RATE
from firmware.words import SIGN_BIT

WIDTH_MS = const(80)  # on time of a pulse while the rate allows it
MIN_WIDTH_MS = const(5)  # shortest on time (the optocoupler and counters need a few ms): 100 Hz at most


def width_ms(max_hz):
    """On time (= least off time) for a highest pulse rate max_hz (whole Hz): 1000 // (2 max_hz + 1) ms, at
    most 80 (max_hz <= 5) and at least 5 (100 Hz)."""
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
        self._backlog = array("i", [0])

    def configure(self, max_hz, pulse_q):
        self.width = width_ms(max_hz) * SAMPLE_RATE // 1000
        self.enabled[1] = 1 if pulse_q else 0

    def advance(self, n):
        """n samples have passed (allocation-free; call after each block). The timers run in one viper call:
        on the RP2040 the Python loop cost ~24,000 cycles per block, 2 % of the core."""
        ch = _step(self.timer, self.level, self.emitted, self.gen, self.enabled, self.width, n, self._backlog)
        if ch and self.out is not None:
            for c in range(2):
                if (ch >> c) & 1:
                    self.out(c, self.level[c])

    @property
    def max_backlog(self):
        """Most pulses that were ever due at once (a rate above what the width allows shows here)."""
        return self._backlog[0]


@micropython.viper
def _step(timer: ptr32, level: ptr8, emitted: ptr32, gen: ptr32, enabled: ptr8, width: int, n: int,
          backlog: ptr32) -> int:
    # per channel: an on phase (timer > 0) ends into an off phase as long; after it the next due pulse starts.
    # Returns a bit per channel whose level changed.
    h = int(SIGN_BIT)  # ptr32 loads are unsigned on the 64-bit unix port: sign-extend the timer (words.py)
    changes = 0
    ch = 0
    while ch < 2:
        t = (timer[ch] ^ h) - h
        if t > 0:
            t -= n
            if t <= 0:
                level[ch] = 0
                changes |= 1 << ch
                emitted[ch] = emitted[ch] + 1
                t = 0 - width
            timer[ch] = t
            ch += 1
            continue
        if t < 0:
            t += n
            if t > 0:
                t = 0
            timer[ch] = t
            if t < 0:
                ch += 1
                continue
        due = gen[ch] - emitted[ch]
        if due > 0:
            if due > backlog[0]:
                backlog[0] = due
            if enabled[ch]:
                level[ch] = 1
                changes |= 1 << ch
                timer[ch] = width
            else:
                emitted[ch] = gen[ch]  # Pulse_Q = 0: the output is off, nothing to play
        ch += 1
    return changes
