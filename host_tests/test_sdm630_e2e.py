# SPDX-License-Identifier: MIT
# End to end: the headless sim read as an Eastron SDM630 by pymodbus over its pty, the way evcc/mbmd, OpenEMS
# and Home Assistant do it (FC04, float32 high word first), against the native FC03 map and the analytic truth.
import os

from pymodbus.client import ModbusSerialClient

from conftest import ROOT
from firmware import regmap
from headless_sim import HeadlessSim
from tools import scenario as scen
from tools.truth import truth

SCEN = os.path.join(ROOT, "tools", "scenarios")
SDM = {"Ua": 0x00, "Ub": 0x02, "Uc": 0x04, "Ia": 0x06, "Ib": 0x08, "Ic": 0x0A, "Pa": 0x0C, "Pb": 0x0E, "Pc": 0x10,
       "P": 0x34, "S": 0x38, "Q": 0x3C, "PF": 0x3E, "F": 0x46, "Uab": 0xC8, "Ubc": 0xCA, "Uca": 0xCC,
       "Phi_a": 0x24, "Phi_b": 0x26, "Phi_c": 0x28, "Phi": 0x42}  # phase angles: +30 degrees for the default load


def test_sim_reads_as_an_sdm630(tmp_path):
    path = os.path.join(SCEN, "default.json")
    want = truth(scen.load(path))
    sim = HeadlessSim(tmp_path, scenario=path)
    try:
        sim.wait_time(1.0)
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=2, retries=1)
        assert c.connect()
        f32 = c.DATATYPE.FLOAT32
        blocks = {}
        for start in (0x0000, 0x0050, 0x00A0, 0x00F0):  # OpenEMS-style 80-register reads across the gaps
            rr = c.read_input_registers(start, count=80, device_id=1)
            assert not rr.isError(), (start, rr)
            for i in range(0, 80, 2):
                blocks[start + i] = c.convert_from_registers(rr.registers[i:i + 2], data_type=f32)
        native = c.read_holding_registers(regmap.MEAS_BASE, count=2 * regmap.N_MEAS, device_id=1)
        nat = dict(zip([m[0] for m in regmap.MEASUREMENTS],
                       c.convert_from_registers(native.registers, data_type=f32)))
        for name, addr in SDM.items():
            got = blocks[addr]
            assert abs(got - nat[name]) <= 0.002 * max(abs(nat[name]), 1.0), (name, got, nat[name])
            ref = max(abs(want[name]), 1.0)
            assert abs(got - want[name]) <= 0.003 * ref, (name, got, want[name])
        assert blocks[0x2C] == 0.0  # a gap reads 0
        one = c.read_input_registers(0x0034, count=2, device_id=1)  # evcc/mbmd: one value per request
        assert abs(c.convert_from_registers(one.registers, data_type=f32) - nat["P"]) <= 0.002 * abs(nat["P"])
        bad = c.read_input_registers(0x0200, count=2, device_id=1)
        assert bad.isError() and bad.exception_code == 2
        c.close()
    finally:
        sim.stop()
