# SPDX-License-Identifier: MIT
# The event log end to end: what a technician does to the sim (Modbus, switch input) comes back from
# the log, newest first, in order, after a SIGKILL (a power cut) and a restart; the client prints it as a table.
import signal
import struct
import subprocess
import sys

from conftest import ROOT
from headless_sim import HeadlessSim
from firmware import events as ev
from firmware import regmap
from test_alarms_e2e import regs, rtu, write
from tools.client import Meter


def test_events_survive_a_power_cut_in_order(tmp_path):
    state = tmp_path / "flash"
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        p = sim.pty
        assert rtu(p, b"\x05\x00\x00\xff\x00")[:2] == b"\x01\x05"  # DO1 closed (remote)
        sim.cmd("di 2 on")
        sim.wait_time(sim.state()["time_s"] + 0.3)
        assert write(p, regmap.config_index("Pt_U"), b"\x00\x64")[:2] == b"\x01\x10"  # Pt_U = 100
        clr = regmap.block("commands")[0] + 2  # cLr_MaxMin with the password
        assert write(p, clr, struct.pack(">H", 6666))[:2] == b"\x01\x10"
        clk = regmap.block("clock")[0]
        assert write(p, clk, struct.pack(">II", 20270315, 80000))[:2] == b"\x01\x10"  # date and time
        sim.wait_time(sim.state()["time_s"] + 0.3)
        before = regs(p, regmap.block("ev_head")[0], 4)
    finally:
        sim.p.send_signal(signal.SIGKILL)
        sim.p.wait()
    sim = HeadlessSim(tmp_path, state_dir=state)
    try:
        m = Meter(sim.pty, timeout=2)
        total, evs = m.events()
        m.close()
        kinds = [(e["kind"], e["arg"]) for e in evs]
        assert kinds == [(ev.POWER_UP, 0), (ev.POWER_CUT, 0), (ev.TIME_SET, 0), (ev.CLEAR, 1),
                         (ev.SETTING, regmap.config_index("Pt_U")), (ev.INPUT, 1), (ev.RELAY, 0), (ev.POWER_UP, 0)]
        assert total == (before[0] << 16 | before[1]) + 2 and [e["seq"] for e in evs] == list(range(total, 0, -1))
        assert evs[0]["aux"] == ev.UP_CUT and evs[-1]["aux"] == ev.UP_NEW  # a new state dir, then a cut
        assert evs[4]["value"] == 100 and evs[4]["src"] == 1 and evs[3]["src"] == 1  # Modbus
        assert evs[6]["aux"] == 1 and evs[5]["aux"] == 1  # relay closed (remote), DI2 closed
        assert evs[2]["date"] == 20270315 and evs[1]["date"] == 20270315  # the cut: the last time saved
        out = subprocess.run([sys.executable, "-m", "tools.client", "--port", sim.pty, "events"], cwd=ROOT,
                             capture_output=True, text=True, timeout=60).stdout.splitlines()
        assert out[0] == "%d events logged, newest first" % total
        assert "power up" in out[2] and "after a cut" in out[2] and "setting Pt_U" in out[6] and "= 100" in out[6]
        assert "relay DO1" in out[8] and "closed (remote)" in out[8]
        assert "power up" in out[-1] and "first power-up" in out[-1], out[-1]
    finally:
        sim.stop()
