# SPDX-License-Identifier: MIT
# Signal source (tools/generator.py), CPython + numpy: measured RMS/P/phasors from generated codes agree with
# truth(), imperfections, continuity, speed; truth and the scenario files are in test_scenario_truth.py.
import copy
import glob
import math
import os
import struct
import time
from fractions import Fraction

import numpy as np
import pytest

from conftest import ROOT
from tools import generator as gen
from tools import scenario as scn
from tools import truth as tr


def _pt100_code(t):
    # IEC 60751 Callendar-Van Dusen, written out here; the front end maps 400 ohm to code 2**23
    r = 100.0 * (1 + 3.9083e-3 * t - 5.775e-7 * t * t + (-4.183e-12 * (t - 100) * t ** 3 if t < 0 else 0.0))
    return round(r * 2 ** 23 / 400)

FILES = sorted(glob.glob(os.path.join(ROOT, "tools", "scenarios", "*.json")))
NAMES = [os.path.basename(p)[:-5] for p in FILES]


def _plain(s):
    """Harmonics of the fundamental only, steady and within the ADC's range: what the checks below measure over
    whole cycles (interharmonics, DC, notches, timelines, clipping: host_tests/test_disturbances.py)."""
    extra = any(ph[k] for ph in s.phases.values() for k in ("voltage_interharmonics", "current_interharmonics",
                                                            "voltage_dc", "current_dc", "voltage_notches"))
    peak = max([ph["voltage"] * (1 + sum(r for r, _ in ph["voltage_harmonics"].values())) / 1000.0
                for ph in s.phases.values()] +
               [ph["current"] * (1 + sum(r for r, _ in ph["current_harmonics"].values())) / 25.0
                for ph in s.phases.values()]) * SQ2
    return not extra and not s.timeline and peak < 1.0


# per-phase channel checks: four-wire scenarios (in 2LL modes the channels carry line voltages: test_wiring.py)
SQ2 = math.sqrt(2.0)
NAMES_4W = [n for p, n in zip(FILES, NAMES) if scn.load(p).syss == "3Ln3CT" and _plain(scn.load(p))]
UNIT = np.array([1000.0 / 2 ** 23] * 3 + [25.0 / 2 ** 23] * 4)  # code -> V or A, channels Ua..In
SQ2 = math.sqrt(2.0)


@pytest.fixture(autouse=True)
def _no_adc_filter(monkeypatch):
    """These tests check the ideal source against formulas: scenarios without "adc_filter" leave it off here
    (host_tests/test_adc_filter.py checks the filter)."""
    monkeypatch.setattr(scn, "ADC_FILTER", False)


def _dict(name):
    return scn.load(name).to_dict()


def _ideal(name):
    """The scenario without board imperfections and without the ADC's filter (truth ignores them; the filter has
    its own tests in host_tests/test_adc_filter.py)."""
    d = _dict(name)
    d.pop("imperfections")
    return scn.parse(d)


def _period(f, fs=8000):
    """Smallest sample count holding a whole number of cycles of f (exact: f is read as its decimal text)."""
    ratio = Fraction(repr(float(f))) / fs
    return ratio.denominator, ratio.numerator  # samples, cycles


def _measure(s, cycles_min=10):
    n, m = _period(s.frequency)
    reps = max(1, -(-cycles_min // m))
    g = gen.Generator(s)
    x = g.block_array(n * reps)[:, :7] * UNIT
    return x, m * reps


def _phasor(x, cycles, h=1):
    """Complex RMS phasor (sine reference) of order h from a window of exactly `cycles` cycles."""
    return np.fft.rfft(x, axis=0)[h * cycles] * 1j * SQ2 / len(x)


def _close(got, want, ref, rel=1e-5):
    assert abs(got - want) <= rel * max(abs(want), ref), (got, want)


@pytest.mark.parametrize("name", NAMES_4W)
def test_measured_matches_truth(name):
    s = _ideal(name)
    t = tr.truth(s)
    x, cycles = _measure(s)
    pt, ct = s.pt, s.ct
    rms = np.sqrt((x ** 2).mean(axis=0))
    uref, iref, sref = max(t["Ua"], t["Ub"], t["Uc"]), max(t["Ia"], t["Ib"], t["Ic"]), t["S"]
    ph = _phasor(x, cycles)
    truth_ph = tr.phasors(s)
    for k, p in enumerate("abc"):
        u, i = x[:, k], x[:, 3 + k]
        _close(rms[k] * pt, t["U" + p], uref)
        _close(rms[3 + k] * ct, t["I" + p], iref)
        _close((u * i).mean() * pt * ct, t["P" + p], sref)
        _close(rms[k] * rms[3 + k] * pt * ct, t["S" + p], sref)
        if t["S" + p] > 0:
            _close((u * i).mean() / (rms[k] * rms[3 + k]), t["PF" + p], 1.0)
        _close((ph[k] * ph[3 + k].conjugate()).imag * pt * ct, t["Q" + p], sref)
        _close(ph[k], truth_ph["U" + p], uref / pt)
        _close(ph[3 + k], truth_ph["I" + p], iref / ct)
    for a, b in ((0, 1), (1, 2), (2, 0)):
        name_ll = "U" + "abc"[a] + "abc"[b]
        _close(np.sqrt(((x[:, a] - x[:, b]) ** 2).mean()) * pt, t[name_ll], uref)
    _close(rms[6] * ct, t["I_N"], iref)
    _close(ph[6] * ct, t["phasors"]["In"], iref)
    _close((x[:, :3] * x[:, 3:6]).mean(axis=0).sum() * pt * ct, t["P"], sref)


def test_samples_match_formula():
    """Every channel against the scenario's formula evaluated with math.sin, sample by sample (within rounding)."""
    d = _dict("harmonics_60")
    d["phases"]["b"]["voltage_angle"] = -110.0
    d["phases"]["c"]["angle"] = -35.0
    d["temperature"] = 40.0
    s = scn.parse(d)
    g = gen.Generator(s, sample_rate=8000)
    g.block_array(1234)
    codes = g.block_array(50)
    fs = 8000
    for j in range(50):
        k = 1234 + j
        wt = 2 * math.pi * 60 * k / fs
        chans = []
        for kind in "UI":
            for p in "abc":
                ph = s.phases[p]
                th = math.radians(ph["voltage_angle"] - (ph["angle"] if kind == "I" else 0.0))
                x1 = ph["voltage" if kind == "U" else "current"]
                harm = ph["voltage_harmonics" if kind == "U" else "current_harmonics"]
                v = math.sin(wt + th) + sum(r * math.sin(h * (wt + th) + math.radians(phi))
                                            for h, (r, phi) in harm.items())
                chans.append(SQ2 * x1 * v * 2 ** 23 / (1000.0 if kind == "U" else 25.0))
        chans.append(sum(chans[3:6]))
        for c in range(7):
            assert abs(codes[j, c] - chans[c]) <= 0.5 + 1e-6, (k, c, codes[j, c], chans[c])
        assert codes[j, 7] == _pt100_code(40.0)  # PT100: R(40 degC) = 115.5408 ohm, 2**23 codes = 400 ohm


def test_harmonics_fft():
    s = scn.load("harmonics_60")
    n, m = _period(60.0)
    g = gen.Generator(s)
    x = g.block_array(10 * n)[:, :7] * UNIT
    spec = np.fft.rfft(x, axis=0) * 1j * SQ2 / len(x)
    t = tr.truth(s)
    for c, ch in enumerate(scn.CHANNELS):
        ref = tr.spectrum(s, ch)
        scale = abs(tr.spectrum(s, ch[0] + "a")[1])  # In has no fundamental here: scale by a phase current
        x1 = abs(spec[10 * m, c])
        for h in range(1, 32):
            assert abs(spec[10 * m * h, c] - ref.get(h, 0j)) <= 1e-5 * scale, (ch, h)
            if ch != "In" and h > 1:
                assert abs(abs(spec[10 * m * h, c]) / x1 - t["hd"][ch][h]) < 1e-6
        if ch != "In":
            thd = math.sqrt(sum(abs(spec[10 * m * h, c]) ** 2 for h in range(2, 32))) / x1
            assert abs(thd - t["thd_" + ch]) < 1e-6


def _with(name, **imp):
    d = _dict(name)
    d["imperfections"] = imp
    return scn.parse(d)


def test_gain_and_offset():
    s = _with("default", Ua={"gain": 0.03}, Ib={"gain": -0.02, "offset": 0.05}, Uc={"offset": -1.5})
    x = gen.Generator(s).block_array(1600)[:, :7] * UNIT
    rms = np.sqrt(((x - x.mean(axis=0)) ** 2).mean(axis=0))
    assert abs(rms[0] / 220 - 1.03) < 1e-6 and abs(rms[1] / 220 - 1) < 1e-6 and abs(rms[4] / 5 - 0.98) < 1e-6
    assert abs(x[:, 2].mean() + 1.5) < 1e-5 and abs(x[:, 4].mean() - 0.05) < 1e-6 and abs(x[:, 0].mean()) < 1e-5
    # In is the neutral CT: it sees the true currents, not the errors of the phase CTs
    assert np.abs(x[:, 6]).max() < 1e-5


@pytest.mark.parametrize("drift", [0.0, 1e-9])
def test_phase_skew_is_a_time_delay(drift):
    """Skew of `phase` degrees delays the channel: order h shifts by h*phase (both code paths)."""
    d = _dict("harmonics_60")
    d["frequency_drift"] = drift
    d["imperfections"] = {"Ia": {"phase": 2.0}, "Ub": {"phase": -0.7}}
    s, ideal = scn.parse(d), _ideal("harmonics_60")
    n, m = _period(60.0)
    x = gen.Generator(s).block_array(10 * n)[:, :7] * UNIT
    y = gen.Generator(ideal).block_array(10 * n)[:, :7] * UNIT
    for c, deg in ((3, 2.0), (1, -0.7), (0, 0.0)):
        for h in (1, 3, 5, 7):
            a, b = _phasor(x[:, c], 10 * m, h), _phasor(y[:, c], 10 * m, h)
            if abs(b) > 1e-3:
                shift = math.degrees(np.angle(a / b))
                assert abs(shift + h * deg) < 1e-3, (c, h, shift)
                assert abs(abs(a) / abs(b) - 1) < 1e-5


def test_skew_paths_agree():
    d = _dict("harmonics_60")
    d["imperfections"] = {"Ia": {"phase": 1.3}, "In": {"phase": 0.4}}
    a = gen.Generator(scn.parse(d)).block_array(800)
    d["frequency_drift"] = 1e-12
    b = gen.Generator(scn.parse(d)).block_array(800)
    assert np.abs(a.astype(np.int64) - b).max() <= 1


def test_noise_rms_and_seed():
    s = _with("default", Ua={"noise": 0.5}, Ic={"noise": 0.01})
    x = gen.Generator(s, seed=7).block_array(16000)[:, :7] * UNIT
    y = gen.Generator(scn.default()).block_array(16000)[:, :7] * UNIT
    e = x - y
    assert abs(e[:, 0].std() / 0.5 - 1) < 0.03 and abs(e[:, 5].std() / 0.01 - 1) < 0.03
    assert abs(e[:, 0].mean()) < 0.02 and np.abs(e[:, 1]).max() < 1e-3  # other channels untouched
    again = gen.Generator(s, seed=7).block_array(16000)[:, :7] * UNIT
    other = gen.Generator(s, seed=8).block_array(16000)[:, :7] * UNIT
    assert np.array_equal(x, again) and not np.array_equal(x, other)


def test_blocks_are_continuous():
    s = scn.load("imperfect_board")  # noise too: the random stream must not depend on block sizes
    whole = gen.Generator(s, seed=3).block_array(1000)
    g = gen.Generator(s, seed=3)
    parts = [g.block_array(n) for n in (1, 399, 0, 600)]
    assert np.array_equal(np.concatenate(parts), whole) and g.samples == 1000


def test_set_scenario_keeps_time_running():
    s = scn.default()
    ref = gen.Generator(s).block_array(1000)
    g = gen.Generator(s)
    a = g.block_array(337)
    g.set_scenario(_dict("default"))  # the same scenario again: nothing may change
    assert np.array_equal(np.concatenate([a, g.block_array(663)]), ref)

    d = _dict("default")  # new load: voltages run on as if nothing happened, currents change at once
    for p in d["phases"].values():
        p["current"], p["angle"] = 2.0, -10.0
    g = gen.Generator(s)
    g.block_array(337)
    g.set_scenario(d)
    b = g.block_array(663)
    assert np.array_equal(b[:, :3], ref[337:, :3]) and not np.array_equal(b[:, 3:6], ref[337:, 3:6])
    assert g.samples == 1000

    d["frequency"] = 49.8  # new frequency: the phase is continuous at the switch, then advances at 49.8 Hz
    g = gen.Generator(s)
    g.block_array(337)
    g.set_scenario(d)
    c = g.block_array(663)
    c0 = Fraction(50 * 337, 8000)
    for j in (0, 1, 100, 662):
        cyc = float((c0 + Fraction(249, 5) * j / 8000) % 1)
        want = SQ2 * 220 * math.sin(2 * math.pi * cyc) * 2 ** 23 / 1000
        assert abs(c[j, 0] - want) <= 0.5 + 1e-6


def test_long_runs_do_not_drift():
    """Phase from the integer sample index: ~35 hours in, samples still match the exact phase."""
    d = _dict("unbalanced_49_8")
    g = gen.Generator(scn.parse(d))
    k0 = 10 ** 9 + 17
    g.samples = k0  # jump ahead (the scenario started at sample 0)
    x = g.block_array(20)
    for j in range(20):
        cyc = float((Fraction(249, 5) * (k0 + j) / 8000) % 1)
        want = SQ2 * 5.2 * math.sin(2 * math.pi * cyc + math.radians(-25)) * 2 ** 23 / 25  # Ia lags Ua by 25
        assert abs(x[j, 3] - want) <= 0.5 + 1e-5


def test_frequency_drift():
    d = _dict("default")
    d["frequency_drift"] = 0.02  # Hz/s
    g = gen.Generator(scn.parse(d))
    g.samples = 80000  # t = 10 s: f = 50.2 Hz; cycles = 50 t + 0.01 t^2
    x = g.block_array(5)
    assert math.isclose(g.frequency, 50.0 + 0.02 * 80005 / 8000)
    assert math.isclose(tr.frequency_at(d, 10.0), 50.2) and tr.truth(d)["F"] == 50.0
    for j in range(5):
        t = Fraction(80000 + j, 8000)
        cyc = float((50 * t + Fraction(1, 100) * t * t) % 1)
        assert abs(x[j, 0] - SQ2 * 220 * math.sin(2 * math.pi * cyc) * 2 ** 23 / 1000) <= 0.5 + 1e-5


def test_saturation():
    d = _dict("default")
    d["phases"]["a"]["voltage"] = 800.0  # 1131 V peak > 1000 V full scale
    d["phases"]["b"]["current"] = 20.0  # 28 A peak > 25 A
    x = gen.Generator(scn.parse(d)).block_array(160)
    top = 2 ** 23 - 1
    for c in (0, 4):
        assert x[:, c].max() == top and x[:, c].min() == -top and (x[:, c] == top).sum() > 5
    assert np.abs(x[:, [1, 2, 3, 5]]).max() < top * 0.5


def test_block_bytes_layout():
    d = {"frequency": 50.0, "phases": {"b": {"voltage": 100.0}}, "temperature": -12.3}
    b = gen.Generator(d).block(40)
    x = gen.Generator(d).block_array(40)
    assert isinstance(b, bytes) and len(b) == 40 * 8 * 4 and x.dtype == np.int32 and x.shape == (40, 8)
    vals = struct.unpack("<320i", b)
    assert list(vals) == x.ravel().tolist()
    # channel order Ua Ub Uc Ia Ib Ic In T, interleaved: only Ub moves, T holds round(100 * -12.3)
    assert vals[8 * 2 + 1] == round(SQ2 * 100 * math.sin(2 * math.pi * 50 * 2 / 8000 - 2 * math.pi / 3) * 8388.608)
    assert all(vals[8 * k + c] == 0 for k in range(40) for c in (0, 2, 3, 4, 5, 6))
    assert all(vals[8 * k + 7] == _pt100_code(-12.3) for k in range(40))


def test_speed_over_100x_real_time():
    """5 s of harmonics_60 through the imperfect board, in the sim's 400-sample blocks, in under 50 ms of CPU
    (process time, best of 3: other processes on the host do not count; the generator is single-threaded)."""
    s = scn.load("harmonics_60").to_dict()
    s["imperfections"] = scn.load("imperfect_board").to_dict()["imperfections"]
    g = gen.Generator(s)
    g.block(400)
    best = 1.0
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(100):
            g.block(400)
        best = min(best, time.process_time() - t0)
    assert best < 5.0 / 100, best


def test_generator_rejects_aliasing():
    d = copy.deepcopy(scn.DEFAULT)
    d["frequency"] = 200.0
    d["phases"]["a"]["current_harmonics"] = {"31": [0.01, 0]}
    with pytest.raises(ValueError):
        gen.Generator(d)
    g = gen.Generator(scn.DEFAULT)
    with pytest.raises(ValueError):
        g.set_scenario(d)
    assert g.scenario == scn.default()  # a refused switch changes nothing


def test_timeline_switches_at_its_sample():
    """A timeline step changes the signal at exactly its sample; before it the stream is the plain scenario's,
    after it phase B has the step's amplitude with the fundamental's phase running on."""
    import json as _json

    from tools import scenario as _scn
    from tools.generator import Generator as _Gen

    base = _json.load(open(os.path.join(ROOT, "tools", "scenarios", "default.json")))
    base["imperfections"] = {}
    timed = dict(base, timeline=[{"at": 0.1, "phases": {"b": {"voltage": 154.0}}}])
    a = _Gen(_scn.parse(base)).analog(1600)
    b = _Gen(_scn.parse(timed)).analog(1600)
    assert np.array_equal(a[:800], b[:800])
    assert np.allclose(b[800:, 1], 0.7 * a[800:, 1], rtol=1e-9, atol=1e-6)
    assert np.allclose(a[800:, 0], b[800:, 0], rtol=0, atol=1e-3)  # phase A unchanged (codes)
    with pytest.raises(ValueError, match="timeline"):
        _scn.parse(dict(base, timeline=[{"at": 0.2}, {"at": 0.1}]))
