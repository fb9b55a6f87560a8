# SPDX-License-Identifier: MIT
# tools/wire.py, the bit-level model of the RS485 line between two UARTs (docs/sim.md, "The line"): equal settings
# pass every byte, a stop-bit mismatch too (receivers check the first stop bit only), a wrong baud rate or parity
# does not; the receiving drivers' rules for errors; the formats a Linux pty keeps and how the launcher sets one.
import os
import random
import termios
import tty

import pytest
import serial

from tools import wire
from tools.simchip import crc16

F = wire.Format.parse
REQ = bytes.fromhex("010400060002") + crc16(bytes.fromhex("010400060002"))  # FC04 2 registers from 6
REPLY = bytes.fromhex("01040440a00000") + crc16(bytes.fromhex("01040440a00000"))  # 5.0 as a float


def crc_ok(frame):
    return len(frame) >= 4 and crc16(frame[:-2]) == frame[-2:]


def test_equal_settings_pass_every_byte():
    rnd = random.Random(1)
    data = bytes(rnd.randrange(256) for _ in range(300))
    for code in wire.DATA_CODES:
        for baud in (1200, 9600, 115200):
            f = F(baud, code)
            assert wire.meter_reads(data, f, f) == data
            assert wire.master_reads([(data, f, 0)], f, termios.INPCK) == data
            # the general path (a delayed sender) decodes the same bytes
            assert bytes(b for b, pe, fe, brk in wire.receive([(data, f, 0.25)], f)) == data


@pytest.mark.parametrize("a,b", [("8N1", "8N2"), ("8N2", "8N1"), ("8E1", "8E2"), ("8O2", "8O1")])
def test_stop_bits_do_not_matter(a, b):
    # a receiver checks only the first stop bit (PL011, 16550): back-to-back characters with one stop bit are read
    # by a two-stop-bit receiver, and two stop bits are only more idle time for a one-stop-bit receiver
    rnd = random.Random(2)
    data = bytes(rnd.randrange(256) for _ in range(64))
    chars = wire.receive([(data, F(9600, a), 0)], F(9600, b))
    assert bytes(c[0] for c in chars) == data and not any(c[1] or c[2] or c[3] for c in chars)


@pytest.mark.parametrize("baud", [1200, 2400, 4800, 19200, 38400, 57600, 115200])
def test_a_wrong_baud_rate_reads_garbage(baud):
    meter = F(9600, "8N1")
    for frame in (REQ, REPLY):
        got = wire.meter_reads(frame, F(baud, "8N1"), meter)
        assert got != frame and not crc_ok(got)
        back = wire.master_reads([(frame, meter, 0)], F(baud, "8N1"), 0)
        assert back != frame and not crc_ok(back)


def test_wrong_parity():
    n1, e1 = F(9600, "8N1"), F(9600, "8E1")
    # 8E1 characters read as 8N1: the data bits are right, the parity bit is taken for the stop bit; a 0x00 with its
    # parity bit 0 is ten low bits, a break, which the rp2 driver drops: the request loses its zeros
    assert wire.meter_reads(REQ, e1, n1) == bytes.fromhex("0104060291ca")
    # 8N1 characters back to back read as 8E1: the next start bit is taken for the stop bit, and the receiver
    # loses the character framing
    got = wire.meter_reads(REQ, n1, e1)
    assert got != REQ and not crc_ok(got)
    # the meter (8N1) answers a master at 8O1 with parity checking (libmodbus sets INPCK): errors read as \0
    assert wire.master_reads([(REPLY, n1, 0)], F(9600, "8O1"), termios.INPCK) != REPLY


def test_master_driver_rules():
    # a parity/framing error is reported only with INPCK: IGNPAR drops it, else it reads as \0; a break reads as
    # \0 unless IGNBRK
    e1, n1 = F(9600, "8E1"), F(9600, "8N1")
    data = bytes([0x01, 0x00, 0x03])  # read as 8N1: 0x01 has parity 1 (fine), 0x00 is a break, 0x03 parity 0 (FE)
    assert wire.receive([(data, e1, 0)], n1) == [(1, False, False, False), (0, False, True, True),
                                                 (3, False, True, False)]
    assert wire.master_reads([(data, e1, 0)], n1, 0) == b"\x01\x00\x03"
    assert wire.master_reads([(data, e1, 0)], n1, termios.INPCK) == b"\x01\x00\x00"
    assert wire.master_reads([(data, e1, 0)], n1, termios.INPCK | termios.IGNPAR) == b"\x01\x00"
    assert wire.master_reads([(data, e1, 0)], n1, termios.INPCK | termios.IGNPAR | termios.IGNBRK) == b"\x01"
    assert wire.meter_reads(data, e1, n1) == b"\x01\x03"  # the rp2 driver keeps errors, drops breaks


def test_two_senders_at_once_garble():
    f = F(9600, "8N1")
    got = wire.master_reads([(REPLY, f, 0), (REPLY, f, 1.3)], f, 0)
    assert got != REPLY and not crc_ok(got)


def test_pty_formats():
    m, s = os.openpty()
    try:
        tty.setraw(s)
        path = os.ttyname(s)
        for baud in (1200, 9600, 19200, 115200):
            for code in wire.DATA_CODES:
                wire.set_termios(s, F(baud, code))
                wire.set_termios(s, F(baud, code))  # again: no error when nothing changes
                assert wire.from_termios(termios.tcgetattr(m), m) == F(baud, code)  # read on the master side
        # pyserial's settings as the master side sees them: the pty clears PARENB, so even parity without
        # INPCK cannot be told from none (a documented limit); odd, mark and space stay readable
        for par, want in (("N", "8N1"), ("E", "8N1"), ("O", "8O1"), ("M", "8M1"), ("S", "8S1")):
            wire.set_termios(s, F(9600, "8N1"))
            p = serial.Serial(path, 19200, parity=par)
            try:
                assert wire.from_termios(termios.tcgetattr(m), m) == F(19200, want)
            finally:
                p.close()
        # libmodbus (mbpoll -P even) sets PARENB and INPCK: even; the launcher's own state (the ECHOKE mark) never
        # makes its tcsetattr change nothing but PARENB (Debian's glibc answers that with EINVAL: wire.pty_parity)
        for _ in range(2):
            wire.set_termios(s, F(9600, "8E1"))
            attr = termios.tcgetattr(s)
            attr[0] = termios.INPCK
            attr[1] = 0
            attr[2] = termios.CS8 | termios.CREAD | termios.CLOCAL | termios.PARENB | termios.B9600
            attr[3] = 0
            termios.tcsetattr(s, termios.TCSANOW, attr)
            assert wire.from_termios(termios.tcgetattr(m), m) == F(9600, "8E1")
    finally:
        os.close(s)
        os.close(m)
