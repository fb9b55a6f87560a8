# SPDX-License-Identifier: MIT
# The simulated RS485 line against real masters (mbpoll, pymodbus) behaves like a wire (docs/sim.md, "The line"):
# a master that writes a request and goes away (one-shot, timed out, killed) leaves no reply for the next master;
# a master at the wrong baud rate or parity gets no valid answer, at the right settings it does, also after the
# meter's baud rate was changed over Modbus (a commissioning check can fail); a frame over 256 bytes counts one
# overrun in FC08 0x12 and nothing in 0x0C (docs/modbus.md), on the micropython and cpython runtimes (the rp2040
# runtime: test_sim_rp2040.py).
import signal
import subprocess
import sys

import pytest
from pymodbus.exceptions import ModbusIOException

from lineprobe import (BAUD, BLT, DATA, IA, TRUTH, UA_REQUEST, client, crc16, fc08, frames_seen, is_ia, mbpoll,
                       mbpoll_write, need_mbpoll, one_shot, overrun, read_ia, relay)
from headless_sim import HeadlessSim


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = HeadlessSim(tmp_path_factory.mktemp("line"), scenario="default", speed="1")
    s.wait_time(1.5)  # measured values in the SDM630 profile
    yield s
    s.stop()


def test_one_shot_master_then_mbpoll_15_times(sim):
    # a master that leaves: a request for Ua (220 V) written by a process that exits, then mbpoll reads Ia (5 A):
    # mbpoll must get its own answer every time, never the 220 V meant for the master that left
    need_mbpoll()
    before = relay(sim)
    got = []
    for _ in range(15):
        one_shot(sim, UA_REQUEST)
        got.append(mbpoll(sim)[1])
    assert all(is_ia(v) for v in got), got
    after = relay(sim)
    # every request was answered by the meter; a one-shot master's answer was lost (it had gone, or mbpoll's
    # request was on the line already) or reached it before it exited (and went with it: never to mbpoll)
    assert sum(after[k] - before[k] for k in ("frames_out", "unheard", "late")) == 30


def test_a_master_that_timed_out_or_was_killed_leaves_nothing(sim):
    need_mbpoll()
    for _ in range(3):
        # pymodbus gives up before the meter answers (the reply comes at the next 50 ms block) and closes
        n = relay(sim)["frames_in"]
        c = client(sim, timeout=0.001)
        with pytest.raises(ModbusIOException):
            c.read_input_registers(0, count=2, device_id=1)
        c.close()
        frames_seen(sim, n + 1)
        rc, v = mbpoll(sim)
        assert rc == 0 and is_ia(v), v
        # a master killed while it waits for its reply
        code = ("import os,sys,time; fd=os.open(sys.argv[1], os.O_RDWR|os.O_NOCTTY); "
                "os.write(fd, bytes.fromhex(sys.argv[2])); print(1, flush=True); time.sleep(60)")
        n = relay(sim)["frames_in"]
        p = subprocess.Popen([sys.executable, "-c", code, sim.link, UA_REQUEST.hex()], stdout=subprocess.PIPE)
        p.stdout.readline()
        p.send_signal(signal.SIGKILL)
        p.wait()
        frames_seen(sim, n + 1)
        c = client(sim)
        assert abs(read_ia(c) / TRUTH["Ia"] - 1) < 0.002
        c.close()


def test_a_write_is_confirmed_by_its_own_echo(sim):
    # a stale echo: a write "confirmed" with the previous write's echo
    for old, new in ((7, 9), (9, 7)):
        pdu = bytes([1, 6, 0, BLT, 0, old])
        n = relay(sim)["frames_in"]
        one_shot(sim, pdu + crc16(pdu))
        frames_seen(sim, n + 1)
        c = client(sim)
        r = c.write_register(BLT, new, device_id=1)
        assert not r.isError() and r.address == BLT and r.registers == [new], r
        assert c.read_holding_registers(BLT, count=1, device_id=1).registers == [new]
        c.close()


def test_wrong_settings_get_no_valid_answer(sim):
    need_mbpoll()
    errors = fc08(sim, 0x0C)
    assert mbpoll(sim, baud=19200, timeout=0.3) == (1, [])
    assert mbpoll(sim, baud=4800, timeout=0.3) == (1, [])
    assert mbpoll(sim, parity="even", timeout=0.3) == (1, [])
    c = client(sim, baud=19200, timeout=0.3)
    assert read_ia(c) is None
    c.close()
    assert fc08(sim, 0x0C) > errors  # the meter heard garbage: CRC errors
    rc, v = mbpoll(sim)
    assert rc == 0 and is_ia(v)
    rc, v = mbpoll(sim, "-s", "2", "-t", "3:float", "-B", "-r", str(IA), "-c", "1")  # 8N2 to 8N1: as on a wire,
    assert rc == 0 and is_ia(v), v  # a receiver checks only the first stop bit


def test_a_changed_baud_rate_needs_the_master_changed_too(sim):
    need_mbpoll()
    c = client(sim)
    assert not c.write_register(BAUD, 192, device_id=1).isError()  # answered at 9600, then the meter is at 19200
    c.close()
    try:
        assert mbpoll(sim, timeout=0.3) == (1, [])  # the commissioning check at the old rate fails ...
        c = client(sim, baud=9600, timeout=0.3)
        assert read_ia(c) is None
        c.close()
        rc, v = mbpoll(sim, baud=19200)  # ... and passes at the new one
        assert rc == 0 and is_ia(v)
        c = client(sim, baud=19200)
        assert abs(read_ia(c) / TRUTH["Ia"] - 1) < 0.002
        assert sim.state()["baud"] == 19200
        # 8E1: mbpoll at even parity (libmodbus sets INPCK, which the pty keeps) is heard, at none it is not
        assert not c.write_register(DATA, 1, device_id=1).isError()
        c.close()
        rc, v = mbpoll(sim, baud=19200, parity="even")
        assert rc == 0 and is_ia(v)
        assert mbpoll(sim, baud=19200, parity="none", timeout=0.3) == (1, [])
    finally:  # back to 9600 8N1 (at whichever settings the meter has now)
        for parity in ("even", "none"):
            mbpoll_write(sim, DATA, 0, baud=19200, parity=parity)
        assert mbpoll_write(sim, BAUD, 96, baud=19200) == 0
    rc, v = mbpoll(sim)
    assert rc == 0 and is_ia(v)
    assert sim.state()["baud"] == 9600 and sim.state()["data"] == "8N1"


def test_a_frame_over_256_bytes_is_an_overrun(sim):
    overrun(sim)


def test_a_frame_over_256_bytes_is_an_overrun_cpython(tmp_path):
    s = HeadlessSim(tmp_path, runtime="cpython", speed="1")
    try:
        overrun(s)
    finally:
        s.stop()
