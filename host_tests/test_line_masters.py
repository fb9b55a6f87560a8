# The simulated RS485 line against real masters (mbpoll, pymodbus) behaves like a wire (docs/sim.md, "The line"):
# a master that writes a request and goes away (one-shot, timed out, killed) leaves no reply for the next master;
# a master at the wrong baud rate or parity gets no valid answer, at the right settings it does, also after the
# meter's baud rate was changed over Modbus (a commissioning check can fail); a frame over 256 bytes counts one
# overrun in FC08 0x12 and nothing in 0x0C (docs/modbus.md), on the micropython and cpython runtimes (the rp2040
# runtime: test_sim_rp2040.py).
import shutil
import signal
import struct
import subprocess
import sys
import warnings

import pytest
import serial
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from firmware import regmap
from simproc import Sim
from tools import scenario, truth
from tools.simchip import crc16

MBPOLL = shutil.which("mbpoll")
TRUTH = truth.truth(scenario.load("default"))  # Ua 220 V, Ia 5 A
IA = 0x0006  # SDM630 input register (FC04): phase 1 current, float32 high word first (docs/modbus.md)
UA_REQUEST = bytes.fromhex("01040000000271CB")  # the one-shot request: FC04 0x0000 (Ua), 2 registers
BAUD = regmap.CONFIG_BASE + regmap.config_index("baud")
DATA = regmap.CONFIG_BASE + regmap.config_index("dATA")
BLT = regmap.CONFIG_BASE + regmap.config_index("BLt")


def need_mbpoll():
    if not MBPOLL:
        why = "mbpoll is not installed: the line was NOT tested against it (Debian package mbpoll; .ci/run installs it)"
        warnings.warn(why)
        pytest.skip(why)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    s = Sim(tmp_path_factory.mktemp("line"), scenario="default", speed="1")
    s.wait_time(1.5)  # measured values in the SDM630 profile
    yield s
    s.stop()


def mbpoll(sim, *args, baud=9600, parity="none", timeout=1.0):
    """One mbpoll poll of SDM630 input register `IA` as a float (or other args); (exit status, values)."""
    cmd = [MBPOLL, "-m", "rtu", "-a", "1", "-b", str(baud), "-P", parity, "-0", "-1", "-o", str(timeout)]
    cmd += list(args or ("-t", "3:float", "-B", "-r", str(IA), "-c", "1")) + [sim.link]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    return r.returncode, [line.split(":", 1)[1].strip() for line in r.stdout.splitlines() if line.startswith("[")]


def mbpoll_write(sim, reg, value, **kw):
    need_mbpoll()
    cmd = [MBPOLL, "-m", "rtu", "-a", "1", "-b", str(kw.get("baud", 9600)), "-P", kw.get("parity", "none"), "-0",
           "-1", "-o", "1", "-r", str(reg), sim.link, str(value)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30).returncode


def is_ia(values):
    return len(values) == 1 and abs(float(values[0]) / TRUTH["Ia"] - 1) < 0.002


def client(sim, baud=9600, timeout=2.0):
    c = ModbusSerialClient(sim.link, baudrate=baud, timeout=timeout, retries=0)
    assert c.connect()
    return c


def read_ia(c):
    """Ia read with pymodbus, or None when no valid answer came."""
    try:
        r = c.read_input_registers(IA, count=2, device_id=1)
    except ModbusIOException:
        return None
    return None if r.isError() else struct.unpack(">f", struct.pack(">HH", *r.registers))[0]


def one_shot(sim, request):
    """Another process writes a request to the line and exits at once (the issue's repro)."""
    code = "import os,sys; fd=os.open(sys.argv[1], os.O_RDWR|os.O_NOCTTY); os.write(fd, bytes.fromhex(sys.argv[2]))"
    subprocess.run([sys.executable, "-c", code, sim.link, request.hex()], check=True, timeout=30)


def fc08(sim, sub, baud=9600):
    """FC08 counter `sub` read with raw bytes (pyserial sets the port: a plain open talks at whatever the previous
    master set, as on a real serial port)."""
    pdu = bytes([1, 8, 0, sub, 0, 0])
    port = serial.Serial(sim.link, baud, timeout=3)
    try:
        port.write(pdu + crc16(pdu))
        got = port.read(8)
    finally:
        port.close()
    assert len(got) == 8 and got[:4] == pdu[:4] and crc16(got[:6]) == got[6:], got.hex()
    return struct.unpack(">H", got[4:6])[0]


def relay(sim):
    return sim.state()["sim"]["relay"]


def frames_seen(sim, n):
    """Wait until the line has cut n requests (a request sent within the frame gap of another would merge with
    it into one garbled frame, on a wire as here: the tests below keep their requests apart)."""
    for _ in range(200):
        if relay(sim)["frames_in"] >= n:
            return
    raise AssertionError("the line saw %d requests, not %d" % (relay(sim)["frames_in"], n))


def test_one_shot_master_then_mbpoll_15_times(sim):
    # the repro: a request for Ua (220 V) written by a process that exits, then mbpoll reads Ia (5 A):
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
    # the second symptom: a write "confirmed" with the previous write's echo
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


def overrun(sim):
    before = [fc08(sim, s) for s in (0x0B, 0x0C, 0x12)]
    n = relay(sim)["frames_in"]
    port = serial.Serial(sim.link, 9600)
    port.write(bytes([1, 3]) + bytes(range(256)) + bytes(42))  # 300 bytes, address 1
    port.close()
    frames_seen(sim, n + 1)
    after = [fc08(sim, s) for s in (0x0B, 0x0C, 0x12)]
    # 0x0B counts the three FC08 reads of `before` (its own read comes before it is counted), 0x0C nothing, 0x12 one
    assert after == [before[0] + 3, before[1], before[2] + 1], (before, after)


def test_a_frame_over_256_bytes_is_an_overrun(sim):
    overrun(sim)


def test_a_frame_over_256_bytes_is_an_overrun_cpython(tmp_path):
    s = Sim(tmp_path, runtime="cpython", speed="1")
    try:
        overrun(s)
    finally:
        s.stop()
