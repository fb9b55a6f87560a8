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
