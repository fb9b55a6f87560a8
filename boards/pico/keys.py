# SPDX-License-Identifier: MIT
# The five front-panel keys (pins.KEYS: active low, internal pull-ups), debounced by polling, with auto-repeat of
# up/down while a value is being edited. poll() turns levels into the key names Meter.key takes (manual 4.2).
from micropython import const

NAMES = ("left", "up", "down", "right", "enter")  # poll()'s events; the order of the pins
DEBOUNCE_MS = const(20)  # a level counts once stable this long: tactile switches bounce < 5-10 ms, 20 ms is
#                          twice the worst case yet far below the ~100 ms a person notices as lag
REPEAT_DELAY_MS = const(600)  # first repeat of a held up/down: longer than a deliberate tap (~150-300 ms held)
REPEAT_MS = const(150)  # then 6.7 steps/s: a digit's 0..9 in 1.5 s, still slow enough to let go on the one wanted
_UP = const(1)
_DOWN = const(2)

try:
    from time import ticks_add, ticks_diff
except ImportError:  # CPython runs the host test cases: plain integers
    def ticks_add(a, b):
        return a + b

    def ticks_diff(a, b):
        return a - b


class Keys:
    """pins: {name: machine.Pin} for the names in NAMES, inputs with pull-ups (low = pressed)."""

    def __init__(self, pins):
        self.pins = tuple(pins[n] for n in NAMES)
        n = len(NAMES)
        self.raw = bytearray(n)  # 1 = pressed, as last read
        self.state = bytearray(n)  # debounced: 1 = pressed
        self.since = [0] * n  # ticks_ms of the last raw change
        self.repeat_at = [0] * n  # ticks_ms of the next auto-repeat of a held key

    def poll(self, now_ms, editing):
        """Read the keys at time now_ms (time.ticks_ms()); call every 5-10 ms. Returns the name of a key press
        ("left" "up" "down" "right" "enter", once per press) or of an up/down auto-repeat while editing is true
        (a digit or value is being changed), else None. At most one event per call: a second one waits for the
        next call. Allocation-free."""
        raw = self.raw
        state = self.state
        since = self.since
        rep = self.repeat_at
        pins = self.pins
        for i in range(len(pins)):
            v = 1 - pins[i].value()
            if v != raw[i]:
                raw[i] = v
                since[i] = now_ms
            elif v != state[i]:
                if ticks_diff(now_ms, since[i]) >= DEBOUNCE_MS:
                    state[i] = v
                    if v:
                        rep[i] = ticks_add(now_ms, REPEAT_DELAY_MS)
                        return NAMES[i]
            elif v and (i == _UP or i == _DOWN):
                if not editing:
                    rep[i] = ticks_add(now_ms, REPEAT_DELAY_MS)
                elif ticks_diff(now_ms, rep[i]) >= 0:
                    nxt = ticks_add(rep[i], REPEAT_MS)  # on the cadence; after a late poll no burst of repeats
                    rep[i] = nxt if ticks_diff(nxt, now_ms) > 0 else ticks_add(now_ms, REPEAT_MS)
                    return NAMES[i]
        return None

    def held(self, name):
        """True while the key is (debounced) pressed: main.py's service-mode check, a long press."""
        return self.state[NAMES.index(name)] == 1
