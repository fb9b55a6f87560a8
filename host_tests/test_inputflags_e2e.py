# SPDX-License-Identifier: MIT
# The meter says when its inputs are wrong, through the simulator (the generator's samples, Modbus on the pty, the
# LCD text, the event log): three scenarios flag what they should and nothing else; the default load
# flags nothing (docs/metering.md "When the inputs are wrong").
import json
import os
import struct

from conftest import ROOT
from headless_sim import HeadlessSim
from firmware import events as ev
from firmware import regmap
from test_alarms_e2e import regs
from tools.client import Meter

_ST = regmap.block("status")[0] + 5  # SEQ OVR OVR_L NOV
_N = regmap.block("ovr_n")[0]


def _scenario(tmp, name, phases):
    with open(os.path.join(ROOT, "tools", "scenarios", "default.json")) as f:
        d = json.load(f)
    for p, v in phases.items():
        d["phases"][p].update(v)
    path = tmp / (name + ".json")
    path.write_text(json.dumps(d))
    return str(path)


def _float(port, name):
    r = regs(port, regmap.MEAS_BASE + 2 * regmap.slot(name), 2)
    return struct.unpack(">f", struct.pack(">HH", *r))[0]


def _settle(sim, seconds):
    sim.wait_time(sim.state()["time_s"] + seconds)


def test_three_scenarios_flag_what_they_should(tmp_path):
    over = _scenario(tmp_path, "over", {p: {"current": 20.0, "angle": 0.0} for p in "abc"})
    fuse = _scenario(tmp_path, "fuse", {"b": {"voltage": 0.0, "current": 5.0, "angle": 30.0}})
    rev = _scenario(tmp_path, "rev", {"b": {"voltage_angle": 120.0}, "c": {"voltage_angle": -120.0}})
    sim = HeadlessSim(tmp_path)
    try:
        p = sim.pty
        _settle(sim, 3.0)
        assert list(regs(p, _ST, 4)) == [1, 0, 0, 0]  # default: a-b-c, nothing over range, no current without voltage
        assert list(regs(p, _N, 14)) == [0] * 14
        assert "OVR" not in sim.lcd() and _float(p, "UNB_U") < 0.05

        sim.cmd("scenario " + over)
        _settle(sim, 2.0)
        seq, ovr, ovr_l, nov = regs(p, _ST, 4)
        assert (seq, ovr, ovr_l, nov) == (1, 0x38, 0x38, 0)  # Ia Ib Ic at the ADC's full scale, the voltages not
        n = list(regs(p, _N, 14))
        # low words of OVR_Ia, OVR_Ib, OVR_Ic: every window since the switch (the one it fell in may count for
        # some phases only, as their peaks came before or after it)
        c = n[7:12:2]
        assert n[0:6] == [0] * 6 and n[12:14] == [0, 0] and n[6] == n[8] == n[10] == 0
        assert min(c) >= 8 and max(c) - min(c) <= 1, n
        assert "OVR Ia Ib Ic" in sim.lcd()
        assert 17.0 < _float(p, "Ia") < 20.0  # read as clipped (a lower bound), flagged, not held

        sim.cmd("scenario " + fuse)
        _settle(sim, 2.5)
        assert list(regs(p, _ST, 4)) == [1, 0, 0x38, 2]  # phase B: current without voltage; over range only latched
        assert "noU B" in sim.lcd()

        sim.cmd("scenario " + rev)
        _settle(sim, 3.0)
        assert list(regs(p, _ST, 4)) == [2, 0, 0x38, 0]
        assert _float(p, "UNB_U") == 100.0 and _float(p, "UNB_I") == 100.0  # never 0 % for a reversed system
        assert "acb" in sim.lcd()

        m = Meter(p, timeout=2)
        total, evs = m.events()
        m.close()
        got = [(e["kind"], e["arg"], e["aux"]) for e in evs if e["kind"] >= ev.OVER_RANGE][::-1]
        # Ia Ib Ic enter (in the order their peaks reached full scale in the window the switch fell in), leave;
        # phase B without voltage; then the sequence, told at the first analysis of the reversed voltages, and B's
        # voltage back after 1 s, in either order
        assert sorted(got[0:3]) == [(ev.OVER_RANGE, k, 1) for k in (3, 4, 5)], got
        assert sorted(got[3:6]) == [(ev.OVER_RANGE, k, 0) for k in (3, 4, 5)], got
        assert got[6] == (ev.NO_VOLTAGE, 1, 1), got
        assert sorted(got[7:]) == [(ev.NO_VOLTAGE, 1, 0), (ev.PHASE_SEQ, 2, 1)], got
    finally:
        sim.stop()
