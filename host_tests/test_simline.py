# SPDX-License-Identifier: MIT
# The sim's RS485 line (tools/simrelay.py) in-process: a reply starts no earlier than t3.5 of the configured baud
# after the request's last byte, a second reply to one request counts as a collision, frames end at line silence.
import os
import select
import time

import pytest

from tools.simrelay import PtyLine, t35


def test_t35_values():
    # Serial Line v1.02 sec. 2.5.1.1: 3.5 characters of 11 bits; fixed 1.75 ms above 19200 baud
    assert t35(9600) == pytest.approx(3.5 * 11 / 9600) and t35(1200) == pytest.approx(0.0320833, rel=1e-5)
    assert t35(19200) == pytest.approx(0.0020052, rel=1e-4) and t35(38400) == t35(115200) == 0.00175


def echo_line(baud, replies=1):
    line = PtyLine(baud=baud)
    path = line.open()
    line.start(lambda data: [line.write(data) for _ in range(replies)])
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    return line, fd


def ask(fd, frame, want):
    t0 = time.monotonic()
    os.write(fd, frame)
    got, first = b"", None
    t_end = t0 + 2
    while len(got) < want and time.monotonic() < t_end:
        if select.select([fd], [], [], 0.05)[0]:
            first = first or time.monotonic()
            got += os.read(fd, 256)
    return got, (first - t0) if first else None


@pytest.mark.parametrize("baud", [1200, 2400])
def test_reply_waits_t35_after_the_request(baud):
    line, fd = echo_line(baud)
    try:
        frame = bytes(range(1, 9))
        for _ in range(3):
            got, delay = ask(fd, frame, len(frame))
            assert got == frame
            assert delay >= t35(baud, 10) - 0.0005, delay  # the reply did not start before t3.5 (8N1) had passed
        # the 4 ms frame gap alone is shorter than t3.5 at these rates: the hold did the waiting (on a loaded host
        # the relay may see the silence later than t3.5 anyway, then nothing is left to hold)
        assert line.stats["held"] >= 1 and line.stats["frames_in"] == line.stats["frames_out"] == 3
        assert line.stats["collisions"] == 0
    finally:
        os.close(fd)
        line.close()


def test_fast_line_needs_no_hold_and_a_second_reply_collides():
    line, fd = echo_line(115200, replies=2)
    try:
        frame = b"\x01\x03\x00\x00\x00\x01\x84\x0a"
        got, delay = ask(fd, frame, 2 * len(frame))
        assert got == frame and delay >= 0.004 - 0.0005  # the frame gap already exceeds t3.5 (1.75 ms)
        # the second reply to the same request is not sent (on a wire it would have garbled the first)
        assert line.stats["held"] == 0 and line.stats["collisions"] == 1
    finally:
        os.close(fd)
        line.close()


# --- a wire, not a mailbox: a reply reaches the master that asked, while it is there, and only as the line carries it
class Meter:
    """The line's far end in-process: frames as the relay cut them, with their request numbers and formats."""

    def __init__(self, line):
        self.frames = []
        self.line = line

    def __call__(self, frame):
        self.frames.append((frame, self.line.rx_seq, self.line.rx_fmt))

    def wait(self, n):
        t_end = time.monotonic() + 5
        while len(self.frames) < n and time.monotonic() < t_end:
            time.sleep(0.005)
        assert len(self.frames) >= n, self.frames


def line_and_meter(**kw):
    line = PtyLine(**kw)
    path = line.open()
    meter = Meter(line)
    line.start(meter)
    return line, path, meter


def opened(path):
    return os.open(path, os.O_RDWR | os.O_NOCTTY)


def wait_for(cond):
    t_end = time.monotonic() + 5
    while not cond() and time.monotonic() < t_end:
        time.sleep(0.005)
    assert cond()


def read_all(fd, quiet=0.15):
    """What the master can read until the line has been quiet for `quiet` s (the replies here are written before)."""
    got = b""
    while select.select([fd], [], [], quiet)[0]:
        got += os.read(fd, 512)
    return got


def test_a_reply_to_a_master_that_went_away_reaches_nobody():
    line, path, meter = line_and_meter()
    try:
        a = opened(path)
        os.write(a, b"\x01\x04\x00\x00\x00\x02\x71\xcb")  # a one-shot master: it writes and goes away
        os.close(a)
        meter.wait(1)
        b = opened(path)  # the next master opens before the meter answers the first one
        wait_for(lambda: line.stats["opens"] == 2)
        line.write(b"REPLY-A", meter.frames[0][1])
        os.write(b, b"REQUEST-B")
        meter.wait(2)
        line.write(b"REPLY-B", meter.frames[1][1])
        assert read_all(b) == b"REPLY-B"
        assert line.stats["unheard"] == 1 and line.stats["frames_out"] == 1
        os.close(b)
    finally:
        line.close()


def test_a_reply_after_a_newer_request_is_lost():
    line, path, meter = line_and_meter()
    try:
        a = opened(path)
        os.write(a, b"FIRST")
        meter.wait(1)
        os.write(a, b"SECOND")  # the master gave up waiting and asked again
        meter.wait(2)
        line.write(b"REPLY-1", meter.frames[0][1])  # on a wire it would have met the second request
        line.write(b"REPLY-2", meter.frames[1][1])
        assert read_all(a) == b"REPLY-2" and line.stats["late"] == 1
        os.close(a)
    finally:
        line.close()


def test_a_reply_left_unread_is_not_the_next_masters():
    line, path, meter = line_and_meter()
    try:
        a = opened(path)
        os.write(a, b"REQUEST-A")
        meter.wait(1)
        line.write(b"REPLY-A", meter.frames[0][1])  # A is there: the reply is sent ...
        os.close(a)  # ... and A leaves without reading it
        b = opened(path)
        wait_for(lambda: line.stats["closes"] == 1)  # the line saw A go: its port's input is discarded
        assert read_all(b) == b""
        os.close(b)
    finally:
        line.close()


def test_two_replies_to_one_request_garble_each_other():
    # a bus of three meters: each answers every frame (b"" for silence); two replies at once are garbage
    reply = b"\x01\x04\x04\x40\xa0\x00\x00\xef\x8f"
    line, path, meter = line_and_meter(voters=3)
    try:
        a = opened(path)
        os.write(a, b"\x01\x04\x00\x06\x00\x02\x91\xca")
        meter.wait(1)
        seq = meter.frames[0][1]
        line.write(reply, seq)
        line.write(b"", seq)
        assert read_all(a) == b""  # the line waits for every meter
        line.write(reply, seq)
        got = read_all(a)
        assert got != reply and len(got) > 0 and line.stats["collisions"] == 1
        os.write(a, b"\x01\x04\x00\x06\x00\x02\x91\xca")  # one reply and two silences: the reply, intact
        meter.wait(2)
        seq = meter.frames[1][1]
        for data in (b"", reply, b""):
            line.write(data, seq)
        assert read_all(a) == reply
        os.close(a)
    finally:
        line.close()


def test_the_masters_settings_against_the_meters():
    # the pty starts at the meter's settings; a master at another baud rate reads what its UART makes of the reply
    import serial

    from tools import wire

    reply = b"\x01\x04\x04\x40\xa0\x00\x00\xef\x8f"
    line, path, meter = line_and_meter()
    try:
        line.configure(wire.Format.parse(19200, "8E1"))
        plain = opened(path)  # sets nothing: talks at the line's settings
        os.write(plain, b"PLAIN")
        meter.wait(1)
        assert meter.frames[0][2] == wire.Format.parse(19200, "8E1")
        line.write(reply, meter.frames[0][1], wire.Format.parse(19200, "8E1"))
        assert read_all(plain) == reply
        os.close(plain)
        wait_for(lambda: line.stats["closes"] == 1)
        p = serial.Serial(path, 9600, timeout=0.3)
        p.write(b"SLOW")
        meter.wait(2)
        assert meter.frames[1][2] == wire.Format.parse(9600, "8N1")
        line.write(reply, meter.frames[1][1], wire.Format.parse(19200, "8E1"))
        got = p.read(64)
        assert got != reply and line.stats["garbled"] == 1
        p.close()
        assert line.master_format()[0] == wire.Format.parse(9600, "8N1")  # the port keeps what a master set
    finally:
        line.close()
