# SPDX-License-Identifier: MIT
# The five front-panel keys on one ADC pin (pins.KEYS_ADC) through a resistor ladder: 10 kOhm from 3.3 V to the
# pin, each key pulls it to GND through its own resistor. Same contract, debounce and auto-repeat as the Pico's
# boards/pico/keys.py: poll(now_ms, editing) -> a key name or None.
from micropython import const

from boards.pico.keys import DEBOUNCE_MS, NAMES, REPEAT_DELAY_MS, REPEAT_MS

try:
    from time import ticks_add, ticks_diff
except ImportError:  # CPython: plain integers
    def ticks_add(a, b):
        return a + b

    def ticks_diff(a, b):
        return a - b

# Key -> resistor to GND -> pin voltage with a 10 kOhm pull-up at 3.3 V (NAMES order):
#   left 0 Ohm 0 mV, up 2.2 kOhm 595 mV, down 4.7 kOhm 1055 mV, right 10 kOhm 1650 mV, enter 22 kOhm 2269 mV,
#   none: 3300 mV (the ESP32 ADC at 11 dB reads about 3100 at most).
# A reading below THRESHOLDS_MV[i] (and not below the one before) is key i; the thresholds are the midpoints, so
# each key has at least 230 mV of margin either side: 1 % resistors move a level by < 25 mV, the ESP32's ADC
# (read_uv, eFuse-calibrated) is off by up to ~50 mV and noisy by ~20 mV. A reading in passing between two levels
# (a press or a release through the pin's RC) lasts far less than DEBOUNCE_MS and is filtered like bounce.
THRESHOLDS_MV = (300, 825, 1360, 1960, 2780)
_NONE = const(5)
_UP = const(1)
_DOWN = const(2)


def level(mv):
    """The key index (0..4) a reading in mV stands for, or 5 for none."""
    t = THRESHOLDS_MV
    for i in range(_NONE):
        if mv < t[i]:
            return i
    return _NONE


class KeysLadder:
    """adc: machine.ADC on pins.KEYS_ADC with 11 dB attenuation (read_uv() in microvolts). One key at a time:
    two pressed together read as the one with the smaller resistor."""

    def __init__(self, adc):
        self.adc = adc
        self.raw = _NONE  # key index as last read
        self.state = _NONE  # debounced
        self.since = 0  # ticks_ms of the last raw change
        self.repeat_at = 0  # ticks_ms of the next auto-repeat of a held up/down

    def poll(self, now_ms, editing):
        """Read the ladder at now_ms (time.ticks_ms()); call every 5-10 ms. Returns the name of a key press (once
        per press) or of an up/down auto-repeat while editing, else None. Allocation-free."""
        v = level(self.adc.read_uv() // 1000)
        if v != self.raw:
            self.raw = v
            self.since = now_ms
            return None
        if v != self.state:
            if ticks_diff(now_ms, self.since) >= DEBOUNCE_MS:
                self.state = v
                if v != _NONE:
                    self.repeat_at = ticks_add(now_ms, REPEAT_DELAY_MS)
                    return NAMES[v]
            return None
        if v == _UP or v == _DOWN:
            if not editing:
                self.repeat_at = ticks_add(now_ms, REPEAT_DELAY_MS)
            elif ticks_diff(now_ms, self.repeat_at) >= 0:
                nxt = ticks_add(self.repeat_at, REPEAT_MS)  # on the cadence; after a late poll no burst
                self.repeat_at = nxt if ticks_diff(nxt, now_ms) > 0 else ticks_add(now_ms, REPEAT_MS)
                return NAMES[v]
        return None

    def held(self, name):
        """True while the key is (debounced) pressed."""
        return self.state == NAMES.index(name)
