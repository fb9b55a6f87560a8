# SPDX-License-Identifier: MIT
# Helpers of the tests that check the simulated RS485 line with real masters (test_line_masters.py, the rp2040
# runtime's in test_sim_rp2040.py): mbpoll and pymodbus polls, one-shot masters, FC08 counters in raw bytes.
import shutil
import struct
import subprocess
import sys
import warnings

import pytest
import serial
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from firmware import regmap
from tools import scenario, truth
from tools.simchip import crc16

MBPOLL = shutil.which("mbpoll")
TRUTH = truth.truth(scenario.load("default"))  # Ua 220 V, Ia 5 A
IA = 0x0006  # SDM630 input register (FC04): phase 1 current, float32 high word first (docs/modbus.md)
UA_REQUEST = bytes.fromhex("01040000000271CB")  # a one-shot request: FC04 0x0000 (Ua), 2 registers
BAUD = regmap.CONFIG_BASE + regmap.config_index("baud")
DATA = regmap.CONFIG_BASE + regmap.config_index("dATA")
BLT = regmap.CONFIG_BASE + regmap.config_index("BLt")


def need_mbpoll():
    if not MBPOLL:
        why = "mbpoll is not installed: the line was NOT tested against it (Debian package mbpoll; .ci/run installs it)"
        warnings.warn(why)
        pytest.skip(why)


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
    """Another process writes a request to the line and exits at once (a master that leaves)."""
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
    assert len(got) == 8 and got[:4] == pdu[:4] and crc16(got[:6]) == got[6:], "FC08 %02x: %s" % (sub, got.hex())
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


def overrun(sim, settle=None, chip=False):
    """A 300-byte frame counts one overrun in FC08 0x12, nothing in 0x0C or 0x0B (docs/modbus.md). settle(): wait
    until the meter has taken the frame in (the emulated chip receives it in 312 ms of simulated time). chip: the
    image's Port may also see a short garbled frame in it (one more in 0x0B and 0x0C, docs/modbus.md)."""
    before = [fc08(sim, s) for s in (0x0B, 0x0C, 0x12)]
    n = relay(sim)["frames_in"]
    port = serial.Serial(sim.link, 9600)
    port.write(bytes([1, 3]) + bytes(range(256)) + bytes(42))  # 300 bytes, address 1
    port.close()
    frames_seen(sim, n + 1)
    if settle is not None:
        settle()
    after = [fc08(sim, s) for s in (0x0B, 0x0C, 0x12)]
    # 0x0B counts the three FC08 reads of `before` (its own read comes before it is counted), 0x0C nothing, 0x12 one
    extra = after[1] - before[1] if chip and after[1] - before[1] == 1 else 0
    assert after == [before[0] + 3 + extra, before[1] + extra, before[2] + 1], (before, after)
    return extra
