# SPDX-License-Identifier: MIT
# The device's RTU line logic (firmware/modbus/port.py, used by boards/*/rs485.py) against a fake UART with a
# virtual microsecond clock that behaves like machine.UART's timeout_char: frame end at t3.5, discard on a
# t1.5 gap, recovery after noise and partial frames, reply no earlier than t3.5, DE around the write.
import micropython
from array import array

import case_modbus as C
from firmware.modbus import rtu
from firmware.modbus import slave as S
from firmware.modbus.port import Port, serial_params

_N = 2048


class Clock:
    def __init__(self):
        self.t = 1000

    def ticks_us(self):
        self.t += 3  # every look at the clock costs a little time, as on the device
        return self.t & 0x3FFFFFFF


class FakeUart:
    """Bytes arrive at scheduled times; readinto waits timeout_char (ms) for each next byte like the ports."""

    def __init__(self, clock):
        self.clock = clock
        self.at = array("i", bytes(4 * _N))  # arrival time of each byte
        self.rx = bytearray(_N)
        self.n = 0
        self.pos = 0
        self.tc_ms = 2
        self.char_us = 1042
        self.out = bytearray(512)
        self.nout = 0
        self.tx_start = array("i", bytes(4 * 16))  # start time of each reply
        self.tx_end = array("i", bytes(4 * 16))
        self.nreplies = 0
        self.de = None

    def schedule(self, data, t, gap_after=-1, gap=0):
        # characters back to back from t (each arrives when its last bit is in); optional extra gap
        for i in range(len(data)):
            t += self.char_us
            if i == gap_after + 1 and gap_after >= 0:
                t += gap
            self.at[self.n] = t
            self.rx[self.n] = data[i]
            self.n += 1
        return t

    def any(self):
        k = 0
        while self.pos + k < self.n and self.at[self.pos + k] <= self.clock.t:
            k += 1
        return k

    def readinto(self, buf):
        c = self.clock
        n = 0
        tc = 1000 * self.tc_ms
        while n < len(buf):
            if self.pos < self.n and self.at[self.pos] <= c.t:
                buf[n] = self.rx[self.pos]
                self.pos += 1
                n += 1
            elif self.pos < self.n and self.at[self.pos] <= c.t + tc:
                c.t = self.at[self.pos]
            else:
                c.t += tc
                break
        return n if n else None

    def write(self, buf, n):
        assert self.de is not None and self.de.v == 1, "DE must be on before the first bit"
        for i in range(n):
            self.out[self.nout + i] = buf[i]
        self.nout += n
        self.tx_start[self.nreplies] = self.clock.t
        self.tx_end[self.nreplies] = self.clock.t + n * self.char_us
        self.nreplies += 1
        return n

    def flush(self):
        # the FIFO drains before the last character's stop bit has left the pin
        self.clock.t = self.tx_end[self.nreplies - 1] - self.char_us // 2

    def txdone(self):
        self.clock.t += 10
        return self.clock.t >= self.tx_end[self.nreplies - 1]


class FakePin:
    def __init__(self, clock):
        self.clock = clock
        self.v = 0
        self.off_at = 0

    def value(self, v):
        if self.v and not v:
            self.off_at = self.clock.t
        self.v = v


class Rig:
    def __init__(self, baud=9600, data=0):
        self.clock = Clock()
        self.uart = FakeUart(self.clock)
        self.de = FakePin(self.clock)
        self.uart.de = self.de
        self.slave = C.make()
        self.inits = []
        self.port = Port(self.uart, self.de, self.slave.handle, self.slave.tx, self.clock.ticks_us, self._reinit,
                         self.slave.counters)
        self.port.set_serial(baud, data)
        self.uart.char_us = self.port.char_us

    def _reinit(self, baud, parity, stop, tc_ms):
        self.inits.append((baud, parity, stop, tc_ms))
        self.uart.tc_ms = tc_ms

    def run(self, until, step=200):
        # the main loop: poll, then other work (a metering window...) for `step` microseconds
        c = self.clock
        poll = self.port.poll
        micropython.heap_lock()
        try:
            while c.t < until:
                poll()
                c.t += step
        finally:
            micropython.heap_unlock()

    def replies(self):
        out = []
        k = 0
        for i in range(self.uart.nreplies):
            n = (self.uart.tx_end[i] - self.uart.tx_start[i]) // self.uart.char_us
            out.append(bytes(self.uart.out[k:k + n]))
            k += n
        return out


REQ = C.adu(0x11, C.h("03 00 00 00 01"))
ANS = C.adu(0x11, C.h("03 02 00 00"))


def test_frame_answered_after_t35_with_de_around_the_write():
    r = Rig()
    end = r.uart.schedule(REQ, 5000)
    r.run(end + 20000)
    assert r.replies() == [ANS]
    t35 = rtu.t35_us(9600, 10)
    start = r.uart.tx_start[0]
    assert start - end > t35 and start - end < t35 + 2500  # no earlier than t3.5, and promptly
    assert r.de.v == 0 and r.de.off_at >= r.uart.tx_end[0]  # DE dropped after the last stop bit


def test_gap_over_t15_discards_the_frame_then_recovers():
    r = Rig()
    ch = r.uart.char_us
    end = r.uart.schedule(REQ, 5000, gap_after=3, gap=int(1.5 * ch) + 400)  # 1.9 characters of silence
    end = r.uart.schedule(REQ, end + 6000)
    r.run(end + 20000)
    assert r.replies() == [ANS]  # only the second one
    assert r.port.frames == 1


def test_short_gap_inside_a_frame_is_fine():
    r = Rig()
    end = r.uart.schedule(REQ, 5000, gap_after=2, gap=r.uart.char_us // 2)  # 1.5 character times in all
    r.run(end + 20000)
    assert r.replies() == [ANS]


def test_noise_then_frame_and_partial_frame_then_frame():
    r = Rig()
    end = r.uart.schedule(b"\x00\xff\x55", 5000)  # line noise
    end = r.uart.schedule(REQ, end + 5000)
    end = r.uart.schedule(REQ[:5], end + 30000)  # a master that died mid-frame
    end = r.uart.schedule(REQ, end + 8000)
    r.run(end + 20000)
    assert r.replies() == [ANS, ANS]
    c = r.slave.counters
    assert c[S.BUS_MESSAGES] == 4 and c[S.BUS_ERRORS] == 2  # noise and the half frame reached the CRC check


def test_frame_glued_within_t35_is_not_split():
    r = Rig()
    end = r.uart.schedule(REQ, 5000)
    end = r.uart.schedule(REQ, end + 2500)  # 2.4 characters later: t1.5 < gap < t3.5, both are lost
    end = r.uart.schedule(REQ, end + 6000)
    r.run(end + 20000)
    assert r.replies() == [ANS]


def test_overrun_counted():
    r = Rig()
    end = r.uart.schedule(bytes(300), 5000)
    end = r.uart.schedule(REQ, end + 6000)
    r.run(end + 20000)
    assert r.replies() == [ANS] and r.slave.counters[S.OVERRUNS] == 1


def test_serial_settings_reprogram_the_uart():
    r = Rig()
    assert serial_params(9600, 0) == (0, 1, 10) and serial_params(9600, 1) == (1, 1, 11)
    assert serial_params(9600, 2) == (2, 1, 11) and serial_params(9600, 3) == (0, 2, 11)
    assert serial_params(9600, 5) == (2, 2, 12)
    r.port.set_serial(19200, 1)
    assert r.inits[-1] == (19200, 1, 1, 1) and r.port.t35 == 2006  # t1.5 = 860 us -> 1 ms
    r.port.set_serial(1200, 4)
    assert r.inits[-1] == (1200, 1, 2, 15) and r.port.t35 == 35000  # 12 bits: t1.5 = 15 ms exactly
    for b in (38400, 57600, 115200):
        r.port.set_serial(b, 0)
        assert r.inits[-1] == (b, 0, 1, 1) and r.port.t35 == 1750  # fixed values above 19200
    r.port.set_serial(115200, 0)
    r.uart.char_us = r.port.char_us
    end = r.uart.schedule(REQ, 5000)
    r.run(end + 5000, step=100)
    assert r.replies() == [ANS] and r.uart.tx_start[0] - end > 1750


class _FakePin:
    OUT = 1

    def __init__(self, n, mode=0, value=None):
        self.n = n
        self.mode = mode
        self.v = value

    def value(self, v):
        self.v = v


class _FakeMachineUart:
    def __init__(self, n, baud, **kw):
        self.n = n
        self.kw = kw
        self.inits = []

    def init(self, **kw):
        self.inits.append(kw)

    def any(self):
        return 0

    def readinto(self, buf):
        return 0

    def write(self, buf, n):
        return n

    def flush(self):
        pass


class _FakeConfig:
    def get(self, name):
        return {"baud": 192, "dATA": 1}[name]  # 19200 baud, 8E1


class _FakeMeter:
    def __init__(self):
        self.config = _FakeConfig()
        self.slave = C.make()
        self.tx = self.slave.tx
        self.on_serial = None

    def modbus(self, frame, n):
        return 0

    def bind_line(self, on_serial):
        self.on_serial = on_serial

    def serial_settings(self):
        return self.config.get("baud") * 100, self.config.get("dATA")


def test_uart_line_wires_the_board_uart_de_and_settings():
    from firmware.modbus.port import UartLine

    m = _FakeMeter()
    line = UartLine(m, _FakeMachineUart, _FakePin, {"uart": 1, "tx": 4, "rx": 5, "de": 6}, Clock().ticks_us)
    assert line.de.n == 6 and line.de.mode == _FakePin.OUT and line.de.v == 0  # receiving
    assert line.uart.n == 1 and line.uart.kw["tx"].n == 4 and line.uart.kw["rx"].n == 5
    assert line.uart.kw["timeout"] == 0 and line.uart.kw["rxbuf"] == 512
    assert m.on_serial == line.port.set_serial and line.poll == line.port.poll
    # the meter's 19200 8E1 reached machine.UART with parity 0 (even) and t1.5 = 860 us -> 1 ms
    assert line.uart.inits[-1] == {"baudrate": 19200, "bits": 8, "parity": 0, "stop": 1, "timeout": 0,
                                   "timeout_char": 1}
    line.port.set_serial(9600, 5)  # 8O2: odd is 1 for machine.UART
    assert line.uart.inits[-1]["parity"] == 1 and line.uart.inits[-1]["stop"] == 2
    line.port.set_serial(9600, 3)  # 8N2: no parity is None
    assert line.uart.inits[-1]["parity"] is None
