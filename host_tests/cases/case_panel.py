# SPDX-License-Identifier: MIT
# The Pico's front-panel drivers (boards/pico/st7567.py, keys.py, dio.py) against fakes that keep the chips' rules:
# and the 4-20 mA output's PWM duty (ao.py); the LCD's bus asserts CS low around every byte, takes DC low bytes as commands and DC high bytes as display data
# and decodes them into its own display RAM (a second implementation of the ST7567 addressing), compared with the
# glass that firmware.ui.fb draws of a real Meter's screen; keys and switch inputs get scripted contact bounce on
# a millisecond clock. The periodic calls (show, poll, relay/pulse callables, the power-fail IRQ) run heap-locked.
from array import array

import micropython

from boards.pico import ao, dio, keys, st7567
from firmware.io import Io

_CS = 0
_DC = 1
_RST = 2
_BL = 3


class LcdBus:
    """The ST7567's wires as the chip sees them, and the chip: 9 pages x 132 columns of RAM, page/column
    addressing with auto-increment, the two-byte Set EV, display on/off; every command byte is logged."""

    def __init__(self):
        self.lv = bytearray(b"\x01\x01\x01\x00")  # cs dc rst backlight
        self.ram = bytearray(9 * 132)
        self.page = 0
        self.col = 0
        self.ev = -1
        self.on = 0
        self.ev_next = 0
        self.log = bytearray(4096)  # command bytes in order
        self.nlog = 0
        self.ndata = 0
        self.resets = 0

    def command(self, b):
        self.log[self.nlog] = b
        self.nlog += 1
        if self.ev_next:
            self.ev = b
            self.ev_next = 0
        elif b == 0x81:
            self.ev_next = 1
        elif b & 0xF0 == 0xB0:
            self.page = b & 0x0F
        elif b & 0xF0 == 0x10:
            self.col = (b & 0x0F) << 4 | (self.col & 0x0F)
        elif b & 0xF0 == 0x00:
            self.col = (self.col & 0xF0) | b
        elif b == 0xAF or b == 0xAE:
            self.on = b & 1

    def data(self, b):
        assert self.page < 9 and self.col < 132
        self.ram[self.page * 132 + self.col] = b
        self.col += 1
        self.ndata += 1

    def picture(self):
        """The 128x64 area as a MONO_VLSB framebuf's 1024 bytes (SEG normal: columns 0..127)."""
        out = bytearray(1024)
        for p in range(8):
            out[p * 128:(p + 1) * 128] = self.ram[p * 132:p * 132 + 128]
        return out


class LcdPin:
    def __init__(self, bus, i):
        self.bus = bus
        self.i = i

    def value(self, v=None):
        if v is None:
            return self.bus.lv[self.i]
        self.bus.lv[self.i] = 1 if v else 0
        if self.i == _RST and not v:
            self.bus.resets += 1


class LcdSpi:
    def __init__(self, bus):
        self.bus = bus

    def write(self, buf):
        bus = self.bus
        assert bus.lv[_CS] == 0, "SPI write with CS high"
        assert bus.lv[_RST] == 1, "SPI write during reset"
        if bus.lv[_DC]:
            for i in range(len(buf)):
                bus.data(buf[i])
        else:
            for i in range(len(buf)):
                bus.command(buf[i])


def lcd():
    bus = LcdBus()
    sleeps = []
    d = st7567.St7567(LcdSpi(bus), LcdPin(bus, _CS), LcdPin(bus, _DC), LcdPin(bus, _RST), LcdPin(bus, _BL),
                      sleeps.append)
    return bus, d, sleeps


def test_st7567_init_sequence():
    bus, d, sleeps = lcd()
    assert bus.nlog == 0 and bus.lv[_CS] == 1  # nothing sent before init()
    bus.ram[5] = 0x55
    d.init()
    assert bus.resets == 1 and bus.lv[_RST] == 1 and sleeps[:2] == [st7567.RESET_LOW_MS, st7567.RESET_WAIT_MS]
    assert sum(sleeps) >= 50
    log = bytes(bus.log[:bus.nlog])
    # bias 1/9, SEG normal, COM reverse, ratio 5, EV, booster+regulator+follower, start line 0 ... display on
    assert log[:8] == b"\xa2\xa0\xc8\x25\x81\x1f\x2f\x40", log
    assert st7567.INIT == bytes((st7567.BIAS_1_9, st7567.SEG_NORMAL, st7567.COM_REVERSE,
                                 st7567.REG_RATIO | st7567.RATIO, st7567.SET_EV, st7567.CONTRAST))
    assert log[-1] == st7567.DISPLAY_ON and bus.on == 1
    assert bus.ram[5] == 0 and bus.ndata == 1024  # the RAM cleared
    assert bus.lv[_BL] == 0
    d.backlight(True)
    assert bus.lv[_BL] == 1
    d.backlight(0)
    assert bus.lv[_BL] == 0
    d.contrast(40)
    assert bus.ev == 40 and bus.lv[_CS] == 1
    d.contrast(0)
    d.contrast(63)
    assert bus.ev == 63
    for bad in (-1, 64, 255):
        try:
            d.contrast(bad)
            assert False, bad
        except ValueError:
            pass
    assert bus.ev == 63


def _pattern():
    buf = bytearray(1024)
    for i in range(1024):
        buf[i] = (i * 37 + (i >> 7)) & 0xFF
    return buf


def test_st7567_show_pages_and_no_allocation():
    bus, d, _ = lcd()
    d.init()
    buf = _pattern()
    d.show(buf)  # binds the page slices
    bus.nlog = 0
    bus.ndata = 0
    micropython.heap_lock()
    try:
        d.show(buf)
    finally:
        micropython.heap_unlock()
    assert bus.picture() == buf
    assert bus.ndata == 1024 and bus.lv[_CS] == 1
    # per page: page address, column 0 (high, low nibble)
    assert bytes(bus.log[:bus.nlog]) == b"".join(bytes((0xB0 | p, 0x10, 0x00)) for p in range(8))
    buf[1023] = 0
    buf[0] = 0xFF
    micropython.heap_lock()
    try:
        d.show(buf)
    finally:
        micropython.heap_unlock()
    assert bus.picture() == buf
    try:
        d.show(bytearray(100))
        assert False
    except ValueError:
        pass


def test_st7567_shows_the_meters_screen():
    from tools.glass import find_cols, text_cols
    from firmware.meter import Meter
    from firmware.ui import fb as uifb
    from firmware.ui import glyphs

    m = Meter(None)
    bus, d, _ = lcd()
    d.init()
    buf = bytearray(1024)
    d.bind(buf)
    for k, tab in (("", "METER"), ("enter", "SET"), ("right", "SET")):  # then a password digit being edited
        if k:
            m.key(k)
        assert uifb.render(m.ui.screen(), buf) == 0
        micropython.heap_lock()
        try:
            d.show(buf)
        finally:
            micropython.heap_unlock()
        assert bus.picture() == buf and sum(buf) > 0
        # the screen's tab, light capitals on a dark field, read back off the controller's RAM
        assert find_cols(bus.picture(), text_cols(glyphs.TINY, tab), 5, y1=7, inv=True)


class KeyPin:
    def __init__(self):
        self.v = 1  # released: the pull-up

    def value(self):
        return self.v


def _keys():
    pins = {}
    for n in keys.NAMES:
        pins[n] = KeyPin()
    return keys.Keys(pins), pins


def _run_keys(k, pin, script, t_end, editing, at, names):
    """Poll every ms from 0 to t_end; script(t) -> the pin's level; events into at/names. Heap-locked."""
    n = 0
    micropython.heap_lock()
    try:
        for t in range(t_end):
            pin.v = script(t)
            e = k.poll(t, editing)
            if e is not None:
                at[n] = t
                names[n] = e
                n += 1
    finally:
        micropython.heap_unlock()
    return n


def _bounce_10ms(t):  # 10 ms of chatter, then released
    return t & 1 if 100 <= t < 110 else 1


def _press_with_bounce(t):  # 5 ms of chatter, held 100 ms, 5 ms of chatter on release
    if 100 <= t < 105 or 205 <= t < 210:
        return t & 1
    return 0 if 105 <= t < 205 else 1


def _held_2s(t):
    return 0 if 100 <= t < 2100 else 1


def test_keys_debounce_and_repeat():
    at = array("i", bytes(4 * 64))
    names = [None] * 64
    k, pins = _keys()
    assert _run_keys(k, pins["up"], _bounce_10ms, 400, True, at, names) == 0  # chatter alone is no key
    k, pins = _keys()
    n = _run_keys(k, pins["enter"], _press_with_bounce, 400, True, at, names)
    assert n == 1 and names[0] == "enter" and at[0] == 104 + keys.DEBOUNCE_MS, (n, at[0])  # last edge at 104
    k, pins = _keys()
    n = _run_keys(k, pins["up"], _held_2s, 2200, True, at, names)
    t0 = 100 + keys.DEBOUNCE_MS
    want = [t0] + list(range(t0 + keys.REPEAT_DELAY_MS, 2100, keys.REPEAT_MS))
    assert list(at[:n]) == want and names[:n] == ["up"] * n, list(at[:n])
    assert keys.REPEAT_DELAY_MS == 600 and keys.REPEAT_MS == 150 and n == 11
    k, pins = _keys()
    n = _run_keys(k, pins["down"], _held_2s, 2200, False, at, names)  # not editing: no repeat
    assert n == 1 and names[0] == "down"
    k, pins = _keys()
    n = _run_keys(k, pins["right"], _held_2s, 2200, True, at, names)  # only up/down repeat
    assert n == 1 and names[0] == "right"


def test_keys_two_at_once_and_late_polls():
    k, pins = _keys()
    pins["left"].v = 0
    pins["enter"].v = 0
    got = []
    for t in range(0, 100, 10):
        got.append(k.poll(t, False))
    assert [g for g in got if g] == ["left", "enter"]  # both reported, one per call
    assert k.held("left") and not k.held("up")
    k, pins = _keys()
    pins["up"].v = 0
    got = [(t, k.poll(t, True)) for t in (0, 30, 700, 1500, 1510, 1660)]
    # a poll 800 ms late gives one repeat, not a burst; the cadence restarts from it
    assert [g for g in got if g[1]] == [(30, "up"), (700, "up"), (1500, "up"), (1660, "up")], got


class InPin:
    def __init__(self):
        self.v = 1

    def value(self):
        return self.v


def _run_di(d, pin, script, t_end, at, ks):
    n = 0
    micropython.heap_lock()
    try:
        for t in range(t_end):
            pin.v = script(t)
            r = d.poll(t)
            if r:
                at[n] = t
                ks[n] = r
                n += 1
    finally:
        micropython.heap_unlock()
    return n


def _closure_30ms(t):
    return 0 if 100 <= t < 130 else 1


def _closure_45ms(t):
    return 0 if 100 <= t < 145 else 1


def test_inputs_debounce():
    at = array("i", bytes(4 * 8))
    ks = array("i", bytes(4 * 8))
    pins = (InPin(), InPin())
    d = dio.Inputs(pins)
    assert _run_di(d, pins[1], _closure_30ms, 400, at, ks) == 0  # shorter than 40 ms: ignored
    n = _run_di(d, pins[1], _closure_45ms, 400, at, ks)
    assert n == 2 and list(ks[:2]) == [2, -2] and list(at[:2]) == [140, 185], (list(at[:n]), list(ks[:n]))
    # the board's use: the meter's I/O follows
    io = Io()
    pins[0].v = 0
    for t in range(1000, 1100, 5):
        r = d.poll(t)
        if r:
            io.set_input(abs(r) - 1, r > 0)
    assert list(io.inputs) == [1, 0]


class OutPin:
    def __init__(self, v=7):
        self.v = v

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


def test_relays_and_pulse_outputs():
    pins = (OutPin(), OutPin())
    relays = dio.Relays(pins)
    assert [p.v for p in pins] == [0, 0]  # open at start-up
    io = Io(relay_out=relays)
    micropython.heap_lock()
    try:
        io.write_coil(1, True)
        io.write_coil(0, 0)
    finally:
        micropython.heap_unlock()
    assert [p.v for p in pins] == [0, 1]
    io.write_coil(0, 5)
    io.write_coil(1, False)
    assert [p.v for p in pins] == [1, 0]
    p, q = OutPin(), OutPin()
    out = dio.PulseOut(p, q)
    assert (p.v, q.v) == (0, 0)
    micropython.heap_lock()
    try:
        out(0, 1)
        out(1, 0)
    finally:
        micropython.heap_unlock()
    assert (p.v, q.v) == (1, 0)
    out(0, 0)
    out(1, 1)
    assert (p.v, q.v) == (0, 1)
    inv = dio.PulseOut(p, None, active=0)  # an output stage that conducts on low; no Q terminal
    assert p.v == 1
    inv(0, 1)
    inv(1, 1)
    assert p.v == 0
    # through the firmware's pulse player: one pulse due on P -> on, then off after its width
    from firmware.pulse import Pulse

    gen = array("i", [0, 0])
    p.v = q.v = 0
    pl = Pulse(gen, dio.PulseOut(p, q))
    gen[0] = 1
    pl.advance(1)
    assert p.v == 1 and q.v == 0
    pl.advance(pl.width)
    assert p.v == 0 and pl.emitted[0] == 1


class IrqPin:
    IRQ_FALLING = 4

    def __init__(self):
        self.v = 1
        self.handler = None
        self.trigger = 0
        self.hard = False

    def value(self):
        return self.v

    def irq(self, handler=None, trigger=0, hard=False):
        self.handler = handler
        self.trigger = trigger
        self.hard = hard


def test_power_fail_schedules_the_handler():
    pin = IrqPin()
    calls = bytearray(1)

    def save(p):
        calls[0] += 1

    pf = dio.PowerFail(pin, save)
    assert pin.trigger == IrqPin.IRQ_FALLING and pin.hard and not pf.low()
    pin.v = 0
    micropython.heap_lock()
    try:
        pin.handler(pin)  # the IRQ: no allocation
        for _ in range(10):  # the scheduler runs the handler between bytecodes
            pass
    finally:
        micropython.heap_unlock()
    assert calls[0] == 1 and pf.pending == 0 and pf.low()
    pf.pending = 1  # an edge queued and not yet run: a second edge queues nothing more
    pin.handler(pin)
    for _ in range(10):
        pass
    assert calls[0] == 1
    pf.fire()  # the loop's fallback runs it once
    pf.fire()
    assert calls[0] == 2 and pf.pending == 0
    pf.disable()
    assert pin.handler is None


class Pwm:
    def __init__(self):
        self.f = 0
        self.duty = -1

    def freq(self, f):
        self.f = f

    def duty_u16(self, d):
        assert 0 <= d <= 65535
        self.duty = d


def test_analog_output_duty_is_the_rounded_ratio_and_clamps():
    # duty = round(uA x 65535 / 24000) (docs/analog.md), computed here in exact integers; 0 mA at start; clamped
    # to 0..24 mA; heap-locked (Meter.feed calls it)
    p = Pwm()
    out = ao.AnalogOut(p)
    assert p.f == 1907 and p.duty == 0
    micropython.heap_lock()
    try:
        for ua, want in ((4000, 10923), (12000, 32768), (20000, 54613), (23200, 63351), (24000, 65535),
                         (30000, 65535), (-5, 0)):
            out(ua)
            assert p.duty == want, (ua, p.duty)
        for ua in range(0, 24001, 7):
            out(ua)
            assert p.duty == (ua * 65535 * 2 + 24000) // 48000, ua
    finally:
        micropython.heap_unlock()
