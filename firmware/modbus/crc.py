# SPDX-License-Identifier: MIT
# CRC-16/MODBUS (poly 0x8005 reflected = 0xA001, init 0xFFFF, no final xor), sent low byte first.
# Table-driven viper kernel: about 10 instructions per byte, no allocation.
import micropython
from micropython import const
from array import array

_POLY = const(0xA001)


def _table():
    t = array("H", bytes(512))
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        t[i] = c
    return t


# 256 uint16 in native byte order, read through ptr16 (the same order on every target).
TABLE = _table()


@micropython.viper
def crc16(buf: ptr8, off: int, n: int) -> int:
    """CRC of buf[off:off+n]. On the wire: low byte first, then high byte."""
    t = ptr16(TABLE)
    c = 0xFFFF
    i = off
    end = off + n
    while i < end:
        c = (c >> 8) ^ t[(c ^ buf[i]) & 0xFF]
        i += 1
    return c


def check(buf, n):
    """True when the last two of n bytes in buf are the CRC of the bytes before them (n >= 3)."""
    c = crc16(buf, 0, n - 2)
    return buf[n - 2] == (c & 0xFF) and buf[n - 1] == (c >> 8)
