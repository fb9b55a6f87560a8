# SPDX-License-Identifier: MIT
# End to end: the headless sim (firmware in the MicroPython unix port) polled over its pty by real masters.
# Values are compared with the scenario's analytic truth; bad requests get the spec's answer (or silence).
import os
import shutil
import struct
import subprocess
import time

import pytest
import serial
from pymodbus.client import ModbusSerialClient

from conftest import ROOT
from headless_sim import HeadlessSim
from tools import scenario as scen
from tools.truth import truth
from firmware import regmap
from cases.rtu_ref import frame as crc

SCEN = os.path.join(ROOT, "tools", "scenarios")
ALL_NAMES = [m[0] for m in regmap.MEASUREMENTS]
# every metered real-time quantity (THD and UNB are judged by tools/accuracy_pq.py and its tests)
NAMES = [n for n in ALL_NAMES if not n.startswith(("THD", "UNB"))]


def raw(port, frame, expect=64, wait=0.3):
    with serial.Serial(port, 9600, timeout=wait) as s:
        s.reset_input_buffer()
        s.write(frame)
        return s.read(expect)


def read_all(client):
    rr = client.read_holding_registers(regmap.MEAS_BASE, count=2 * regmap.N_MEAS, device_id=1)
    assert not rr.isError(), rr
    floats = client.convert_from_registers(rr.registers, data_type=client.DATATYPE.FLOAT32)
    return dict(zip(ALL_NAMES, floats))


def check_against_truth(got, want):
    worst = {}
    for name in NAMES:
        g, w = got[name], want[name]
        if name.startswith("PF"):
            err, lim = abs(g - w), 0.002
        elif name.startswith("Phi"):  # phase angles, degrees, across the +-180 seam
            err, lim = abs((g - w + 180.0) % 360.0 - 180.0), 0.2
        elif name == "F":
            err, lim = abs(g - w), 0.01
        else:
            # 0.2% of reading. P and Q are judged against half the apparent power when smaller than that (a
            # pure export phase has Q = 0; no meter reads 0.2% of zero), a zero quantity of an open phase against
            # the largest of its kind.
            ref = abs(w)
            if name[0] in "PQ":
                ref = max(ref, 0.5 * abs(want["S" + name[1:]]))
            if ref < 1e-9:
                ref = max(abs(want[n]) for n in NAMES if n[0] == name[0] and n[:2] not in ("PF", "Ph"))
            err, lim = abs(g - w) / ref, 0.002
        worst[name] = err
        assert err <= lim, "%s: got %r want %r (error %.3g > %.3g)" % (name, g, w, err, lim)
    return worst


@pytest.mark.parametrize("name", ["default.json", "unbalanced_49_8.json", "harmonics_60.json", "export.json"])
def test_values_match_truth_over_pymodbus(tmp_path, name):
    path = os.path.join(SCEN, name)
    sim = HeadlessSim(tmp_path, scenario=path)
    try:
        sim.wait_time(1.0)
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        worst = check_against_truth(read_all(c), truth(scen.load(path)))
        c.close()
        print(name, " ".join("%s=%.2g" % kv for kv in sorted(worst.items())))
    finally:
        sim.stop()


def test_bad_requests_get_spec_answers(tmp_path):
    sim = HeadlessSim(tmp_path)
    try:
        p = sim.pty
        good = crc(b"\x01\x03\x00\x00\x00\x02")
        assert raw(p, good) == crc(b"\x01\x03\x04\x00\x01\x00\x60")  # Adr=1, baud=96
        assert raw(p, good[:-1] + bytes([good[-1] ^ 1])) == b""  # wrong CRC: silence
        assert raw(p, crc(b"\x02\x03\x00\x00\x00\x02")) == b""  # other address: silence
        assert raw(p, crc(b"\x01\x2b\x00\x00")) == crc(b"\x01\xab\x01")  # unknown function: 01
        assert raw(p, crc(b"\x01\x03\x7f\x00\x00\x02")) == crc(b"\x01\x83\x02")  # no such register: 02
        assert raw(p, crc(b"\x01\x03\x01\x00\x00\x7e")) == crc(b"\x01\x83\x03")  # 126 registers: 03
        assert raw(p, crc(b"\x01\x06\x00\x06\x00\x00")) == crc(b"\x01\x86\x03")  # Pt_U = 0: 03
        assert raw(p, crc(b"\x01\x06\x00\x04\x00\xe6")) == crc(b"\x01\x86\x03")  # Un = 230: 03
        assert raw(p, crc(b"\x01\x05\x00\x00\x12\x34")) == crc(b"\x01\x85\x03")  # FC05 value rule: 03
        assert raw(p, crc(b"\x01\x03\x00\x04\x00\x04")) == crc(b"\x01\x03\x08\x00\xdc\x00\x05\x00\x01\x00\x01")
        # Broadcast write: applied by every meter, answered by none.
        assert raw(p, crc(b"\x00\x06\x00\x06\x00\x05")) == b""
        assert raw(p, crc(b"\x01\x03\x00\x06\x00\x01")) == crc(b"\x01\x03\x02\x00\x05")
        # Relay by FC05, read back by FC01; switch input by FC02.
        assert raw(p, crc(b"\x01\x05\x00\x01\xff\x00")) == crc(b"\x01\x05\x00\x01\xff\x00")
        assert raw(p, crc(b"\x01\x01\x00\x00\x00\x02")) == crc(b"\x01\x01\x01\x02")
        sim.cmd("di 1 on")
        sim.wait_time(sim.state()["time_s"] + 0.2)  # the meter debounces 40 ms of sample time (docs/alarms.md)
        assert raw(p, crc(b"\x01\x02\x00\x00\x00\x02")) == crc(b"\x01\x02\x01\x01")
        assert sim.state()["relays"] == [0, 1]
    finally:
        sim.stop()


def test_config_written_by_fc16_survives_restart(tmp_path):
    state = tmp_path / "flash"
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        assert not c.write_registers(6, [100, 80], device_id=1).isError()  # Pt_U=100, Ct_I=80
        bad = c.write_registers(4, [230], device_id=1)
        assert bad.isError() and bad.exception_code == 3
        c.close()
    finally:
        assert sim.stop() == 0
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        rr = c.read_holding_registers(0, count=8, device_id=1)
        assert rr.registers == [1, 96, 0, 0, 220, 5, 100, 80]
        sim.wait_time(1.0)
        got = read_all(c)
        c.close()
        want = truth(dict(scen.DEFAULT, settings=dict(scen.DEFAULT["settings"], Pt_U=100, Ct_I=80)))
        assert abs(got["Ua"] / want["Ua"] - 1) < 0.002 and abs(got["P"] / want["P"] - 1) < 0.002
    finally:
        sim.stop()


MBPOLL = shutil.which("mbpoll")


@pytest.mark.skipif(not MBPOLL, reason="mbpoll is not installed (Debian package mbpoll; .ci/run installs it)")
def test_mbpoll_reads_floats(tmp_path):
    sim = HeadlessSim(tmp_path)
    try:
        sim.wait_time(1.0)
        # mbpoll numbers registers from 1 (-0 for PDU addresses); -t 4:float -B big-endian word order.
        r = subprocess.run([MBPOLL, "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-0", "-r",
                            str(regmap.MEAS_BASE), "-c", "3", "-t", "4:float", "-B", "-1", "-o", "2", sim.pty],
                           capture_output=True, text=True, timeout=30)
        vals = [float(line.split(":")[1]) for line in r.stdout.splitlines() if line.startswith("[")]  # "[256]: 220.0"
        want = truth(scen.DEFAULT)
        assert len(vals) == 3, r.stdout + r.stderr
        for v, n in zip(vals, ("Ua", "Ub", "Uc")):
            assert abs(v / want[n] - 1) < 0.002
    finally:
        sim.stop()
