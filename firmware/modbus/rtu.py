# SPDX-License-Identifier: MIT
# RTU line framing for the device side: t1.5 / t3.5 silent intervals and an allocation-free frame assembler
# a UART driver feeds with received bytes and timestamps (the sim hands complete frames to the slave directly).
from micropython import const

from firmware.bufs import copy8
from firmware.modbus.codes import ADU_MAX

_FIXED_T15 = const(750)  # us, Serial Line v1.02 sec. 2.5.1.1: fixed values above 19200 baud
_FIXED_T35 = const(1750)
_TICKS_MASK = const(0x3FFFFFFF)  # time.ticks_us() wraps at 2**30 on the MCU ports
_SLACK = const(1 << 20)  # us: a 'negative' gap this small is an estimate that overlapped the previous run


def char_bits(parity=0, stop=1):
    """Bits per character on the line: start + 8 data + parity (0 none, 1 even, 2 odd) + stop bits."""
    return 9 + (1 if parity else 0) + stop


def t15_us(baud, bits=11):
    """Longest silence allowed inside a frame (1.5 character times, rounded up), in microseconds."""
    if baud > 19200:
        return _FIXED_T15
    return (3 * bits * 1000000 + 2 * baud - 1) // (2 * baud)


def t35_us(baud, bits=11):
    """Silence that ends a frame (3.5 character times, rounded up), in microseconds."""
    if baud > 19200:
        return _FIXED_T35
    return (7 * bits * 1000000 + 2 * baud - 1) // (2 * baud)


class Assembler:
    """Collects received bytes into one frame.

    feed(data, n, t): n bytes of data arrived, the last at time t (us, ticks_us). A silence over t3.5 before
    them starts a new frame; a silence over t1.5 (but not t3.5) inside a frame marks it bad: the rest is
    dropped until the line is quiet for t3.5. poll(t) returns the length of a complete good frame in
    self.buf once the line has been quiet for more than t3.5, else 0; each frame is returned once and stays in
    buf until the next feed. Call poll at least every t3.5 so a frame is not overwritten by the next one.
    Pass t15=0 when bytes come in FIFO chunks whose inner gaps are unknown (the t1.5 rule is then off).
    Frames longer than 256 bytes are dropped and counted in `overruns` (diagnostic counter 0x12). The CRC is
    left to Slave.handle, which keeps the bus counters.
    """

    def __init__(self, t15, t35):
        self.t15 = t15
        self.t35 = t35
        self.buf = bytearray(ADU_MAX)
        self.n = 0
        self.bad = False
        self.last = 0
        self.overruns = 0

    def set_times(self, t15, t35):
        self.t15 = t15
        self.t35 = t35

    def feed(self, data, n, t):
        self.feed_span(data, n, t, t)

    def feed_span(self, data, n, t_first, t_last):
        """n bytes whose first arrived at t_first and last at t_last, with no gap over t1.5 between them (a
        read that the UART's inter-character timeout ended). The gap before them decides: over t3.5 a new
        frame, over t1.5 the frame in progress is bad."""
        gap = (t_first - self.last) & _TICKS_MASK
        if gap > _TICKS_MASK - _SLACK:
            gap = 0  # t_first estimated a little before the end of the previous run: no gap at all
        self.last = t_last & _TICKS_MASK
        if gap > self.t35:
            self.n = 0
            self.bad = False
        elif self.t15 and gap > self.t15 and self.n:
            self.bad = True  # inter-character gap inside a frame: the frame is discarded
        if self.bad:
            return
        k = self.n
        if k + n > ADU_MAX:
            self.bad = True
            self.overruns += 1
            return
        copy8(self.buf, k, data, 0, n)
        self.n = k + n

    def poll(self, t):
        if (self.n == 0 and not self.bad) or ((t - self.last) & _TICKS_MASK) <= self.t35:
            return 0
        n = self.n
        bad = self.bad
        self.n = 0
        self.bad = False
        return 0 if bad else n
