# SPDX-License-Identifier: MIT
# Scenario files and analytic truth (tools/scenario.py, tools/truth.py), CPython + numpy: every file parses and
# round-trips, bad fields are named, and truth() is checked against hand values and a second implementation.
import copy
import glob
import math
import os

import numpy as np
import pytest

from conftest import ROOT
from firmware import regmap
from tools import scenario as scn
from tools import truth as tr

FILES = sorted(glob.glob(os.path.join(ROOT, "tools", "scenarios", "*.json")))
NAMES = [os.path.basename(p)[:-5] for p in FILES]


def test_truth_has_every_measurement():
    for name in NAMES:
        t = tr.truth(scn.load(name))
        for m in regmap.MEASUREMENTS:
            assert isinstance(t[m[0]], float), m[0]


def test_truth_hand_values():
    t = tr.truth(scn.default())
    p = 220 * 5 * math.cos(math.radians(30))
    for ph in "abc":
        assert math.isclose(t["U" + ph], 220) and math.isclose(t["I" + ph], 5)
        assert math.isclose(t["P" + ph], p) and math.isclose(t["Q" + ph], 550) and math.isclose(t["S" + ph], 1100)
        assert math.isclose(t["PF" + ph], math.sqrt(3) / 2)
    assert math.isclose(t["Uab"], 220 * math.sqrt(3)) and math.isclose(t["Uca"], 220 * math.sqrt(3))
    assert math.isclose(t["P"], 3 * p) and math.isclose(t["Q"], 1650) and math.isclose(t["S"], 3300)
    assert t["F"] == 50.0 and math.isclose(t["U1"], 220) and t["u2"] < 1e-12 and t["I_N"] < 1e-9

    t = tr.truth(scn.load("export"))  # PT 100, CT 80: primary side; angle 150 -> P-, Q+ ; 210 -> P-, Q-
    assert math.isclose(t["Ua"], 100 * 100) and math.isclose(t["Ia"], 4 * 80)
    assert math.isclose(t["Pa"], 100 * 4 * 8000 * math.cos(math.radians(150)))
    assert t["Qa"] > 0 and math.isclose(t["Qa"], 100 * 4 * 8000 * 0.5)
    assert t["Pb"] < 0 and t["Qb"] < 0 and math.isclose(t["Pc"], -100 * 4 * 8000) and abs(t["Qc"]) < 1e-6
    assert math.isclose(t["Sc"], 3.2e6) and math.isclose(t["PFc"], -1) and t["PF"] < 0

    t = tr.truth(scn.load("one_phase_open"))
    assert t["Uc"] == 0 and t["Ic"] == 0 and t["Sc"] == 0 and t["PFc"] == 0.0
    assert math.isclose(t["Ubc"], 220) and math.isclose(t["Uca"], 220) and math.isclose(t["u2"], 0.5)
    assert math.isclose(t["I_N"], 5)  # two equal currents 120 degrees apart

    t = tr.truth(scn.load("harmonics_60"))
    thd_u = math.sqrt(0.03 ** 2 + 0.06 ** 2 + 0.04 ** 2 + 0.02 ** 2 + 0.015 ** 2)
    amps_i = [0.25, 0.22, 0.15, 0.08, 0.07, 0.05, 0.03, 0.025, 0.02, 0.015, 0.01, 0.01]
    thd_i = math.sqrt(sum(a * a for a in amps_i))
    assert math.isclose(t["thd_Ua"], thd_u) and math.isclose(t["thd_Ic"], thd_i)
    assert 0.075 < thd_u < 0.09 and 0.35 < thd_i < 0.45
    assert math.isclose(t["Ua"], 220 * math.sqrt(1 + thd_u ** 2)) and math.isclose(t["hd"]["Ia"][31], 0.01)
    assert t["hd"]["Ua"][2] == 0.0 and sorted(t["hd"]["Ua"]) == list(range(2, 32))
    # P = U1 I1 cos(20) + sum over orders in both of Uh Ih cos(h*20 + phi_uh - phi_ih)
    both = {3: (0.03, 10, 0.25, 30), 5: (0.06, -40, 0.22, -150), 7: (0.04, 25, 0.15, 60),
            11: (0.02, 80, 0.07, 170), 13: (0.015, -120, 0.05, -20)}
    pa = 1100 * (math.cos(math.radians(20)) + sum(
        a * b * math.cos(math.radians(h * 20 + pu - pi)) for h, (a, pu, b, pi) in both.items()))
    assert math.isclose(t["Pa"], pa) and math.isclose(t["Qa"], 1100 * math.sin(math.radians(20)))
    # triplens of balanced phases add in the neutral: In = 3 * 5 * sqrt(0.25^2 + 0.08^2)
    assert math.isclose(t["I_N"], 15 * math.sqrt(0.25 ** 2 + 0.08 ** 2))


def test_truth_sequences_second_implementation():
    s = scn.load("unbalanced_49_8")
    t = tr.truth(s)
    a = np.exp(2j * np.pi / 3)
    fortescue = np.array([[1, 1, 1], [1, a, a * a], [1, a * a, a]]) / 3
    u = np.array([p["voltage"] * np.exp(1j * np.radians(p["voltage_angle"])) for p in
                  (s.phases["a"], s.phases["b"], s.phases["c"])])
    u0, u1, u2 = np.abs(fortescue @ u)
    assert math.isclose(t["U1"], u1) and math.isclose(t["U2"], u2) and math.isclose(t["U0"], u0, abs_tol=1e-9)
    assert math.isclose(t["u2"], u2 / u1) and 0.02 < t["u2"] < 0.06


def test_files_parse_and_round_trip():
    assert scn.load(os.path.join(ROOT, "tools", "scenarios", "default.json")) == scn.parse(scn.DEFAULT)
    for name in NAMES:
        s = scn.load(name)
        assert scn.parse(s.to_dict()) == s and s.name == name
    s = scn.load("export")
    assert s.pt == 100 and s.ct == 80 and s.setting("SYSS") == 0 and s.syss == "3Ln3CT" and s.setting("Un") == 100
    assert scn.parse({"frequency": 50, "phases": {}, "settings": {"SYSS": 2}}).syss == "2LL2CT"


@pytest.mark.parametrize("patch,field", [
    (lambda d: d.update(version=2), "version"),
    (lambda d: d.pop("frequency"), "frequency"),
    (lambda d: d.update(frequency=0), "frequency"),
    (lambda d: d.update(frequncy=50), "frequncy"),
    (lambda d: d["phases"].update(d={}), "phases"),
    (lambda d: d["phases"]["a"].update(voltage=-1), "phases.a.voltage"),
    (lambda d: d["phases"]["b"].update(current="5"), "phases.b.current"),
    (lambda d: d["phases"]["c"].update(angle=True), "phases.c.angle"),
    (lambda d: d["phases"]["a"].update(volts=1), "phases.a"),
    (lambda d: d["phases"]["a"].update(voltage_harmonics={"1": [0.1, 0]}), "phases.a.voltage_harmonics.1"),
    (lambda d: d["phases"]["a"].update(current_harmonics={"x": [0.1, 0]}), "phases.a.current_harmonics.x"),
    (lambda d: d["phases"]["a"].update(current_harmonics={"3": [0.1, 0, 1]}), "phases.a.current_harmonics.3"),
    (lambda d: d["phases"]["a"].update(current_harmonics={"3": [-0.1, 0]}), "phases.a.current_harmonics.3"),
    (lambda d: d["settings"].update(SYSS="star"), "settings.SYSS"),
    (lambda d: d["settings"].update(Pt_U=0), "settings.Pt_U"),
    (lambda d: d["settings"].update(Un=230), "settings.Un"),
    (lambda d: d["settings"].update(Ratio=3), "settings"),
    (lambda d: d.update(imperfections={"Ux": {}}), "imperfections"),
    (lambda d: d.update(imperfections={"Ia": {"gain": -1.0}}), "imperfections.Ia.gain"),
    (lambda d: d.update(imperfections={"In": {"noise": -0.1}}), "imperfections.In.noise"),
    (lambda d: d.update(imperfections={"Ua": {"skew": 1}}), "imperfections.Ua"),
    (lambda d: d.update(temperature="hot"), "temperature"),
])
def test_validation_names_the_field(patch, field):
    d = copy.deepcopy(scn.DEFAULT)
    patch(d)
    with pytest.raises(ValueError) as e:
        scn.parse(d)
    assert str(e.value).startswith(field), str(e.value)
