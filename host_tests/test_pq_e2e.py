# SPDX-License-Identifier: MIT
# End to end (power quality): the sim at --speed max polled over Modbus (pymodbus): THD and unbalance in
# the real-time block, the HARMONICS block against tools/truth.py, demand over the clock's minutes, max/min with
# stamps, cLr_MaxMin / cLr_DM with the password, and the records surviving an orderly restart.
import os
import struct
import time

from pymodbus.client import ModbusSerialClient

from conftest import ROOT
from headless_sim import HeadlessSim
from firmware import regmap
from tools import scenario as scen
from tools.truth import truth

CLK = regmap.block("clock")[0]
CMD = regmap.block("commands")[0]


def f32(c, addr, n):
    rr = c.read_holding_registers(addr, count=2 * n, device_id=1)
    assert not rr.isError(), rr
    return list(struct.unpack(">%df" % n, struct.pack(">%dH" % (2 * n), *rr.registers)))


def u32(c, addr, n):
    rr = c.read_holding_registers(addr, count=2 * n, device_id=1)
    assert not rr.isError(), rr
    return list(struct.unpack(">%dI" % n, struct.pack(">%dH" % (2 * n), *rr.registers)))


def addr(block, name):
    base, typ, acc, rows = regmap.block(block)
    return base + regmap.SIZES[typ] * [r[0] for r in rows].index(name)


def wait_until(fn, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v
        time.sleep(0.05)
    raise TimeoutError


def test_harmonics_demand_maxmin_over_modbus(tmp_path):
    path = os.path.join(ROOT, "tools", "scenarios", "harmonics_60.json")
    t = truth(scen.load(path))
    state = tmp_path / "state"
    sim = HeadlessSim(tmp_path, scenario=path, state_dir=state)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        words = struct.unpack(">4H", struct.pack(">II", 20261126, 120000))
        assert not c.write_registers(CLK, list(words), device_id=1).isError()
        assert not c.write_registers(regmap.config_index("DM_P"), [2, 1], device_id=1).isError()  # DM_P 2, DM_S 1
        # at --speed max windows ran before the clock was set: clear max/min so every stamp comes after it
        assert not c.write_register(CMD + 2, 6666, device_id=1).isError()  # cLr_MaxMin
        # THD and unbalance in the real-time block, HR in the HARMONICS block
        thd0 = regmap.MEAS_BASE + 2 * regmap.slot("THD_Ua")
        got = wait_until(lambda: (lambda v: v if v[0] > 0 else None)(f32(c, thd0, 8)))
        for k, ch in enumerate(("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")):
            assert abs(got[k] - t["THD_" + ch]) < 0.1, (ch, got[k], t["THD_" + ch])
        assert abs(got[6] - t["UNB_U"]) < 0.05 and abs(got[7] - t["UNB_I"]) < 0.05
        # the line voltages' THD, native and at the SDM630 addresses (FC04 0x014E..0x0154)
        lt = f32(c, regmap.MEAS_BASE + 2 * regmap.slot("THD_Uab"), 3)
        sdm = c.convert_from_registers(c.read_input_registers(0x014E, count=8, device_id=1).registers,
                                       data_type=c.DATATYPE.FLOAT32)
        for k, n in enumerate(("THD_Uab", "THD_Ubc", "THD_Uca")):
            assert abs(lt[k] - t[n]) < 0.1 and abs(sdm[k] - t[n]) < 0.1, (n, lt[k], sdm[k], t[n])
        assert abs(sdm[3] - (t["THD_Uab"] + t["THD_Ubc"] + t["THD_Uca"]) / 3) < 0.1
        assert abs(t["THD_Uab"] - t["THD_Ua"]) > 0.3  # the line THD is its own quantity, not the phase's
        hr = f32(c, addr("harmonics", "HR_Ia_2"), 30)
        for k in range(30):
            assert abs(hr[k] - 100 * t["hd"]["Ia"].get(k + 2, 0.0)) < 0.1, (k + 2, hr[k])
        # three subintervals of one minute: the demand of P is the mean power, its maximum stamped at 12:0x:00
        sim.wait_time(200, timeout=120)
        dm = f32(c, addr("demand", "Dmd_P"), 12)
        assert abs(dm[0] / t["P"] - 1) < 1e-3 and abs(dm[3] / t["Ia"] - 1) < 1e-3, dm
        assert abs(dm[6] / t["P"] - 1) < 1e-3
        d, hms = u32(c, addr("demand_t", "MaxDmd_P_D"), 2)
        assert d == 20261126 and 120100 <= hms <= 120300 and hms % 100 == 0
        # max/min of Ua with its stamp
        ua_max = f32(c, addr("maxmin", "Ua_max"), 1)[0]
        assert abs(ua_max / t["Ua"] - 1) < 2e-4 and u32(c, addr("maxmin_t", "Ua_max_D"), 1)[0] == 20261126
        # a wrong password is refused (exception 03), the right one clears
        bad = c.write_register(CMD + 2, 1234, device_id=1)
        assert bad.isError() and bad.exception_code == 3
        pw = 6666
        assert not c.write_register(CMD + 3, pw, device_id=1).isError()  # cLr_DM
        assert u32(c, addr("demand_t", "MaxDmd_P_D"), 1)[0] == 0
        c.close()
    finally:
        sim.stop()
    # an orderly restart keeps the history (records "maxmin", "demand")
    sim = HeadlessSim(tmp_path, scenario=path, state_dir=state)
    try:
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        assert abs(f32(c, addr("maxmin", "Ua_max"), 1)[0] - ua_max) < 1e-3
        assert u32(c, addr("maxmin_t", "Ua_max_D"), 1)[0] == 20261126
        c.close()
    finally:
        sim.stop()
