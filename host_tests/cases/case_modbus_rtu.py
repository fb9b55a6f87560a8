# SPDX-License-Identifier: MIT
# Modbus RTU framing cases (CPython and MicroPython): CRC-16 against the catalogue value and a bitwise reference,
# the t1.5/t3.5 silent intervals and the frame assembler (gaps, chunks, overrun, ticks wrap) under heap_lock.
import micropython

from firmware.modbus import rtu
from firmware.modbus.crc import crc16
from case_modbus import adu, h
from rtu_ref import crc_ref  # independent truth: the bitwise CRC of Serial Line v1.02 sec. 6.2.2


def test_crc_known_vectors():
    assert crc16(b"123456789", 0, 9) == 0x4B37  # CRC-16/MODBUS check value of the CRC catalogue
    assert crc16(h("11 03 00 6B 00 03"), 0, 6) == 0x8776  # on the wire: 76 87
    assert crc16(h("01 03 00 00 00 01"), 0, 6) == 0x0A84  # on the wire: 84 0A
    assert crc16(b"", 0, 0) == 0xFFFF
    assert crc16(b"xx123456789", 2, 9) == 0x4B37  # offset honoured


def test_crc_matches_bitwise():
    buf = bytearray(256)
    x = 12345
    for i in range(256):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        buf[i] = x >> 16 & 0xFF
    for n in (1, 2, 7, 64, 255, 256):
        assert crc16(buf, 0, n) == crc_ref(buf[:n])


def test_rtu_intervals():
    assert rtu.char_bits(0, 1) == 10 and rtu.char_bits(1, 1) == 11 and rtu.char_bits(0, 2) == 11
    assert rtu.char_bits(2, 2) == 12
    assert rtu.t15_us(9600) == 1719 and rtu.t35_us(9600) == 4011  # 16500/9600 us, 38500/9600 us up
    assert rtu.t15_us(19200) == 860 and rtu.t35_us(19200) == 2006
    assert rtu.t15_us(1200, 10) == 12500 and rtu.t35_us(1200, 10) == 29167
    for b in (38400, 57600, 115200):
        assert rtu.t15_us(b) == 750 and rtu.t35_us(b) == 1750


_ONE = bytearray(1)


def _feed_bytes(a, data, t0, dt):
    one = _ONE
    t = t0
    for b in data:
        one[0] = b
        a.feed(one, 1, t)
        t += dt
    return t - dt


def test_assembler_frames_and_gaps():
    a = rtu.Assembler(rtu.t15_us(9600), rtu.t35_us(9600))
    f = adu(0x11, h("03 00 6B 00 03"))
    micropython.heap_lock()
    t = _feed_bytes(a, f, 100000, 1146)  # back to back characters at 9600 8E1
    n1 = a.poll(t + 4000)  # quiet for less than t3.5: not finished
    n2 = a.poll(t + 4100)
    n3 = a.poll(t + 9000)  # handed out once
    micropython.heap_unlock()
    assert n1 == 0 and n2 == 8 and n3 == 0 and bytes(a.buf[:8]) == f
    # garbage, then t3.5 silence, then a frame: the frame comes out clean
    t = _feed_bytes(a, b"\x55\xaa\x01", t + 50000, 1146)
    t = _feed_bytes(a, f, t + 4100, 1146)
    assert a.poll(t + 4100) == 8 and bytes(a.buf[:8]) == f
    # a gap over t1.5 inside a frame discards it, including the bytes after the gap
    t = _feed_bytes(a, f[:3], t + 50000, 1146)
    t = _feed_bytes(a, f[3:], t + 1146 + 1800, 1146)
    assert a.poll(t + 4100) == 0
    t = _feed_bytes(a, f, t + 5000, 1146)
    assert a.poll(t + 4100) == 8


def test_assembler_chunks_overrun_and_wrap():
    a = rtu.Assembler(0, 1750)  # chunked FIFO reads: t1.5 rule off
    f = adu(1, h("10 00 00 00 02 04 00 01 00 02"))
    a.feed(f, 5, 1000)
    a.feed(f[5:], len(f) - 5, 1000 + 1700)  # gap between chunks under t3.5: same frame
    assert a.poll(2700 + 1751) == len(f) and bytes(a.buf[: len(f)]) == f
    big = bytes(200)
    a.feed(big, 200, 20000)
    a.feed(big, 100, 20100)  # 300 bytes: overrun, dropped
    assert a.poll(30000) == 0 and a.overruns == 1
    t0 = (1 << 30) - 100  # ticks_us wraps at 2**30: the gap across the wrap is still 150 us
    a.feed(f, 4, t0)
    a.feed(f[4:], len(f) - 4, 50)
    assert a.poll(50 + 1751) == len(f)
