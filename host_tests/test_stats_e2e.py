# SPDX-License-Identifier: MIT
# Statistics and directions end to end: the sim (MicroPython) switched between scenarios and read over
# Modbus. 1: losing phase A (the zero-crossing reference) leaves every max/min at a measured value of one of the
# two steady states (tools/truth.py), F_min at 50 Hz, Ua_min at 220 V. 2: a balanced resistive load with board
# noise (Q wanders +-0.06 var) shows no reactive direction and no quadrant, the same in every window, and phase
# angles without a sign (exporting: about 180, never -180); a real small Q (PF 0.999, both signs) shows its
# direction.
import json
import os
import struct
import time

from pymodbus.client import ModbusSerialClient

from conftest import ROOT
from firmware import deadband, regmap
from headless_sim import HeadlessSim
from tools import scenario as scen
from tools.truth import truth

NAMES = [r[0] for r in regmap.MEASUREMENTS[:26]]
STATUS = regmap.block("status")[0]
PHI = regmap.MEAS_BASE + 2 * regmap.slot("Phi_a")  # Phi_a Phi_b Phi_c Phi, in a row
assert [regmap.slot(n) for n in ("Phi_b", "Phi_c", "Phi")] == [regmap.slot("Phi_a") + k for k in (1, 2, 3)]
NOISE = {ch: {"noise": 0.01} for ch in ("Ua", "Ub", "Uc")}
NOISE.update({ch: {"noise": 0.002} for ch in ("Ia", "Ib", "Ic")})
SETTINGS = {"SYSS": "3Ln3CT", "Pt_U": 1, "Ct_I": 1, "Un": 220, "In": 5}


def _scenario(tmp_path, name, phases, noise=False):
    d = {"version": 1, "name": name, "frequency": 50.0, "phases": phases, "settings": SETTINGS}
    if noise:
        d["imperfections"] = NOISE
    path = str(tmp_path / (name + ".json"))
    with open(path, "w") as f:
        json.dump(d, f)
    return path


def _balanced(angle):
    return {p: {"voltage": 220.0, "current": 5.0, "angle": angle} for p in "abc"}


def _wait_windows(sim, k, timeout=60):
    end = sim.state()["windows"] + k
    t0 = time.monotonic()
    while sim.state()["windows"] < end:
        assert time.monotonic() - t0 < timeout, "the meter stopped metering"
        time.sleep(0.02)


def _status(c):
    rr = c.read_holding_registers(STATUS, count=5, device_id=1)
    assert not rr.isError(), rr
    return list(rr.registers)


def _watch_status(sim, c, windows):
    """STATUS and the phase angles read over and over until `windows` more windows were metered: the set of
    STATUS values seen (with the LCD's header line: quadrant and IND/CAP follow the same dead band), the reads,
    the lowest and highest angle read."""
    seen = set()
    reads = 0
    lo, hi = 1e9, -1e9
    end = sim.state()["windows"] + windows
    while sim.state()["windows"] < end:
        seen.add(tuple(_status(c)) + (sim.lcd().split("\n")[0],))
        rr = c.read_holding_registers(PHI, count=8, device_id=1)
        assert not rr.isError(), rr
        phi = struct.unpack(">4f", struct.pack(">8H", *rr.registers))
        lo, hi = min(lo, *phi), max(hi, *phi)
        reads += 1
    return seen, reads, lo, hi


def test_phase_loss_and_direction_dead_band(tmp_path):
    default = os.path.join(ROOT, "tools", "scenarios", "default.json")
    lost = _scenario(tmp_path, "a_lost", {p: {"voltage": 220.0, "current": 5.0, "angle": 30.0} for p in "bc"})
    truths = [truth(scen.load(default)), truth(scen.load(lost))]
    assert truths[1]["Ua"] == 0.0 and truths[1]["F"] == 50.0
    sim = HeadlessSim(tmp_path, scenario=default, speed=10)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        _wait_windows(sim, 8)
        sim.cmd("scenario " + lost)
        _wait_windows(sim, 12)  # the transition, then steady windows on both sides of each tracked one
        rr = c.read_holding_registers(regmap.block("maxmin")[0], count=4 * 26, device_id=1)
        assert not rr.isError(), rr
        got = struct.unpack(">52f", struct.pack(">104H", *rr.registers))
        for k, name in enumerate(NAMES):
            # a quantity's extremes are its values in the scenarios where it is measured (truth above 0; PF where
            # its phase carries load), never a reading of 0 for "not measured" or a transition's partial value
            phase = name[-1] if name[-1] in "abc" and name[0] in "PQS" else None
            seen = [t[name] for t in truths if (t["S" + phase] if phase else t[name]) != 0.0]
            hi, lo = max(seen), min(seen)
            tol = 2e-3 if name == "F" else 5e-4 * max(abs(hi), 1.0)
            assert abs(got[k] - hi) <= tol and abs(got[26 + k] - lo) <= tol, (name, got[k], hi, got[26 + k], lo)
        # 2: noise on a resistive load: |Q| stays under 0.1 var, far inside the dead band: no direction at all, and
        # the phase angles (atan2 Q, P: +-0.001 degree) read without a sign; exporting, about 180 and not -180
        sim.cmd("scenario " + _scenario(tmp_path, "unity_noise", _balanced(0.0), noise=True))
        _wait_windows(sim, 3)
        seen, reads, lo, hi = _watch_status(sim, c, 100)
        assert seen == {(0, 0, 0, 0, 0, "Meter U")} and reads >= 20 and 0.0 <= lo and hi < 0.01, (seen, reads, lo, hi)
        sim.cmd("scenario " + _scenario(tmp_path, "export_noise", _balanced(180.0), noise=True))
        _wait_windows(sim, 3)
        seen, reads, lo, hi = _watch_status(sim, c, 20)
        assert seen == {(0, 0, 0, 0, 0, "Meter U")} and reads >= 5 and 179.99 < lo and hi <= 180.0, (seen, reads, lo, hi)
        # a real small Q, PF 0.999 lagging and leading: Q = 147 var, 9 times the dead band (0.5 % of S)
        for angle, want in ((2.5625, (1, 1, 1, 1, 1, "Meter U   Q1 IND")), (-2.5625, (4, 2, 2, 2, 2, "Meter U   Q4 CAP"))):
            path = _scenario(tmp_path, "pf0999", _balanced(angle), noise=True)
            t = truth(scen.load(path))
            assert abs(t["PF"] - 0.999) < 1e-4 and abs(t["Q"]) > 8 * deadband.K_ON * t["S"]
            sim.cmd("scenario " + path)
            _wait_windows(sim, 3)
            seen, reads, lo, hi = _watch_status(sim, c, 20)
            assert seen == {want} and reads >= 5 and abs(lo - angle) < 0.01 and abs(hi - angle) < 0.01, (
                angle, seen, reads, lo, hi)
        c.close()
    finally:
        sim.stop()
