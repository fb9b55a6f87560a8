# SPDX-License-Identifier: MIT
# Modbus RTU slave cases (run under CPython and MicroPython): exact frames from the spec's examples, every
# exception path, broadcast, bad CRC, other address, half frames, counters; CRC and rtu framing: case_modbus_rtu.py.
import micropython

from firmware.modbus import slave as S
from firmware.modbus.codes import ILLEGAL_DATA_VALUE, SERVER_DEVICE_FAILURE
from rtu_ref import crc_ref, frame as _frame  # independent truth: the bitwise CRC of Serial Line v1.02 sec. 6.2.2

# crc_ref is also used by other cases as C.crc_ref


def adu(addr, pdu):
    """Address + PDU + CRC (low byte first)."""
    return _frame(bytes([addr]) + bytes(pdu))


def h(s):
    return bytes.fromhex(s.replace(" ", ""))


# -- fakes with the lead's interface; they allocate nothing either --------------------------------------


class Regs:
    def __init__(self, n, kind=2):
        self.image = bytearray(2 * n)
        self.kind = bytearray(n)
        for i in range(n):
            self.kind[i] = kind
        self.limit = 1000  # values above: -ILLEGAL_DATA_VALUE (out of range), nothing changed
        self.fail = -1  # a write touching this register: -SERVER_DEVICE_FAILURE (could not execute)
        self.writes = 0

    def find(self, start, q):
        return start if start + q <= len(self.kind) else -1

    def write(self, addr, count, src, off):
        self.writes += 1
        for i in range(count):
            if (src[off + 2 * i] << 8) | src[off + 2 * i + 1] > self.limit:
                return -ILLEGAL_DATA_VALUE
            if addr + i == self.fail:
                return -SERVER_DEVICE_FAILURE
        img = self.image
        for i in range(2 * count):
            img[2 * addr + i] = src[off + i]
        return 0

    def reg(self, r):
        return (self.image[2 * r] << 8) | self.image[2 * r + 1]

    def set(self, r, v):
        self.image[2 * r] = v >> 8
        self.image[2 * r + 1] = v & 0xFF


class Bits:
    def __init__(self, n_coils=2048, n_inputs=2048):
        self.coils = bytearray(n_coils)
        self.inputs = bytearray(n_inputs)
        self.locked = bytearray(n_coils)  # 1: relay not in remote mode, write refused
        self.calls = 0

    def write_coil(self, i, v):
        self.calls += 1
        if self.locked[i]:
            return -SERVER_DEVICE_FAILURE
        self.coils[i] = v
        return 0


def make(inregs=True, address=0x11):
    regs = Regs(300)
    return S.Slave(regs, Bits(), address, Regs(300, 1) if inregs else None)


def call(s, frame):
    """handle() with the heap locked: any allocation raises MemoryError under MicroPython."""
    n = len(frame)
    micropython.heap_lock()
    try:
        k = s.handle(frame, n)
    finally:
        micropython.heap_unlock()
    return bytes(s.tx[:k])


def exc(s, pdu, code, addr=0x11):
    r = call(s, adu(addr, pdu))
    assert r == adu(addr, [pdu[0] | 0x80, code]), (pdu, r)


# -- the examples of the Application Protocol v1.1b3 (PDUs), as RTU frames for slave 0x11 -----------------


def test_fc03_spec_example():
    s = make()
    for r, v in ((107, 0x022B), (108, 0x0000), (109, 0x0064)):
        s.regs.set(r, v)
    assert call(s, h("11 03 00 6B 00 03 76 87")) == adu(0x11, h("03 06 02 2B 00 00 00 64"))


def test_fc01_spec_example_unused_bits_zero():
    s = make()
    c = s.bits.coils
    for i in range(len(c)):
        c[i] = 1  # coils past the requested range are on: they must not leak into the last byte
    st = h("CD 6B 05")
    for i in range(19):
        c[19 + i] = (st[i >> 3] >> (i & 7)) & 1
    assert call(s, adu(0x11, h("01 00 13 00 13"))) == adu(0x11, h("01 03 CD 6B 05"))
    for i in range(600):
        s.regs.image[i] = 0xFF  # leave 0xFF all over tx, then read coils that are off
    assert len(call(s, adu(0x11, h("03 00 00 00 7D")))) == 255
    for i in range(19):
        c[19 + i] = 0
    assert call(s, adu(0x11, h("01 00 13 00 13"))) == adu(0x11, h("01 03 00 00 00"))


def test_fc02_spec_example():
    s = make()
    d = s.bits.inputs
    for i in range(len(d)):
        d[i] = 1
    st = h("AC DB 35")
    for i in range(22):
        d[196 + i] = (st[i >> 3] >> (i & 7)) & 1
    assert call(s, adu(0x11, h("02 00 C4 00 16"))) == adu(0x11, h("02 03 AC DB 35"))


def test_fc04_spec_example():
    s = make()
    s.inregs.set(8, 0x000A)
    assert call(s, adu(0x11, h("04 00 08 00 01"))) == adu(0x11, h("04 02 00 0A"))


def test_fc05_spec_example_and_off():
    s = make()
    req = adu(0x11, h("05 00 AC FF 00"))
    assert call(s, req) == req and s.bits.coils[172] == 1
    req = adu(0x11, h("05 00 AC 00 00"))
    assert call(s, req) == req and s.bits.coils[172] == 0


def test_fc06_spec_example():
    s = make()
    req = adu(0x11, h("06 00 01 00 03"))
    assert call(s, req) == req and s.regs.reg(1) == 3


def test_fc15_spec_example():
    s = make()
    c = s.bits.coils
    c[29] = 1  # just past the range: must stay
    assert call(s, adu(0x11, h("0F 00 13 00 0A 02 CD 01"))) == adu(0x11, h("0F 00 13 00 0A"))
    assert list(c[19:30]) == [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1] and c[18] == 0


def test_fc16_spec_example():
    s = make()
    assert call(s, adu(0x11, h("10 00 01 00 02 04 00 0A 01 02"))) == adu(0x11, h("10 00 01 00 02"))
    assert s.regs.reg(1) == 0x000A and s.regs.reg(2) == 0x0102


def test_spec_exception_example():
    s = S.Slave(Regs(8), Bits(2, 2), 0x11)  # the spec's 'read coil 1186' on the meter's 2 coils: 81 02
    assert call(s, adu(0x11, h("01 04 A1 00 01"))) == adu(0x11, h("81 02"))


# -- limits and exception paths -----------------------------------------------------------------------------


def test_read_limits():
    s = make()
    for fc in (3, 4):
        exc(s, [fc, 0, 0, 0, 0], 3)
        exc(s, [fc, 0, 0, 0, 126], 3)
        assert len(call(s, adu(0x11, [fc, 0, 0, 0, 125]))) == 255
    for fc in (1, 2):
        exc(s, [fc, 0, 0, 0, 0], 3)
        exc(s, [fc, 0, 0, 0x07, 0xD1], 3)  # 2001
        r = call(s, adu(0x11, [fc, 0, 0, 0x07, 0xD0]))  # 2000 bits = 250 bytes
        assert len(r) == 255 and r[2] == 250
    exc(s, [3, 0xFF, 0xFF, 0, 126], 3)  # bad quantity and bad address: quantity is checked first


def test_fc03_125_registers_under_heap_lock():
    s = make()
    for r in range(300):
        s.regs.set(r, (r * 7919) & 0xFFFF)
    r = call(s, adu(0x11, [3, 0, 100, 0, 125]))
    assert r[:3] == bytes([0x11, 3, 250]) and r[3:253] == bytes(s.regs.image[200:450])
    assert crc_ref(r[:253]) == r[253] | r[254] << 8


def test_address_errors():
    s = make()
    exc(s, [3, 0x01, 0x2C, 0, 1], 2)  # register 300: one past the bank
    exc(s, [3, 0x01, 0x20, 0, 13], 2)  # 288..300: the last one is past the bank
    assert len(call(s, adu(0x11, [3, 0x01, 0x20, 0, 12]))) == 29  # 288..299 fits
    exc(s, [4, 0x01, 0x2C, 0, 1], 2)
    s.regs.kind[50] = 0  # a hole in the map
    exc(s, [3, 0, 45, 0, 10], 2)
    exc(s, [6, 0, 50, 0, 1], 2)
    exc(s, [16, 0, 49, 0, 2, 4, 0, 1, 0, 1], 2)
    s.regs.kind[60] = 1  # read-only: readable, not writable
    assert len(call(s, adu(0x11, [3, 0, 60, 0, 1]))) == 7
    exc(s, [6, 0, 60, 0, 1], 2)
    exc(s, [16, 0, 59, 0, 2, 4, 0, 1, 0, 1], 2)
    exc(s, [1, 0x07, 0xFF, 0, 2], 2)  # coils 2047..2048
    exc(s, [2, 0x08, 0x00, 0, 1], 2)
    exc(s, [5, 0x08, 0x00, 0xFF, 0], 2)
    exc(s, [15, 0x07, 0xFF, 0, 2, 1, 3], 2)
    assert s.regs.writes == 0 and s.bits.calls == 0


def test_unknown_functions():
    s = make(inregs=False)
    for fc in (4, 7, 8, 17, 0x2B, 0x41, 0x7F):
        exc(s, [fc, 0, 0, 0, 1], 1)
    for fc in (0x80, 0x83, 0xFF):  # exception codes are never requests
        assert call(s, adu(0x11, [fc, 0, 0, 0, 1])) == adu(0x11, [fc, 1])


def test_malformed_lengths():
    s = make()
    for fc in (1, 2, 3, 4, 5, 6):
        exc(s, [fc, 0, 0, 0], 3)  # one byte short
        exc(s, [fc, 0, 0, 0, 1, 0], 3)  # one byte long
    exc(s, [16, 0, 0], 3)  # too short to hold a byte count
    exc(s, [15, 0, 0, 0], 3)


def test_fc16_checks():
    s = make()
    exc(s, [16, 0, 0, 0, 0, 0], 3)
    exc(s, [16, 0, 0, 0, 124, 248] + [0] * 246, 3)  # (a 124-register write cannot fit 256 bytes)
    exc(s, [16, 0, 0, 0, 2, 2, 0, 1], 3)  # byte count != 2 * quantity
    exc(s, [16, 0, 0, 0, 1, 2, 0, 1, 9], 3)  # more data than the byte count
    exc(s, [16, 0, 0, 0, 2, 4, 0, 1, 0], 3)  # less data than the byte count
    r = call(s, adu(0x11, [16, 0, 0, 0, 123, 246] + [0, 5] * 123))
    assert r == adu(0x11, [16, 0, 0, 0, 123]) and s.regs.reg(122) == 5


def test_fc15_checks():
    s = make()
    exc(s, [15, 0, 0, 0, 0, 0], 3)
    exc(s, [15, 0, 0, 0x07, 0xB1, 247] + [0] * 247, 3)  # 1969 coils
    exc(s, [15, 0, 0, 0, 9, 1, 0xFF], 3)  # 9 coils need 2 bytes
    exc(s, [15, 0, 0, 0, 8, 1, 0xFF, 0], 3)  # extra byte
    r = call(s, adu(0x11, [15, 0, 0, 0x07, 0xB0, 246] + [0xFF] * 246))
    assert r == adu(0x11, [15, 0, 0, 0x07, 0xB0]) and sum(s.bits.coils) == 1968


def test_fc05_value_must_be_ff00_or_0000():
    s = make()
    for v in ((0x12, 0x34), (0x00, 0xFF), (0xFF, 0xFF), (0x00, 0x01)):
        exc(s, [5, 0, 1, v[0], v[1]], 3)
    exc(s, [5, 0x08, 0x00, 0x12, 0x34], 3)  # bad value and bad address: the value is checked first
    assert s.bits.calls == 0


def test_write_refusals():
    s = make()
    s.regs.set(3, 77)
    exc(s, [6, 0, 3, 0x03, 0xE9], 3)  # 1001 > limit: value out of range
    exc(s, [16, 0, 2, 0, 2, 4, 0, 1, 0x03, 0xE9], 3)
    assert s.regs.reg(3) == 77 and s.regs.reg(2) == 0
    s.regs.fail = 3
    exc(s, [6, 0, 3, 0, 1], 4)
    exc(s, [16, 0, 2, 0, 2, 4, 0, 1, 0, 1], 4)
    assert s.regs.reg(3) == 77
    s.bits.locked[1] = 1
    exc(s, [5, 0, 1, 0xFF, 0], 4)
    assert s.bits.coils[1] == 0


def test_fc15_refusal_rolls_back():
    s = make()
    c = s.bits.coils
    c[2] = 1
    s.bits.locked[5] = 1
    exc(s, [15, 0, 0, 0, 8, 1, 0b11111010], 4)  # 0..4 written first, 5 refused
    assert list(c[0:8]) == [0, 0, 1, 0, 0, 0, 0, 0]


# -- broadcast, addressing, CRC, garbage ----------------------------------------------------------------------


def test_broadcast_writes_executed_never_answered():
    s = make()
    assert call(s, adu(0, h("06 00 01 00 03"))) == b"" and s.regs.reg(1) == 3
    assert call(s, adu(0, h("10 00 04 00 01 02 00 09"))) == b"" and s.regs.reg(4) == 9
    assert call(s, adu(0, h("05 00 07 FF 00"))) == b"" and s.bits.coils[7] == 1
    assert call(s, adu(0, h("0F 00 08 00 02 01 03"))) == b"" and s.bits.coils[9] == 1
    assert call(s, adu(0, h("06 01 2C 00 03"))) == b""  # an error: still silent
    assert call(s, adu(0, h("06 00 01 03 E9"))) == b"" and s.regs.reg(1) == 3
    w = s.regs.writes
    assert call(s, adu(0, h("03 00 00 00 01"))) == b"" and call(s, adu(0, h("07"))) == b""
    assert s.regs.writes == w
    assert s.counters[S.EXCEPTIONS] == 0 and s.counters[S.NO_RESPONSE] == 8


def test_silence_cases():
    s = make()
    good = adu(0x11, h("03 00 00 00 01"))
    assert len(call(s, good)) == 7
    bad = bytearray(good)
    bad[-1] ^= 1
    assert call(s, bytes(bad)) == b""
    bad = bytearray(good)
    bad[3] ^= 0x10
    assert call(s, bytes(bad)) == b""
    assert call(s, adu(0x12, h("03 00 00 00 01"))) == b""  # another slave's request
    assert call(s, adu(0x12, h("07"))) == b""
    for k in range(8):
        assert call(s, good[:k]) == b""  # half frames
    assert call(s, b"\x00\xff\xff\x00\x55\xaa") == b""
    assert call(s, b"\xff" * 3 + good) == b""  # garbage glued to a frame breaks its CRC
    assert call(s, adu(0x11, [])) == b""  # 3 bytes: shorter than 4
    c = s.counters
    assert c[S.BUS_MESSAGES] == 16 and c[S.BUS_ERRORS] == 13 and c[S.SLAVE_MESSAGES] == 1


def test_address_settable():
    s = make()
    s.address = 247
    assert call(s, adu(0x11, h("03 00 00 00 01"))) == b""
    assert call(s, adu(247, h("03 00 00 00 01"))) == adu(247, h("03 02 00 00"))
    assert call(s, adu(247, h("07"))) == adu(247, h("87 01"))


def test_frame_in_memoryview_and_longer_buffer():
    s = make()
    buf = bytearray(256)
    f = adu(0x11, h("03 00 6B 00 01"))
    buf[: len(f)] = f
    for b in (buf, memoryview(buf)):
        micropython.heap_lock()
        k = s.handle(b, 8)
        micropython.heap_unlock()
        assert bytes(s.tx[:k]) == adu(0x11, h("03 02 00 00"))


def test_counters_and_wrap():
    s = make()
    call(s, adu(0x11, h("07")))
    call(s, adu(0x11, h("03 00 00 00 01")))
    assert list(s.counters) == [2, 0, 1, 2, 0, 0, 0, 0]
    s.counters[S.BUS_MESSAGES] = 0xFFFF
    call(s, b"")
    assert s.counters[S.BUS_MESSAGES] == 0 and s.counters[S.BUS_ERRORS] == 1
    s.clear_counters()
    assert list(s.counters) == [0] * 8


def test_dispatch_extension_point():
    s = make()
    tx = s.tx

    calls = bytearray(1)

    def fc08(frame, n):  # a stand-in diagnostics handler: echo sub-function and data
        calls[0] += 1
        if n != 8:
            return -ILLEGAL_DATA_VALUE
        for i in range(2, 6):
            tx[i] = frame[i]
        return 6

    s.on(8, fc08)
    req = adu(0x11, h("08 00 00 A5 37"))
    assert call(s, req) == req
    assert call(s, adu(0, h("08 00 00 A5 37"))) == b""  # not a broadcast function: not even run
    assert calls[0] == 1
    s.on(8, lambda frame, n: 0)  # 0: no reply at all
    assert call(s, req) == b"" and s.counters[S.NO_RESPONSE] == 2
    s.on(8, None)
    exc(s, h("08 00 00 A5 37"), 1)
