# SPDX-License-Identifier: MIT
# Alarms and relays end to end: the sim (MicroPython) driven through its stdin and its pty by raw Modbus frames: remote
# relays, an over-voltage rule driving DO1 as the scenario changes, after a restart, refused FC05, DI debounce.
import json
import os
import signal
import struct
import time

import serial

from conftest import ROOT
from headless_sim import HeadlessSim
from firmware import events as ev
from firmware import regmap
from tools.client import Meter
from cases.rtu_ref import frame as crc

AL = regmap.block("alarms")[0]
LIM = regmap.block("alarm_lim")[0]
ST = regmap.block("alarm_st")[0]
CNT = regmap.block("alarm_n")[0]
DI = regmap.block("di_log")[0]
DO1_M = regmap.config_index("DO1_M")


def rtu(port, pdu, expect=64):
    with serial.Serial(port, 9600, timeout=0.3) as s:
        s.reset_input_buffer()
        s.write(crc(b"\x01" + pdu))
        return s.read(expect)


def regs(port, addr, n):
    r = rtu(port, struct.pack(">BHH", 3, addr, n), 5 + 2 * n)
    assert r[:3] == bytes([1, 3, 2 * n]), r
    return struct.unpack(">%dH" % n, r[3:3 + 2 * n])


def write(port, addr, data):
    n = len(data) // 2
    return rtu(port, struct.pack(">BHHB", 16, addr, n, len(data)) + data, 8)


def scenario(tmp, volts):
    with open(os.path.join(ROOT, "tools", "scenarios", "default.json")) as f:
        d = json.load(f)
    for p in "abc":
        d["phases"][p]["voltage"] = volts
    path = tmp / ("u%d.json" % volts)
    path.write_text(json.dumps(d))
    return str(path)


def power_cut(sim):
    sim.p.send_signal(signal.SIGKILL)  # the launcher dies: the firmware reads EOF, exits, saves nothing
    sim.p.wait()


def test_remote_relay_on_off_and_open_after_power_cut(tmp_path):
    state = tmp_path / "flash"
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        p = sim.pty
        assert rtu(p, b"\x05\x00\x00\xff\x00") == crc(b"\x01\x05\x00\x00\xff\x00")  # DO1 on
        assert rtu(p, b"\x01\x00\x00\x00\x02") == crc(b"\x01\x01\x01\x01") and sim.state()["relays"] == [1, 0]
        assert rtu(p, b"\x05\x00\x00\x00\x00") == crc(b"\x01\x05\x00\x00\x00\x00")  # off
        assert sim.state()["relays"] == [0, 0]
        assert rtu(p, b"\x05\x00\x01\xff\x00") == crc(b"\x01\x05\x00\x01\xff\x00")  # DO2 on, then the cut
        assert sim.state()["relays"] == [0, 1]
    finally:
        power_cut(sim)
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        assert sim.state()["relays"] == [0, 0]
        assert rtu(sim.pty, b"\x01\x00\x00\x00\x02") == crc(b"\x01\x01\x01\x00")
    finally:
        sim.stop()


def _watch(sim, port, until, t0, delay, want_state, want_relay):
    """Poll until rule 1 reaches want_state; every snapshot before t0 + delay - one window must show it not yet
    (a snapshot's simulated time and state are one reading of the meter: no wall-clock timing)."""
    while True:
        time.sleep(0.02)  # pacing the polls only: every judgement is on the simulated time
        s = sim.state()
        st = s["alarms"]["status"][0]
        if st == want_state:
            assert s["time_s"] >= t0 + delay - 0.25, (s["time_s"], t0, delay)
            assert s["relays"][0] == want_relay
            return s
        assert s["time_s"] < until, ("rule 1 did not reach", want_state, s["time_s"], s["alarms"])


def test_over_voltage_rule_closes_releases_and_closes_again_after_restart(tmp_path):
    state = tmp_path / "flash"
    sim = HeadlessSim(tmp_path, state_dir=state, speed="4")
    try:
        p = sim.pty
        assert write(p, DO1_M, b"\x00\x01")[:2] == b"\x01\x10"  # DO1 in alarm mode
        # rule 1: Ua over 240 V, return below 230 V, 2 s on-delay, 1 s off-delay, DO1
        assert write(p, AL, struct.pack(">5H", 0, 1, 2, 1, 1))[:2] == b"\x01\x10"
        assert write(p, LIM, struct.pack(">ff", 240.0, 10.0))[:2] == b"\x01\x10"
        assert regs(p, AL, 5) == (0, 1, 2, 1, 1)
        # FC05 / FC15 on the alarm-mode relay: exception 04, nothing changes
        assert rtu(p, b"\x05\x00\x00\xff\x00") == crc(b"\x01\x85\x04")
        assert rtu(p, b"\x0f\x00\x00\x00\x02\x01\x03") == crc(b"\x01\x8f\x04")
        sim.wait_time(2.0)
        s = sim.state()
        assert s["relays"] == [0, 0] and s["alarms"]["status"][0] == 0
        t0 = s["time_s"]
        sim.cmd("scenario " + scenario(tmp_path, 250))
        s = _watch(sim, p, t0 + 10, t0, 2.0, 2, 1)
        assert regs(p, ST, 1) == (2,) and regs(p, CNT, 2) == (0, 1)
        for k in ("left", "right", "right", "right"):  # PQM: demand, harmonics, unbalance, the alarm page
            sim.cmd("key " + k)
        lcd = sim.lcd().splitlines()
        assert lcd[0].startswith("PQM AL ") and lcd[1].split() == ["on", "1"] and lcd[-1].endswith(" AL"), lcd
        # 235 V: below the threshold but above the return level: stays active for longer than the off-delay
        sim.cmd("scenario " + scenario(tmp_path, 235))
        t1 = sim.state()["time_s"]
        sim.wait_time(t1 + 2.5)
        s = sim.state()
        assert s["alarms"]["status"][0] == 2 and s["relays"][0] == 1
        t2 = s["time_s"]
        sim.cmd("scenario " + scenario(tmp_path, 225))
        s = _watch(sim, p, t2 + 10, t2, 1.0, 0, 0)
        assert regs(p, CNT, 2) == (0, 1)
        sim.cmd("scenario " + scenario(tmp_path, 250))
        _watch(sim, p, s["time_s"] + 10, s["time_s"], 2.0, 2, 1)
        # the event log: activation with the value that made it, clearing with its value, the relay by the alarm
        m = Meter(p, timeout=2)
        evs = [e for e in m.events(20)[1] if e["kind"] in (ev.ALARM_ON, ev.ALARM_OFF, ev.RELAY)]
        m.close()
        assert [(e["kind"], e["aux"]) for e in evs[:5]] == [(ev.RELAY, 3), (ev.ALARM_ON, 0), (ev.RELAY, 2),
                                                          (ev.ALARM_OFF, 0), (ev.RELAY, 3)]
        assert abs(evs[1]["value"] - 250) < 1 and abs(evs[3]["value"] - 225) < 1 and evs[4]["seq"] < evs[3]["seq"]
    finally:
        assert sim.stop() == 0
    # the condition still holds at power-up: evaluated again, the relay closes again after the on-delay
    sim = HeadlessSim(tmp_path, state_dir=state, scenario=scenario(tmp_path, 250), speed="4")
    try:
        s = sim.state()
        assert s["relays"] == [0, 0] and s["relay_mode"] == [1, 0]
        _watch(sim, sim.pty, s["time_s"] + 10, 0.0, 2.0, 2, 1)
        assert regs(sim.pty, CNT, 2) == (0, 1)  # activations since power-up
    finally:
        sim.stop()


def test_switch_input_bounce_ignored_and_change_counted(tmp_path):
    sim = HeadlessSim(tmp_path)
    try:
        p = sim.pty
        sim.cmd("di 1 pulse 30")  # closed 30 ms of sample time: shorter than the 40 ms debounce
        sim.wait_time(sim.state()["time_s"] + 0.5)
        assert regs(p, DI, 2) == (0, 0) and rtu(p, b"\x02\x00\x00\x00\x02") == crc(b"\x01\x02\x01\x00")
        sim.cmd("di 2 pulse 60")  # 60 ms: a real closure and, once open again, a second change
        sim.wait_time(sim.state()["time_s"] + 0.5)
        assert regs(p, DI, 4) == (0, 0, 0, 2)
        sim.cmd("di 1 on")
        sim.wait_time(sim.state()["time_s"] + 0.5)
        assert rtu(p, b"\x02\x00\x00\x00\x02") == crc(b"\x01\x02\x01\x01")
        r = regs(p, DI, 8)
        s = sim.state()
        assert r[:2] == (0, 1) and s["di_count"] == [1, 2]
        ymd = (r[4] << 16) | r[5]
        assert ymd == s["energy"]["date"]  # stamped with the meter's clock
    finally:
        sim.stop()
