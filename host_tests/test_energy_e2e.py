# SPDX-License-Identifier: MIT
# Energy end to end: the sim at --speed max polled over Modbus: energy registers against the analytic power x
# simulated time, pulses in `state`, the clock set over Modbus rolling days and months (leap day), cLr_Eny.
import math
import os
import struct
import time

from pymodbus.client import ModbusSerialClient

from conftest import ROOT
from headless_sim import HeadlessSim
from firmware import regmap
from tools import scenario as scen
from tools.truth import truth

E0 = regmap.block("energy")[0]
NAMES = [r[0] for r in regmap.ENERGY]
CLK = regmap.block("clock")[0]


def read_rows(c, first, n):
    """Rows first..first+n-1 of the ENERGY block in ONE request (one publish: consistent with each other)."""
    rr = c.read_holding_registers(E0 + 4 * first, count=4 * n, device_id=1)
    assert not rr.isError(), rr
    r = rr.registers
    return {NAMES[first + k]: (r[4 * k] << 48) | (r[4 * k + 1] << 32) | (r[4 * k + 2] << 16) | r[4 * k + 3]
            for k in range(n)}


def read_energy(c):
    """Totals and months (rows 0..30), then months, days and times (rows 20..45): two requests, two publishes."""
    return read_rows(c, 0, 31), read_rows(c, 20, 26)


def set_clock(c, ymd, hms):
    words = struct.unpack(">4H", struct.pack(">II", ymd, hms))
    r = c.write_registers(CLK, list(words), device_id=1)
    assert not r.isError(), r


def read_clock(c):
    rr = c.read_holding_registers(CLK, count=4, device_id=1)
    return struct.unpack(">II", struct.pack(">4H", *rr.registers))


def wait_clock(sim, c, ymd, hms, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if read_clock(c) >= (ymd, hms):
            return
        time.sleep(0.05)
    raise TimeoutError("clock did not reach %d %06d" % (ymd, hms))


def test_energy_registers_periods_and_clear_over_modbus(tmp_path):
    path = os.path.join(ROOT, "tools", "scenarios", "default.json")
    p_w = truth(scen.load(path))["P"]
    sim = HeadlessSim(tmp_path, scenario=path)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        assert not c.write_registers(6, [100, 100], device_id=1).isError()  # Pt_U = Ct_I = 100
        set_clock(c, 20280228, 235950)
        bad = c.write_registers(CLK, list(struct.unpack(">4H", struct.pack(">II", 20270229, 0))), device_id=1)
        assert bad.isError() and bad.exception_code == 3  # 2027 has no Feb 29
        s0 = sim.state()
        a0, b0 = read_energy(c)
        wait_clock(sim, c, 20280229, 5)  # midnight into the leap day
        a1, b1 = read_energy(c)
        # setting the clock closed the 2026 day and month (a gap of years: nothing "last"); since then the energy is
        # split at midnight with nothing lost (each register is a floor to the Wh: +-1 per term)
        before = a1["EP_imp"] - a1["EP_imp_TMon"]
        assert 0 < before < a1["EP_imp"] and b1["EP_imp_LDay"] > 0 and b1["EP_imp_BDay"] == 0
        assert abs(b1["EP_imp_TMon"] - b1["EP_imp_LDay"] - b1["EP_imp_TDay"]) <= 2
        assert b1["EP_imp_LMon"] == 0 and b1["EP_imp_BMon"] == 0
        set_clock(c, 20280229, 235955)
        wait_clock(sim, c, 20280301, 5)  # month end
        a2, b2 = read_energy(c)
        assert abs(a2["EP_imp"] - a2["EP_imp_TMon"] - a2["EP_imp_LMon"] - before) <= 2
        assert b2["EP_imp_LMon"] > 0 and b2["EP_imp_TDay"] == b2["EP_imp_TMon"] and b2["EP_imp_BMon"] == 0
        assert abs(b2["EP_imp_LMon"] - b2["EP_imp_LDay"] - b2["EP_imp_BDay"]) <= 2 and b2["EP_imp_LDay"] > 0
        st = sim.state()
        e3, b3 = read_energy(c)
        # energy over the run against P x simulated time, both from one `state` (energy books per 200 ms window)
        t0, t1 = s0["time_s"], st["time_s"]
        want = p_w * 1e4 * (t1 - t0) / 3600
        got = st["energy"]["EP_imp_Wh"] - s0["energy"]["EP_imp_Wh"]
        assert t1 - t0 > 10 and abs(got - want) <= 0.001 * want + p_w * 1e4 * 0.21 / 3600, (got, want)
        assert e3["EP_exp"] == 0 and e3["EP_total"] == e3["EP_imp"] and e3["EP_net"] == e3["EP_imp"]
        assert e3["EQ_imp"] > 0 and b3["RTime"] >= 1 and b3["LTime"] >= 1
        # pulses since start-up (state) against the energy of the same instants, over the run at Pt Ct = 1e4 (the
        # energy booked at ratio 1 before the write is left out): to a pulse at each end (Wh floors aside)
        pulses = st["energy"]["pulses"][0] - s0["energy"]["pulses"][0]
        sec_kwh = sum(st["energy"][k] - s0["energy"][k] for k in ("EP_imp_Wh", "EP_exp_Wh")) / 1000 / 1e4
        assert pulses > 20 and abs(pulses / 3200 - sec_kwh) <= 1 / 3200 + 1e-6, (pulses, sec_kwh)
        assert st["energy"]["date"] >= 20280301
        # clear: a wrong password is refused, the right one zeroes everything
        bad = c.write_register(regmap.block("commands")[0] + 1, 1234, device_id=1)
        assert bad.isError() and bad.exception_code == 3
        assert not c.write_register(regmap.block("commands")[0] + 1, 6666, device_id=1).isError()
        e4, b4 = read_energy(c)
        tol = p_w * 1e4 * 5 / 3600  # energy booked between the clear and the read (a few simulated seconds)
        assert e4["EP_imp"] <= tol and b4["EP_imp_LMon"] == 0 and b4["EP_imp_LDay"] == 0
        c.close()
    finally:
        assert sim.stop() == 0
