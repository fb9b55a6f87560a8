# SPDX-License-Identifier: MIT
# The wiring setting (SYSS) switched from the panel path (Meter.set) and over Modbus (register 3): metering
# follows it; values against the truth of the scenario wired the same way (terminal B common in 2LL).
import struct

from feeding import feed as _feed
from firmware import regmap
from firmware.meter import Meter
from tools import generator, scenario, truth

NAMES = ("Ua", "Uab", "Ubc", "Uca", "Ia", "Ib", "Ic", "Pa", "P", "Q", "S", "PF", "I_N", "UL_avg", "I_avg")


def _check(m, sc):
    want = truth.truth(sc)
    for name in NAMES:
        g, t = m.vals[regmap.slot(name)], want[name]
        assert abs(g - t) <= 5e-4 * max(abs(t), 1.0), (sc.syss, name, g, t)


def _scenario(syss):
    d = scenario.load("unbalanced_49_8").to_dict()
    d["settings"]["SYSS"] = syss
    return scenario.parse(d)


def test_syss_from_panel_and_modbus():
    m = Meter()
    sc = _scenario("2LL2CT")
    gen = generator.Generator(sc)
    assert m.set("SYSS", 2)  # the panel's path
    _feed(m, gen, 0.9)
    _check(m, sc)
    assert m.vals[regmap.slot("Ua")] == 0.0 and m.vals[regmap.slot("Pa")] == 0.0
    sc = _scenario("2LL3CT")
    gen.set_scenario(sc)
    assert m.regs.write(3, 1, struct.pack(">H", 1), 0) == 0  # FC06/FC16 to SYSS
    m.service()
    _feed(m, gen, 0.9)
    _check(m, sc)
    sc = _scenario("3Ln3CT")
    gen.set_scenario(sc)
    assert m.regs.write(3, 1, struct.pack(">H", 0), 0) == 0
    m.service()
    _feed(m, gen, 0.9)
    _check(m, sc)
    assert m.vals[regmap.slot("Pa")] != 0.0
