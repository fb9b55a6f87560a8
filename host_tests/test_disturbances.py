# SPDX-License-Identifier: MIT
# Disturbances in the scenario format (interharmonics, DC, notches, timelines repeated or random), the generator
# that plays them and the truth that judges them (tools/truth.py, tools/truth_window.py), each against a second
# computation written here with numpy from the scenario's numbers (docs/scenarios.md). CPython, a few seconds.
import copy
import math

import numpy as np
import pytest

from tools import generator as gen
from tools import scenario as scn
from tools import truth as tr
from tools import truth_window as tw
from tools.gen_tables import rc, sinc3
from firmware import frontend

SQ2 = math.sqrt(2.0)
CU, CI = 2 ** 23 / 1000.0, 2 ** 23 / 25.0  # codes per volt, per ampere


def _base(**phase):
    ph = {"voltage": 220.0, "current": 5.0, "angle": 30.0}
    ph.update(phase)
    return {"frequency": 50.0, "phases": {p: dict(ph) for p in "abc"}, "adc_filter": False}


def _rect(t, starts, width):
    """1 inside [s, s + width) for any of the starts, else 0."""
    t = np.asarray(t)[:, None]
    s = np.asarray(starts)[None, :]
    return ((t >= s) & (t < s + width)).any(axis=1).astype(float)


# --- the format ---------------------------------------------------------------------------------------------------
def test_new_fields_round_trip_and_normalise():
    d = _base(voltage_interharmonics={"172.3": [0.05, 10.0], "8": 0.01}, current_dc=-0.25,
              voltage_notches=[{"at": [185.0, 5.0], "width_ms": 0.4, "depth": 0.4}])
    s = scn.parse(d)
    a = s.phases["a"]
    assert a["voltage_interharmonics"] == {8.0: (0.01, 0.0), 172.3: (0.05, 10.0)}
    assert a["current_dc"] == -0.25 and a["voltage_dc"] == 0.0
    assert a["voltage_notches"] == [(5.0, 0.4, 0.4), (185.0, 0.4, 0.4)]  # one per position, sorted
    assert scn.parse(s.to_dict()) == s and s != scn.parse(_base())


@pytest.mark.parametrize("patch,field", [
    (lambda p: p.update(voltage_interharmonics={"x": 0.1}), "phases.a.voltage_interharmonics.x"),
    (lambda p: p.update(voltage_interharmonics={"-5": 0.1}), "phases.a.voltage_interharmonics.-5"),
    (lambda p: p.update(current_interharmonics={"172.3": [0.1]}), "phases.a.current_interharmonics.172.3"),
    (lambda p: p.update(current_interharmonics={"172.3": [-0.1, 0]}), "phases.a.current_interharmonics.172.3[0]"),
    (lambda p: p.update(voltage_interharmonics={"300": 0.1}), "phases.a.voltage_interharmonics.300"),
    (lambda p: p.update(voltage_interharmonics={"8": 0.1, "8.0": 0.2}), "phases.a.voltage_interharmonics.8.0"),
    (lambda p: p.update(current_dc="1"), "phases.a.current_dc"),
    (lambda p: p.update(voltage_notches={"at": 5}), "phases.a.voltage_notches"),
    (lambda p: p.update(voltage_notches=[{"at": 5, "depth": 0.4}]), "phases.a.voltage_notches[0].width_ms"),
    (lambda p: p.update(voltage_notches=[{"at": 360, "width_ms": 0.4, "depth": 0.4}]),
     "phases.a.voltage_notches[0].at"),
    (lambda p: p.update(voltage_notches=[{"at": [5, -1], "width_ms": 0.4, "depth": 0.4}]),
     "phases.a.voltage_notches[0].at[1]"),
    (lambda p: p.update(voltage_notches=[{"at": 5, "width_ms": 0.4, "depth": 2.5}]),
     "phases.a.voltage_notches[0].depth"),
    (lambda p: p.update(voltage_notches=[{"at": 5, "width_ms": 0.4, "depth": 0.4, "shape": 1}]),
     "phases.a.voltage_notches[0].shape"),
    (lambda p: p.update(voltage_notches=[{"at": 5, "width_ms": 0, "depth": 0.4}]),
     "phases.a.voltage_notches[0].width_ms"),
    (lambda p: p.update(voltage_notches=[{"at": 5, "width_ms": 5.0, "depth": 0.4}]),
     "phases.a.voltage_notches[0].width_ms"),  # half a cycle at 100 Hz (below)
])
def test_validation_names_the_field(patch, field):
    d = _base()
    d["frequency"] = 100.0
    patch(d["phases"]["a"])
    with pytest.raises(ValueError) as e:
        scn.parse(d)
    assert str(e.value).startswith(field), str(e.value)


@pytest.mark.parametrize("timeline,field", [
    ([{"every": 0.1}], "timeline[0].until"),
    ([{"every": 0.1, "until": 1, "at": 0.5}], "timeline[0].at"),
    ([{"at": 0.5, "until": 1}], "timeline[0].until"),
    ([{"every": 0.1, "until": 1, "random": {"abc": {"current": [0, 6]}}}], "timeline[0].seed"),
    ([{"every": 0.1, "until": 1, "seed": 1, "random": {"abc": {"frequency": [49, 51]}}}],
     "timeline[0].random.abc.frequency"),
    ([{"every": 0.1, "until": 1, "seed": 1, "random": {"abd": {"current": [0, 6]}}}], "timeline[0].random.abd"),
    ([{"every": 0.1, "until": 1, "seed": 1, "random": {"a": {"current": [6, 0]}}}], "timeline[0].random.a.current"),
    ([{"every": 0.5, "until": 2}, {"at": 1.0}], "timeline[1]"),  # two steps at 1 s
    ([{"every": 0.1, "until": 1, "phases": {"a": {"current": -1}}}], "timeline[0]: phases.a.current"),
])
def test_timeline_validation_names_the_entry(timeline, field):
    with pytest.raises(ValueError) as e:
        scn.parse(dict(_base(), timeline=timeline))
    assert str(e.value).startswith(field), str(e.value)


def test_welder_timeline_expands_and_switches_at_its_samples():
    s = scn.load("welder")
    times = [at for at, _ in s.timeline]
    assert times == [0.9, 1.0, 1.9, 2.0, 2.9, 3.0, 3.9, 4.0, 4.9, 5.0]
    assert [st.phases["b"]["current"] for _, st in s.timeline[:2]] == [6.0, 0.02]
    d = s.to_dict()
    d["adc_filter"] = False
    x = gen.Generator(d).analog(8400)[:, 3] / CI  # Ia, amperes
    k = np.arange(8400)
    want = SQ2 * np.where((k >= 7200) & (k < 8000), 6.0, 0.02) * np.sin(2 * np.pi * 50 * k / 8000 - np.pi / 6)
    assert np.abs(x - want).max() < 1e-9  # the level changes at exactly samples 7200 and 8000


def test_random_levels_are_reproducible_and_shared_per_key():
    tl = [{"every": 0.1, "until": 1.0, "seed": 7, "random": {"abc": {"current": [0.0, 6.0]},
                                                             "a": {"angle": [0.0, 60.0]}}}]
    s1 = scn.parse(dict(_base(), timeline=tl))
    s2 = scn.parse(dict(_base(), timeline=copy.deepcopy(tl)))
    assert len(s1.timeline) == 9 and [a for a, _ in s1.timeline] == [round(0.1 * k, 9) for k in range(1, 10)]
    lv = [st.phases["a"]["current"] for _, st in s1.timeline]
    assert lv == [st.phases["a"]["current"] for _, st in s2.timeline]
    assert all(st.phases["b"]["current"] == st.phases["c"]["current"] == st.phases["a"]["current"]
               for _, st in s1.timeline)
    assert 0.0 <= min(lv) and max(lv) <= 6.0 and len(set(lv)) == 9
    assert len({st.phases["a"]["angle"] for _, st in s1.timeline}) == 9
    assert all(st.phases["b"]["angle"] == 30.0 for _, st in s1.timeline)
    tl[0]["seed"] = 8
    assert [st.phases["a"]["current"] for _, st in scn.parse(dict(_base(), timeline=tl)).timeline] != lv


# --- the generator --------------------------------------------------------------------------------------------------
def test_interharmonics_and_dc_match_the_formula_across_a_step():
    d = _base(voltage_interharmonics={"172.3": [0.05, 40.0], "8": 0.01}, current_interharmonics={"172.3": 0.073},
              voltage_dc=1.5, current_dc=-0.2)
    d["imperfections"] = {"Ua": {"gain": 0.02}}
    d["timeline"] = [{"at": 0.05, "phases": {"a": {"voltage": 110.0}}}]
    g = gen.Generator(d)
    g.analog(123)
    x = g.analog(800)
    k = np.arange(123, 923)
    t = k / 8000.0
    u1 = np.where(k < 400, 220.0, 110.0)
    ua = 1.02 * (SQ2 * u1 * (np.sin(2 * np.pi * 50 * t) + 0.05 * np.sin(2 * np.pi * 172.3 * t + np.radians(40))
                             + 0.01 * np.sin(2 * np.pi * 8 * t)) + 1.5)
    ia = SQ2 * 5 * (np.sin(2 * np.pi * 50 * t - np.pi / 6) + 0.073 * np.sin(2 * np.pi * 172.3 * t)) - 0.2
    assert np.abs(x[:, 0] / CU - ua).max() < 1e-9 and np.abs(x[:, 3] / CI - ia).max() < 1e-9
    i_n = 3 * (SQ2 * 5 * 0.073 * np.sin(2 * np.pi * 172.3 * t) - 0.2)  # the interharmonics (in phase) and DCs add
    assert np.abs(x[:, 6] / CI - i_n).max() < 1e-9


def test_interharmonic_passes_the_adc_filter_at_its_own_frequency():
    d = _base(voltage_interharmonics={"172.5": [0.1, 25.0]})
    d["adc_filter"] = True
    x = gen.Generator(d).analog(16000)[:, 0] / CU  # 2 s: 100 cycles of 50 Hz, 345 of 172.5 Hz
    got = np.fft.rfft(x)[345] * 2j / len(x) / SQ2  # complex RMS, sine reference
    want = 0.1 * 220 * np.exp(1j * np.radians(25)) * sinc3(172.5) * rc(172.5, 10000.0)
    assert abs(got - want) < 1e-9 * 220


def test_interharmonic_above_nyquist_is_refused():
    with pytest.raises(ValueError, match="voltage_interharmonics"):
        gen.Generator(_base(voltage_interharmonics={"4000": 0.01}))


def test_notches_unfiltered_are_the_rectangles():
    d = _base(voltage_notches=[{"at": [5.0, 185.0], "width_ms": 0.4, "depth": 0.4},
                               {"at": 65.0, "width_ms": 0.3, "depth": -0.2}])
    d["phases"]["b"]["voltage_angle"] = -117.0
    x = gen.Generator(d).analog(1600)
    t = np.arange(1600) / 8000.0
    pk = SQ2 * 220
    for c, theta in ((0, 0.0), (1, -117.0)):
        c0 = lambda deg: (np.arange(-1, 11) + (deg - theta) / 360.0) / 50.0
        want = pk * np.sin(2 * np.pi * 50 * t + np.radians(theta))
        want += -0.4 * pk * _rect(t, c0(5.0), 0.4e-3) + 0.4 * pk * _rect(t, c0(185.0), 0.4e-3)
        want += 0.2 * pk * _rect(t, c0(65.0), 0.3e-3)  # negative depth in the positive half: pushed up
        assert np.abs(x[:, c] / CU - want).max() < 1e-9


def test_notches_through_rc_and_sinc3_match_a_modulator_rate_simulation():
    """The notch's contribution against the filter simulated at the modulator's 4.096 MHz: the RC's exact step
    response sampled there, then the sinc3 as three 512-sample boxcars, every 512th output."""
    base = {"frequency": 50.0, "phases": {"a": {"voltage": 220.0}}, "adc_filter": True, "rc_corner_hz": 9000.0}
    notched = copy.deepcopy(base)
    notched["phases"]["a"]["voltage_notches"] = [{"at": [5.0, 185.0], "width_ms": 0.4, "depth": 0.4}]
    n = 800
    got = (gen.Generator(notched).analog(n)[:, 0] - gen.Generator(base).analog(n)[:, 0]) / CU
    osr, fm, tau = frontend.OSR, frontend.F_MOD, 1 / (2 * np.pi * 9000.0)
    t = np.arange(-3 * osr, n * osr + 1) / fm
    v = np.zeros(len(t))
    for at, sign in ((5.0, -1.0), (185.0, 1.0)):
        for m in range(-1, 6):
            ts = (m + at / 360.0) / 50.0
            for edge, h in ((ts, 1.0), (ts + 0.4e-3, -1.0)):
                v += h * sign * 0.4 * SQ2 * 220 * np.where(t > edge, 1 - np.exp(-np.clip(t - edge, 0, None) / tau),
                                                           0.0)
    box = np.ones(osr) / osr
    y = np.convolve(v, np.convolve(np.convolve(box, box), box))[:len(v)]
    want = y[np.arange(n) * osr + 3 * osr]
    assert np.abs(got - want).max() < 1e-6 and np.abs(want).max() > 50


# --- the truth ------------------------------------------------------------------------------------------------------
def _grid(f, n=2 ** 18):
    return (np.arange(n) + 0.37) / n / f  # one cycle; the offset keeps the notch edges off the grid


def test_notch_truth_against_a_fine_grid():
    notches = [{"at": [5.0, 185.0], "width_ms": 0.4, "depth": 0.4}, {"at": [65.0, 245.0], "width_ms": 0.3,
                                                                      "depth": 0.2}]
    d = _base(voltage_notches=notches, voltage_harmonics={"5": [0.03, 20.0]})
    t = tr.truth(d)
    g = _grid(50.0)
    w = 2 * np.pi * 50 * g
    pk = SQ2 * 220
    starts = lambda deg: (np.arange(-1, 2) + deg / 360.0) / 50.0
    u = pk * (np.sin(w) + 0.03 * np.sin(5 * w + np.radians(20)))
    for deg, wd, dep in ((5.0, 0.4, 0.4), (185.0, 0.4, 0.4), (65.0, 0.3, 0.2), (245.0, 0.3, 0.2)):
        u += (-dep if deg < 180 else dep) * pk * _rect(g, starts(deg), wd * 1e-3)
    i = SQ2 * 5 * np.sin(w - np.pi / 6)
    spec = np.fft.rfft(u) * 2j / len(u) / SQ2
    assert math.isclose(t["Ua"], np.sqrt(np.mean((u - u.mean()) ** 2)), rel_tol=2e-6)
    assert math.isclose(t["Pa"], np.mean(u * i), rel_tol=2e-6)
    i1 = np.fft.rfft(i)[1] * 2j / len(i) / SQ2
    assert math.isclose(t["Qa"], (spec[1] * np.conj(i1)).imag, rel_tol=2e-6)
    thd = np.sqrt(np.sum(np.abs(spec[2:32]) ** 2)) / abs(spec[1])
    assert math.isclose(t["THD_Ua"], 100 * thd, rel_tol=2e-5) and 10 < t["THD_Ua"] < 20
    assert abs(t["phasors"]["Ua"] - spec[1]) < 1e-5 * 220


def test_interharmonic_truth_is_the_long_run_value():
    d = _base(voltage_interharmonics={"172.3": [0.05, 0.0]}, current_interharmonics={"172.3": [0.073, -40.0]},
              voltage_dc=3.0, current_dc=0.5)
    t = tr.truth(d)
    tt = np.arange(200_000) / 20_000.0  # 10 s: whole cycles of 50 and 172.3 Hz (the sums are exact there)
    u = SQ2 * 220 * (np.sin(2 * np.pi * 50 * tt) + 0.05 * np.sin(2 * np.pi * 172.3 * tt)) + 3.0
    i = SQ2 * 5 * (np.sin(2 * np.pi * 50 * tt - np.pi / 6)
                   + 0.073 * np.sin(2 * np.pi * 172.3 * tt - np.radians(40))) + 0.5
    ac = lambda x: x - x.mean()  # the meter's rms and P remove DC
    assert math.isclose(t["Ua"], np.sqrt(np.mean(ac(u) ** 2)), rel_tol=1e-9)
    assert math.isclose(t["Ia"], np.sqrt(np.mean(ac(i) ** 2)), rel_tol=1e-9)
    assert math.isclose(t["Pa"], np.mean(ac(u) * ac(i)), rel_tol=1e-9)
    assert t["Qa"] == pytest.approx(220 * 5 * 0.5, rel=1e-12) and t["F"] == 50.0 and t["THD_Ua"] == 0.0
    assert t["dc"]["Ua"] == 3.0 and t["dc"]["In"] == 1.5


def test_window_truth_against_a_fine_grid():
    """An arbitrary window over an interharmonic, a subharmonic, DC and a step: rms with the window's mean removed,
    P, Q from the DFT at the fundamental over the window, F = cycles / length."""
    d = _base(voltage_interharmonics={"172.3": [0.05, 0.0], "8": [0.01, 30.0]},
              current_interharmonics={"172.3": [0.073, -40.0]}, current_dc=0.3)
    d["timeline"] = [{"at": 0.1234, "phases": {"a": {"current": 2.0}}}]
    t0, t1 = 0.0517, 0.0517 + 0.2
    got = tw.window(d, t0, t1)
    n = 1_000_000  # midpoints; the step falls on a cell edge
    tt = t0 + (np.arange(n) + 0.5) * (t1 - t0) / n
    i1 = np.where(tt < 0.1234, 5.0, 2.0)
    u = SQ2 * 220 * (np.sin(2 * np.pi * 50 * tt) + 0.05 * np.sin(2 * np.pi * 172.3 * tt)
                     + 0.01 * np.sin(2 * np.pi * 8 * tt + np.radians(30)))
    i = SQ2 * i1 * (np.sin(2 * np.pi * 50 * tt - np.pi / 6) + 0.073 * np.sin(2 * np.pi * 172.3 * tt - np.radians(40)))
    i = i + 0.3
    ac = lambda x: x - x.mean()
    assert math.isclose(got["Ua"], np.sqrt(np.mean(ac(u) ** 2)), rel_tol=1e-8)
    assert math.isclose(got["Ia"], np.sqrt(np.mean(ac(i) ** 2)), rel_tol=1e-8)
    assert math.isclose(got["Pa"], np.mean(ac(u) * ac(i)), rel_tol=1e-8)
    e = 1j * np.exp(-2j * np.pi * 50 * tt) * SQ2
    q = (np.mean(u * e) * np.conj(np.mean(i * e))).imag
    assert math.isclose(got["Qa"], q, rel_tol=1e-8) and got["F"] == pytest.approx(50.0, abs=1e-9)
    # over whole cycles of a periodic scenario the window is the steady truth
    steady = tr.truth(scn.load("harmonics_60"))
    w = tw.window(scn.load("harmonics_60"), 0.0311, 0.0311 + 12 / 60.0)
    assert all(abs(w[k] - steady[k]) <= 1e-9 * max(1.0, abs(steady[k])) for k in w)


def test_half_wave_current_reads_its_ac_part():
    t = tr.truth(scn.load("half_wave_dc"))
    ipk = 2 * SQ2 * 2.5
    assert t["Ia"] == pytest.approx(ipk * math.sqrt(0.25 - 1 / math.pi ** 2), rel=5e-6)  # 2.7264 A, not 3.5355
    assert t["dc"]["Ia"] == pytest.approx(ipk / math.pi, rel=1e-9)
    assert t["Pa"] == pytest.approx(220 * 2.5, rel=1e-12) and t["Qa"] == pytest.approx(0.0, abs=1e-9)


def test_unbalance_and_sequence_of_a_reversed_system():
    t = tr.truth(scn.load("reversed_sequence"))
    assert t["UNB_U"] == 100.0 and t["UNB_I"] == 100.0 and t["sequence"] == 2 and t["sequence_I"] == 2
    assert t["P"] == pytest.approx(3 * 220 * 5 * math.cos(math.pi / 6)) and t["Q"] == pytest.approx(1650.0)
    assert tr.truth(scn.load("default"))["sequence"] == 1
    assert tr.truth(scn.load("blown_fuse_b"))["UNB_U"] == pytest.approx(50.0)
    assert tr.unbalance(2.0, 1.0) == 50.0 and tr.unbalance(1.0, 1.0) == 100.0 and tr.unbalance(0.0, 3.0) == 100.0
    assert tr.unbalance(0.0, 0.0) == 0.0 and tr.sequence(0.0, 0.0) == 0


def test_energy_of_a_timeline_is_the_exact_integral():
    s = scn.load("welder")
    e = tw.energy(s, 0.0, 5.0)
    per = 220 * math.cos(math.pi / 6) * (0.02 * 0.9 + 6.0 * 0.1)  # J per phase per second: whole cycles
    assert e["total"] == pytest.approx(3 * 5 * per / 3600, rel=1e-12)
    # a stretch that cuts cycles: against a fine grid of u i
    t0, t1 = 0.8876, 1.0123
    n = 2_000_000
    tt = t0 + (np.arange(n) + 0.5) * (t1 - t0) / n
    i1 = np.where((tt >= 0.9) & (tt < 1.0), 6.0, 0.02)
    p = 2 * 220 * i1 * np.sin(2 * np.pi * 50 * tt) * np.sin(2 * np.pi * 50 * tt - np.pi / 6)
    assert tw.energy(s, t0, t1)["a"] == pytest.approx(p.mean() * (t1 - t0) / 3600, rel=1e-8)
