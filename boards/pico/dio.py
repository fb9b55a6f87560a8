# SPDX-License-Identifier: MIT
# Discrete I/O on the Pico: relays DO1/DO2 (pins.RELAYS, high = closed), switch inputs DI1/DI2 (pins.INPUTS,
# optocoupled, low = contact closed, 40 ms debounce: manual 1.2), the energy pulse outputs and the power-fail
# comparator (pins.POWER_FAIL, low = supply collapsing). Pins are machine.Pin objects the board makes.
import micropython
from micropython import const

DEBOUNCE_MS = const(40)  # manual 1.2, switch inputs: "Debounce time 40ms"

try:
    from time import ticks_diff
except ImportError:  # CPython runs the host test cases: plain integers
    def ticks_diff(a, b):
        return a - b


class Relays:
    """relay_out for firmware.io.Io: call relays(i, v) with i = 0 for DO1, 1 for DO2, v true = closed.
    pins: output machine.Pins, high = coil energised (contact closed). All open at construction."""

    def __init__(self, pins):
        self.pins = tuple(pins)
        for p in self.pins:
            p.value(0)

    def __call__(self, i, v):
        self.pins[i].value(1 if v else 0)


class Inputs:
    """The switch inputs DI1, DI2 (pins: input machine.Pins, low = contact closed), debounced DEBOUNCE_MS."""

    def __init__(self, pins):
        self.pins = tuple(pins)
        n = len(self.pins)
        self.raw = bytearray(n)  # 1 = closed, as last read
        self.on = bytearray(n)  # debounced: 1 = closed; starts open, a closed contact is reported after 40 ms
        self.since = [0] * n  # ticks_ms of the last raw change

    def poll(self, now_ms):
        """Read the inputs at now_ms (time.ticks_ms()); call every 5-10 ms. Returns k (1-based) when input k
        closed, -k when it opened, 0 for no change: the board calls meter.di(abs(r), r > 0). One change per
        call (another due at the same time comes with the next call). Allocation-free."""
        raw = self.raw
        on = self.on
        since = self.since
        pins = self.pins
        for i in range(len(pins)):
            v = 1 - pins[i].value()
            if v != raw[i]:
                raw[i] = v
                since[i] = now_ms
            elif v != on[i] and ticks_diff(now_ms, since[i]) >= DEBOUNCE_MS:
                on[i] = v
                return i + 1 if v else -1 - i
        return 0

    def pending(self):
        """True while an input's last read level differs from its debounced one (a change or a bounce in
        progress): the board keeps polling until it settles. Allocation-free."""
        raw = self.raw
        on = self.on
        for i in range(len(raw)):
            if raw[i] != on[i]:
                return True
        return False


class PulseOut:
    """pulse_out for firmware.ledger.Ledger / firmware.pulse.Pulse: call out(channel, level) with channel 0 =
    active energy (P), 1 = reactive (Q), level 1 = pulse on. p, q: output machine.Pins (q None: no Q output);
    active: the pin level that makes the output optocoupler conduct."""

    def __init__(self, p, q=None, active=1):
        self.pins = (p, q)
        self.active = active
        for pin in self.pins:
            if pin is not None:
                pin.value(1 - active)

    def __call__(self, channel, level):
        pin = self.pins[channel]
        if pin is not None:
            pin.value(self.active if level else 1 - self.active)


class PowerFail:
    """The supply monitor (pin: input machine.Pin, low = supply collapsing). A falling edge raises a hard IRQ
    that only sets `pending` and queues handler(pin) with micropython.schedule: the handler (the save) runs
    between bytecodes, outside the IRQ, where it may allocate. If the schedule queue is full the board's loop
    sees `pending` and calls fire() itself."""

    def __init__(self, pin, handler):
        self.pin = pin
        self.handler = handler
        self.pending = 0
        self._run_cb = self._run  # bound methods made once: the IRQ must not allocate
        pin.irq(trigger=pin.IRQ_FALLING, handler=self._irq, hard=True)

    def _irq(self, pin):
        if not self.pending:
            self.pending = 1
            try:
                micropython.schedule(self._run_cb, pin)
            except RuntimeError:  # schedule queue full
                pass

    def _run(self, pin):
        if self.pending:
            self.pending = 0
            self.handler(pin)

    def fire(self):
        """Run the handler now if an edge is pending (the loop's fallback)."""
        self._run(self.pin)

    def low(self):
        """True while the supply is collapsing (the pin reads low)."""
        return self.pin.value() == 0

    def disable(self):
        """Detach the IRQ."""
        self.pin.irq(handler=None)
