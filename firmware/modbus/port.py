# SPDX-License-Identifier: MIT
# The device side of the RTU line, hardware-agnostic: reads a UART in runs split by its inter-character
# timeout (t1.5), delimits frames at t3.5 with rtu.Assembler, answers no earlier than t3.5, drives DE.
from micropython import const

from firmware.modbus import rtu
from firmware.modbus.codes import ADU_MAX
from firmware.modbus.slave import OVERRUNS

_TICKS_MASK = const(0x3FFFFFFF)
_CHUNK = const(32)  # bytes per read: bounds the time one poll() can block on a long frame
_PARITY = (0, 1, 2, 0, 1, 2)  # dATA code -> parity (0 none, 1 even, 2 odd); codes 3..5 have 2 stop bits


def serial_params(baud, data):
    """dATA code (0 8N1, 1 8E1, 2 8O1, 3 8N2, 4 8E2, 5 8O2) -> (parity 0/1/2, stop bits, bits per char)."""
    parity = _PARITY[data]
    stop = 2 if data >= 3 else 1
    return parity, stop, rtu.char_bits(parity, stop)


class Port:
    """One RS485 line. uart: any/readinto/write(buf, n)/flush (and txdone if it has it), configured with
    timeout=0 and timeout_char = self.tc_ms; de: .value(v) (None for auto-direction transceivers).
    handle(frame, n) -> reply length in tx (Meter.modbus). reinit(baud, parity, stop, tc_ms) programs the
    UART (parity None/0/1 for machine.UART is the board's business). counters: Slave.counters for overruns.

    poll() does one step and returns quickly; call it from the main loop as often as possible: every t1.5
    for an exact t1.5 rule, at least every t3.5 so frames are handed out in time.
    """

    def __init__(self, uart, de, handle, tx, ticks_us, reinit=None, counters=None):
        self.de = de
        self.handle = handle
        self.tx = tx
        self.reinit = reinit
        self.counters = counters
        self._any = uart.any
        self._readinto = uart.readinto
        self._write = uart.write
        self._flush = uart.flush
        self._txdone = getattr(uart, "txdone", None)
        self._ticks = ticks_us
        self.chunk = bytearray(_CHUNK)
        self.asm = rtu.Assembler(0, 0)
        self._ovr = 0
        self.frames = 0  # frames handed to handle()
        self.replies = 0
        self.set_serial(9600, 0)

    def set_serial(self, baud, data):
        """Meter.on_serial: new baud rate / data format, after the reply to the write that changed them."""
        parity, stop, bits = serial_params(baud, data)
        t15 = rtu.t15_us(baud, bits)
        self.t35 = rtu.t35_us(baud, bits)
        self.char_us = (bits * 1000000 + baud - 1) // baud
        self.tc_ms = (t15 + 999) // 1000  # the UART's inter-character timeout: t1.5 rounded up to a whole ms
        self.tc_us = 1000 * self.tc_ms
        self.asm.set_times(t15, self.t35)
        if self.reinit is not None:
            self.reinit(baud, parity, stop, self.tc_ms)

    def poll(self):
        """Read what has arrived, or hand a finished frame to handle() and send the reply. Returns the
        length of a frame that was handled (0 otherwise)."""
        k = self._any()
        asm = self.asm
        if k:
            t0 = self._ticks() - k * self.char_us  # the pending bytes began at least this long ago
            n = self._readinto(self.chunk)  # returns at the first gap over tc_ms, or with the chunk full
            t = self._ticks()
            if not n:
                return 0
            # a read cut by the timeout had its last byte tc before it returned; a full chunk, just now
            asm.feed_span(self.chunk, n, t0, t - self.tc_us if n < _CHUNK else t)
            if asm.overruns != self._ovr and self.counters is not None:
                c = self.counters
                c[OVERRUNS] = (c[OVERRUNS] + asm.overruns - self._ovr) & 0xFFFF
                self._ovr = asm.overruns
            return 0
        n = asm.poll(self._ticks())
        if n:
            self.frames += 1
            r = self.handle(asm.buf, n)
            if r:
                self.send(r)
        return n

    def send(self, r):
        # Serial Line 2.5.1.1: the reply starts no earlier than t3.5 after the end of the request.
        last = self.asm.last
        t35 = self.t35
        while ((self._ticks() - last) & _TICKS_MASK) <= t35:
            pass
        de = self.de
        if de is not None:
            de.value(1)
        self._write(self.tx, r)
        self._flush()  # rp2/esp32: returns when the FIFO is empty ...
        if self._txdone is not None:
            while not self._txdone():  # ... txdone() only after the last stop bit has left the pin
                pass
        if de is not None:
            de.value(0)
        self.replies += 1


_UART_PARITY = (None, 0, 1)  # machine.UART: None, 0 even, 1 odd (Port's 0 none, 1 even, 2 odd)
_RXBUF = 2 * ADU_MAX  # two whole frames: a slow main loop loses nothing while it is busy with a metering window


class UartLine:
    """A meter's RS485 line on a machine.UART plus a DE pin, shared by boards/*/rs485.py. The board passes
    machine's UART and Pin classes (firmware/ imports no machine), its pins.RS485 dict {uart, tx, rx, de} and
    time.ticks_us. poll() is Port.poll."""

    def __init__(self, meter, uart_cls, pin_cls, cfg, ticks_us):
        self.de = pin_cls(cfg["de"], pin_cls.OUT, value=0)  # receive until a reply is ready
        self.uart = uart_cls(cfg["uart"], 9600, tx=pin_cls(cfg["tx"]), rx=pin_cls(cfg["rx"]), rxbuf=_RXBUF,
                             txbuf=260, timeout=0, timeout_char=2)
        self.port = Port(self.uart, self.de, meter.modbus, meter.tx, ticks_us, self._reinit,
                         meter.slave.counters)
        meter.bind_line(self.port.set_serial)  # Meter.service() calls it after the reply to the change
        self.port.set_serial(*meter.serial_settings())
        self.poll = self.port.poll

    def _reinit(self, baud, parity, stop, tc_ms):
        # the ports round timeout_char up (esp32: to whole characters of the new baud rate; rp2: to at least one
        # 13-bit character): never shorter than asked here
        self.uart.init(baudrate=baud, bits=8, parity=_UART_PARITY[parity], stop=stop, timeout=0,
                       timeout_char=tc_ms)
