# SPDX-License-Identifier: MIT
# Energy registers against a second implementation straight from the formula: numpy sums of u*i (DC product
# removed) over the very samples the firmware saw (reduced codes, edges split at the zero crossings), exact
# rationals; and on the calibrated imperfect board against the windows' registered P x length (both runtimes).
import math
import os
from array import array
from fractions import Fraction

import numpy as np
import pytest

from firmware import limbs, regmap, workspace
from firmware.energy import AH, EP_EXP, EP_IMP, EQ_EXP, EQ_IMP, ES, FRAC, NL, PH, Energy
from firmware.kernel import D_FE, D_FS, D_N, S_NS
from firmware.metering import Metering
from firmware.sampler import Sampler
from tools import generator, scenario

# Wh per (reduced volt code x reduced amp code x sample): 1000 V and 25 A per 2**15 codes, 1/8000 s
WH_PER_CODE2 = Fraction(1000 * 25, 2**30) / (8000 * 3600)
SECONDS = 3.0
SKIP = 3  # windows before every gate is on (start-up, frequency lock)


def _run(name, pulse=3200):
    scn = scenario.load(name)
    gen = generator.Generator(scn)
    x = gen.block_array(int(SECONDS * 8000))
    s = Sampler()
    vals = array("f", [0.0] * regmap.N_MEAS)
    m = Metering(vals, s)
    st = scn.settings
    m.configure(scn.pt, scn.ct, st["SYSS"], st["Un"], st["In"], None, st["IST"])
    e = Energy()
    e.slots(regmap.slot)
    e.bind(m)
    e.configure(scn.pt, scn.ct, m.cal, st["SYSS"], pulse, st["IST"], st["Un"], st["In"])
    flat = array("i", x.reshape(-1).tolist())
    closes = []  # (closing sample index, fe, Q per phase (float32 as float), L in samples, acc snapshot, pulses)
    fed = 0
    for a in range(0, len(x), 400):
        k = min(400, len(x) - a)
        if s.feed(flat[8 * a:8 * (a + k)], k):
            m.update(s)
            e.window(s.done, vals)
            dn = s.done
            lq = (dn[D_N] << 15) - dn[D_FS] + dn[D_FE]
            q = [m.w[workspace.EQ1 + p] for p in range(3)]
            closes.append((fed + k - s.state[S_NS], dn[D_FE], q, lq / 32768, bytes(e.acc), e.gen[0], bytes(e.bucket),
                           list(m.gate), m.w[workspace.GGM], vals[regmap.slot("S")],
                           [vals[regmap.slot(n)] for n in ("Ia", "Ib", "Ic")]))
        fed += k
    return scn, x, e, closes


def _acc(snapshot, q):
    a = array("i", snapshot)
    return Fraction(limbs.to_int(a, q * NL, NL), 2**FRAC)


@pytest.mark.parametrize("name", ["unbalanced_49_8", "export"])
def test_energy_equals_the_integral_of_the_samples(name):
    scn, x, e, closes = _run(name)
    assert len(closes) >= 12
    assert all(c[7] == [1, 1, 1] for c in closes[SKIP - 1:])
    u = (x[:, 0:3].astype(np.int64) + 128) >> 8  # the kernel's reduction to 16 bits
    i = (x[:, 3:6].astype(np.int64) + 128) >> 8
    ui = u * i
    cum = np.vstack([np.zeros((1, 3), np.int64), np.cumsum(ui, axis=0)])
    cu = np.vstack([np.zeros((1, 3), np.int64), np.cumsum(u, axis=0)])
    ci = np.vstack([np.zeros((1, 3), np.int64), np.cumsum(i, axis=0)])

    def wsum(c, v, i0, fe0, i1, fe1, p):
        return (Fraction(int(c[i1, p] - c[i0, p])) - Fraction(fe0, 2**15) * int(v[i0, p]) +
                Fraction(fe1, 2**15) * int(v[i1, p]))
    ratio = scn.pt * scn.ct
    want = {q: Fraction(0) for q in range(16)}
    qwant = dict.fromkeys(range(16), 0.0)
    for k in range(SKIP, len(closes)):
        i0, fe0 = closes[k - 1][0], closes[k - 1][1]
        i1, fe1 = closes[k][0], closes[k][1]
        # window k: samples i0..i1-1, minus the part fe0 of sample i0 that window k-1 took, plus fe1 of sample i1
        # P removes the window's DC product: sum(u*i) - sum(u) sum(i) / L (L in samples, Q15 edges)
        length = Fraction(closes[k][3])
        # times the window's G1^2: the ADC's sinc3 and RC divided out at the fundamental (firmware/droop.py; pure
        # sines here, so no harmonic excess), which energy takes through metering's correction term
        gg = 1 + Fraction(closes[k][8])  # energy adds (G1^2 - 1) P: GGM, finer than G1^2 in float32
        s = [gg * (wsum(cum, ui, i0, fe0, i1, fe1, p) -
                   wsum(cu, u, i0, fe0, i1, fe1, p) * wsum(ci, i, i0, fe0, i1, fe1, p) / length) for p in range(3)]
        wh = [v * WH_PER_CODE2 * ratio for v in s]
        for p in range(3):
            want[PH + 4 * p + (0 if wh[p] >= 0 else 1)] += abs(wh[p])
        tot = sum(wh)
        want[EP_IMP if tot >= 0 else EP_EXP] += abs(tot)
        # reactive: the window's fundamental Q times its length (float64 here, float32 x exact integers there)
        qs = [closes[k][2][p] * closes[k][3] / 8000 / 3600 for p in range(3)]
        for p in range(3):
            qwant[PH + 4 * p + 2 + (0 if qs[p] >= 0 else 1)] += abs(qs[p])
        qt = sum(qs)
        qwant[EQ_IMP if qt >= 0 else EQ_EXP] += abs(qt)
    first, last = closes[SKIP - 1], closes[-1]
    total = 0
    for q in range(16):
        got = _acc(last[4], q) - _acc(first[4], q)
        if q in (EQ_IMP, EQ_EXP) or (q >= PH and (q - PH) % 4 >= 2):
            w = qwant[q]
            # per window the float32 Q (and its division by Pt Ct) carries ~1e-7 of the phases' Q; a total near
            # zero (phases cancelling) is judged against the phases' magnitudes
            ref = sum(qwant[PH + 4 * p + 2 + j] for p in range(3) for j in range(2)) if q < PH else w
            assert abs(float(got) - w) <= 3e-7 * ref + len(closes) * ratio / 2**FRAC, (q, float(got), w)
        else:
            w = want[q]
            # only the gains' fixed-point (2**33/9: 1.2e-10) and one 2**-40 Wh floor per window and item
            assert abs(got - w) <= Fraction(1, 10**9) * w + Fraction(len(closes) * ratio, 2**38), (q, float(got),
                                                                                                     float(w))
            total += float(w)
    assert total > 1  # the test sees real energy (Wh)
    # pulses: exactly floor(secondary total x constant / 1 kWh) from the same increments, at every window
    for c in closes:
        a = array("i", c[4])
        sec = (limbs.to_int(a, EP_IMP * NL, NL) + limbs.to_int(a, EP_EXP * NL, NL)) // ratio
        assert c[5] == sec * 3200 // (1000 << FRAC)
    sec_kwh = float(want[EP_IMP] + want[EP_EXP]) / ratio / 1000
    n = last[5] - first[5]
    assert abs(n / 3200 - sec_kwh) <= 1 / 3200 + 1e-9


def test_registers_are_the_accumulators_floor():
    scn, x, e, closes = _run("export")
    img = bytearray(2 * 4 * len(regmap.ENERGY))
    e.publish(img, 0)
    for k, name in enumerate(regmap.ENERGY):
        if k < 20 or name[0] in ("ES", "AH"):
            reg = int.from_bytes(img[8 * k:8 * k + 8], "big")
            assert reg == e.wh(name[0]), name
    assert e.wh("EP_exp") > 0 and e.wh("EP_imp") == 0  # export scenario: quadrants II and III
    assert e.wh("EP_net") == e.wh("EP_exp") and e.wh("EP_total") == e.wh("EP_exp")
    # phase a at 150 deg: P-, Q+; phase b at 210 deg: P-, Q-
    assert e.wh("EQa_imp") > 0 and e.wh("EQa_exp") == 0 and e.wh("EQb_exp") > 0 and e.wh("EQb_imp") == 0


@pytest.mark.parametrize("name", ["default", "unbalanced_49_8", "export"])
def test_apparent_energy_and_ampere_hours(name):
    # SDM630 0x0050 (kVAh) and 0x0052 (Ah): each window adds its registered S and Ia + Ib + Ic (float32, primary)
    # times its length, floored in 2**-40 units: compared with exact rationals of the same floats (within the float32
    # roundings of the sum of currents and of the division by Pt Ct, 2**-21), and the run's
    # total with the scenario's analytic truth (S and the currents are steady)
    from tools.truth import truth

    scn, x, e, closes = _run(name)
    want_s = want_a = Fraction(0)
    for k in range(1, len(closes)):
        d = Fraction(closes[k][3]) / (8000 * 3600)  # hours
        want_s += Fraction(closes[k][9]) * d
        want_a += sum(Fraction(v) for v in closes[k][10]) * d
        got_s = _acc(closes[k][4], ES) - _acc(closes[0][4], ES)
        got_a = (_acc(closes[k][4], AH) - _acc(closes[0][4], AH)) / 1000
        assert abs(got_s - want_s) <= want_s * Fraction(1, 2**21) + Fraction(k, 2**38), (k, float(got_s), float(want_s))
        assert abs(got_a - want_a) <= want_a * Fraction(1, 2**21) + Fraction(k, 2**38), (k, float(got_a), float(want_a))
    t = truth(scn)
    hours = sum(c[3] for c in closes[1:]) / (8000 * 3600)
    steady = closes[SKIP][9]
    assert abs(float(want_s) - t["S"] * hours) <= 0.01 * t["S"] * hours + steady * SKIP * 0.25 / 3600
    ia = t["Ia"] + t["Ib"] + t["Ic"]
    assert abs(float(want_a) - ia * hours) <= 0.01 * ia * hours + ia * SKIP * 0.25 / 3600
    assert e.wh("ES") == limbs.to_int(e.acc, ES * NL, NL) >> FRAC and e.wh("AH") > 0


def test_ten_year_headroom_figures():
    # full scale per phase: 1000 V x 25 A peaks, DC worst case 25 kW; x3 phases; ratios 9999 x 9999
    p = 3 * 25000.0 * 9999 * 9999
    wh_10y = p * 24 * 3653  # 10 years incl. 3 leap days
    assert wh_10y < 2**64 / 20  # > 20x headroom in the uint64 Wh registers
    assert wh_10y * 2**FRAC < 2**(15 * NL) / 2**20  # and 2**20 in the 120-bit accumulators


PRE, CAL, SETTLE, RUN = 1.0, 2.6, 0.6, 10.2  # seconds of the imperfect board: before, calibrating, settling, measured


def test_calibrated_energy_is_the_integral_of_p(tmp_path):
    """The energy rule on a calibrated board (CT lags 0.3-0.8 deg, gains, offsets, noise): over 10 s the energy
    accumulators and registers equal the sum of each window's registered P x its length, under CPython and the
    MicroPython unix port, with the same bits in the accumulators on both."""
    import json
    import subprocess
    import sys

    from conftest import MICROPYTHON, ROOT

    sys.path.insert(0, os.path.join(ROOT, "host_tests", "cases"))
    import energy_driver

    gen = generator.Generator(scenario.load("imperfect_board"))
    path = str(tmp_path / "board.i32")
    n = int((PRE + CAL + SETTLE + RUN) * 8000 / 400 + 1) * 400
    gen.block_array(n).astype("<i4").tofile(path)
    args = (path, PRE, CAL, SETTLE, RUN)
    runs = {"cpython": energy_driver.calibrated_run(*args)}
    code = ("import sys; sys.path.insert(0, '.'); sys.path.insert(0, 'host_tests/cases'); import energy_driver, json; "
            "print('OUT', json.dumps(energy_driver.calibrated_run(%r, %r, %r, %r, %r)))" % args)
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=8M", "-c", code], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    line = [x for x in r.stdout.splitlines() if x.startswith("OUT ")]
    assert line, r.stdout + r.stderr
    runs["micropython"] = json.loads(line[0][4:])
    for rt, d in runs.items():
        assert abs(d["lags"][4] - 0.78) < 0.02 and d["seconds"] >= 10, (rt, d)
        assert d["export"] == [0, 0, 0, 0]
        for k in range(4):
            want = d["pt"][k]
            got = d["acc"][k] / 2**FRAC
            # the figure: accumulators against sum(P x t) (float32 P per window: ~1e-7); registers to 0.01 % + 1 Wh
            assert abs(got - want) <= 1e-6 * want, (rt, k, got, want)
            assert abs(d["reg"][k] - want) <= 1e-4 * want + 1, (rt, k, d["reg"][k], want)
        # the correction matters here: the phase correction alone is ~ Q x lag (rad) per element, far above 1e-6
        for p in range(3):
            lag = math.radians(d["lags"][3 + p] - d["lags"][p])
            assert abs(d["q1"][p]) * abs(lag) > 1e-3 * d["pt"][p] / d["seconds"] * 3600
        print(rt, d["windows"], "windows", d["seconds"], "s", [(d["acc"][k] / 2**FRAC - d["pt"][k]) / d["pt"][k]
                                                               for k in range(4)], d["reg"], d["pt"])
    assert runs["cpython"]["acc_hex"] == runs["micropython"]["acc_hex"]  # bit-identical on 64-bit and unbounded
