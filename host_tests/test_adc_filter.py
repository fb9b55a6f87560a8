# SPDX-License-Identifier: MIT
# The ADC as it really is (docs/metering.md): the generator's sinc3 + RC against a time-domain simulation of the
# modulator-rate signal through an RC and a sinc3 decimator (an independent truth); the scenario's filter
# settings; the firmware's compensation of HR, THD and the rms values, which must fail without it.
import math
import struct
from array import array

import numpy as np
import pytest

from firmware import droop, regmap, tables
from firmware.harmonics import Harmonics
from firmware.metering import Metering
from firmware.sampler import Sampler
from tools import gen_tables
from tools import generator as gen
from tools import scenario as scn
from tools import truth

F_MOD = 4096000  # ADS131M08: fCLKIN 8.192 MHz / 2 (high-resolution mode), OSR 512 -> 8000 samples/s
OSR = 512
CODES_U = 2 ** 23 / 1000.0
CODES_I = 2 ** 23 / 25.0


def _sinc3_formula(f):
    x = math.pi * f / F_MOD
    return (math.sin(OSR * x) / (OSR * math.sin(x))) ** 3 if f else 1.0


def _scenario(f, drift=0.0, corners=None):
    d = {"frequency": f, "frequency_drift": drift,
         "phases": {"a": {"voltage": 230.0, "current": 5.0, "angle": 25.0, "voltage_angle": 10.0,
                          "voltage_harmonics": {"5": [0.06, 20.0], "13": [0.03, -50.0], "31": [0.05, 80.0]},
                          "current_harmonics": {"3": [0.3, 0.0], "17": [0.1, 40.0], "31": [0.1, -30.0]}}}}
    if corners is not None:
        d["rc_corner_hz"] = corners
    return d


def _time_domain(s, name, n_out, corner):
    """Channel `name` (a phase-a channel of a 3Ln3CT scenario) in codes at the ADC's output, from the waveform
    formula (docs/scenarios.md) evaluated at the modulator rate, an RC solved exactly for a signal linear between
    modulator samples, and a sinc3 decimator: three running sums of OSR samples, every OSR-th output."""
    ph = s.phases["a"]
    pre = 4096  # modulator samples of RC settling before the filter's first input (tau = 16 us = 65 samples)
    m = np.arange(-pre - 3 * (OSR - 1), n_out * OSR + 1, dtype=np.float64)
    t = m / F_MOD
    cyc = s.frequency * t + 0.5 * s.frequency_drift * t * t
    if name == "Ua":
        x1, theta, harm, scale = ph["voltage"], ph["voltage_angle"], ph["voltage_harmonics"], CODES_U
    else:
        x1, theta, harm, scale = ph["current"], ph["voltage_angle"] - ph["angle"], ph["current_harmonics"], CODES_I
    a = 2 * np.pi * cyc + math.radians(theta)
    x = np.sin(a)
    for h, (r, phi) in harm.items():
        x += r * np.sin(h * a + math.radians(phi))
    x *= math.sqrt(2) * x1 * scale
    # RC: dy/dt = (x - y) / tau, exact for x linear between samples (first-order hold)
    tau = 1.0 / (2 * math.pi * corner)
    T = 1.0 / F_MOD
    e = math.exp(-T / tau)
    b0 = 1 - tau / T * (1 - e)
    b1 = tau / T * (1 - e) - e
    y = np.empty_like(x)
    y[0] = x[0]
    for k in range(1, len(x)):  # ~40k steps: plain Python is fast enough
        y[k] = e * y[k - 1] + b0 * x[k] + b1 * x[k - 1]
    y = y[pre:]  # y[j] is modulator sample j - 3 (OSR - 1)
    for _ in range(3):
        c = np.concatenate(([0.0], np.cumsum(y)))
        y = (c[OSR:] - c[:-OSR]) / OSR  # y'[j] = mean of y[j .. j + OSR - 1]: output at the window's last sample
    return y[::OSR][:n_out]  # modulator sample n OSR, the ADC's n-th output (generator sample n at t = n / 8000)


@pytest.mark.parametrize("drift", [0.0, 0.5])
def test_generator_matches_a_time_domain_sinc3_and_rc(drift):
    s = scn.parse(_scenario(60.0, drift, {"U": 10000, "I": 7000}))
    n = 48
    x = gen.Generator(s).analog(n)
    raw = gen.Generator(scn.parse(dict(_scenario(60.0, drift), adc_filter=False))).analog(n)
    for name, k, corner in (("Ua", 0, 10000.0), ("Ia", 3, 7000.0)):
        want = _time_domain(s, name, n, corner)
        peak = np.abs(want).max()
        err = np.abs(x[:, k] - want).max() / peak
        assert err < 2e-6, (name, drift, err)
        assert np.abs(raw[:, k] - want).max() / peak > 1e-2  # the filter is visible: the test can fail


def test_sinc3_response_against_the_datasheet():
    # ADS131M08 (SBAS950B 8.3.7) / ADS131B26: sinc3 at OSR 512, 8.192 MHz: -3 dB at 2.1 kHz, notches at 8 kHz
    assert abs(abs(gen_tables.sinc3(2096.0)) ** 2 - 0.5) < 2e-3
    assert abs(gen_tables.sinc3(8000.0)) < 1e-12
    for f in (50.0, 60.0, 1860.0):
        assert abs(abs(gen_tables.sinc3(f)) - _sinc3_formula(f)) < 1e-12
    assert abs(gen.SINC3_DELAY * 8000 - 1.497) < 1e-3  # 3 (OSR - 1) / 2 modulator periods


@pytest.mark.parametrize("bad, msg", [
    ({"rc_corner_hz": 0}, "rc_corner_hz: must be >= 1000"),
    ({"rc_corner_hz": -10000}, "rc_corner_hz: must be >= 1000"),
    ({"rc_corner_hz": 500.0}, "rc_corner_hz: must be >= 1000"),
    ({"rc_corner_hz": 1e9}, "rc_corner_hz: must be <= 1e+07"),
    ({"rc_corner_hz": float("nan")}, "rc_corner_hz: expected a finite number"),
    ({"rc_corner_hz": "10k"}, "rc_corner_hz: expected a number (Hz) or an object"),
    ({"rc_corner_hz": True}, "rc_corner_hz: expected a number (Hz) or an object"),
    ({"rc_corner_hz": {"U": 0}}, "rc_corner_hz.U: must be >= 1000"),
    ({"rc_corner_hz": {"In": 9000}}, "rc_corner_hz.In: unknown field"),
    ({"adc_filter": "yes"}, "adc_filter: expected true or false"),
    ({"adc_filter": 1}, "adc_filter: expected true or false"),
])
def test_scenario_refuses_bad_filter_settings(bad, msg):
    d = dict(scn.DEFAULT, **bad)
    with pytest.raises(ValueError) as e:
        scn.parse(d)
    assert str(e.value).startswith(msg), str(e.value)


def test_scenario_filter_defaults_and_round_trip():
    s = scn.default()
    assert s.adc_filter is True and s.rc_corner == {"U": 10000.0, "I": 10000.0}
    s = scn.parse(dict(scn.DEFAULT, rc_corner_hz={"I": 8200}))
    assert s.rc_corner == {"U": 10000.0, "I": 8200.0}
    assert scn.parse(s.to_dict()) == s
    assert scn.parse(dict(scn.DEFAULT, rc_corner_hz=12000)).rc_corner == {"U": 12000.0, "I": 12000.0}
    assert scn.parse(dict(scn.DEFAULT, adc_filter=False)) != scn.default()


def test_droop_table_against_the_formula():
    v = struct.unpack("<145I", tables.DROOP)
    for k in range(145):
        f = k * 8000 * 2.0 ** 23 / 2 ** 32
        g = 1.0 / (abs(_sinc3_formula(f)) / math.sqrt(1 + (f / 10000.0) ** 2))
        assert abs(v[k] / 2 ** 24 - (g - 1)) <= 0.5 / 2 ** 24 + 1e-12, k
    # the interpolation at an order's actual frequency h f1, 45..65 Hz, orders 1..31
    g = bytearray(62)
    d = bytearray(62)
    for f1 in (45.0, 49.5, 50.0, 52.3, 60.0, 65.0):
        step = int(round(f1 / 8000 * 2 ** 32))
        fq = step * 8000 / 2 ** 32
        for h in range(1, 32):
            want = 1.0 / (abs(_sinc3_formula(h * fq)) / math.sqrt(1 + (h * fq / 10000.0) ** 2))
            got = 1 + droop.gain(tables.DROOP, h * step) / 2 ** 24
            assert abs(got / want - 1) < (1e-5 if h > 1 else 3e-6), (f1, h, got, want)
        droop.gains(tables.DROOP, step, g, d, 31)
        gq = struct.unpack("<31H", g)
        dq = struct.unpack("<31H", d)
        g1 = 1 + droop.gain(tables.DROOP, step) / 2 ** 24
        for h in range(1, 32):
            gh = 1 + droop.gain(tables.DROOP, h * step) / 2 ** 24
            assert abs(gq[h - 1] / 32768 - gh) <= 0.6 / 32768
            assert abs(dq[h - 1] / 32768 - (gh * gh - g1 * g1)) <= 1.5 / 32768
    assert max(struct.unpack("<31H", g)) < 1.544 * 32768 and max(struct.unpack("<31H", d)) < 1.4 * 32768


def _harmonic_scenario(f):
    # the hard orders: HR 31 at 60 Hz, HR 25 at 50 Hz, with THD, on every phase
    vh = {"5": [0.05, 0.0], "25": [0.03, 30.0], "31": [0.04, -20.0]}
    ih = {"3": [0.2, 10.0], "13": [0.08, 0.0], "25": [0.1, 45.0], "31": [0.12, 90.0]}
    return {"frequency": f, "phases": {p: {"voltage": 220.0, "current": 5.0, "angle": 20.0,
                                           "voltage_harmonics": vh, "current_harmonics": ih} for p in "abc"}}


def _meter(s, seconds=2.0):
    """Sampler + Harmonics + Metering on the generator's samples (CPython); the last update's values."""
    g = gen.Generator(scn.parse(s))
    x = g.block_array(int(seconds * 8000))
    flat = array("i", x.reshape(-1).tolist())
    sam = Sampler()
    vals = array("f", [0.0] * regmap.N_MEAS)
    h = Harmonics(vals, sam)
    m = Metering(vals, sam, h.kap)
    out = None
    for a in range(0, len(x), 400):
        blk = flat[8 * a:8 * (a + 400)]
        d = sam.feed(blk, 400)
        if m.update():
            out = {n: vals[regmap.slot(n)] for n in ("Ua", "Ia", "I_N", "Pa", "THD_Ua", "THD_Ia")}
        h.feed(blk, 400, d)
    assert h.updates >= 2
    return out, list(h.hr)


def _errors(s):
    sc = scn.parse(s)
    t = truth.truth(sc)
    got, hr = _meter(s)
    e = {}
    for c, ch in ((0, "Ua"), (3, "Ia")):
        spec = truth.spectrum(sc, ch)
        x1 = abs(spec[1])
        for order in (25, 31):
            want = 100 * abs(spec.get(order, 0j)) / x1
            e["HR%d_%s" % (order, ch)] = abs(hr[30 * c + order - 2] - want)
        e["THD_" + ch] = abs(got["THD_" + ch] - t["THD_" + ch])
    for n in ("Ua", "Ia", "I_N"):
        e[n] = abs(got[n] / t[n] - 1)
    e["Pa"] = abs(got["Pa"] / t["Pa"] - 1)
    return e


@pytest.mark.parametrize("f", [50.0, 60.0])
def test_high_orders_read_within_limits_and_fail_without_compensation(f, monkeypatch):
    s = _harmonic_scenario(f)
    e = _errors(s)
    for k, v in e.items():  # HR, THD: 0.1 percentage points (make accuracy-pq); U, I, In: 0.02 %, P 0.05 %
        assert v < (0.1 if k[0] in "HT" else 5e-4 if k[0] == "P" else 2e-4), (f, k, v, e)

    # the same samples without the per-order gains: the droop of HR 25/31 (5-25 %) is out of every limit
    def flat(tab, step, g, d, n):
        for k in range(n):
            g[2 * k:2 * k + 2] = (32768).to_bytes(2, "little")
            d[2 * k:2 * k + 2] = bytes(2)
    monkeypatch.setattr(droop, "gains", flat)
    e0 = _errors(s)
    assert e0["HR31_Ia"] > 1.0 and e0["HR25_Ia"] > 0.5 and e0["THD_Ia"] > 0.3, e0
    assert e0["Ia"] > 5 * 2e-4 and e0["I_N"] > 5 * 2e-4, e0  # the harmonic part of the rms keeps its droop
    assert e0["Pa"] > 2 * 5e-4, e0  # and so do the harmonic powers


def test_a_corner_tolerance_is_left_to_the_calibration(tmp_path):
    """RC corners off their nominal 10 kHz (U 11 kHz, I 8.5 kHz: 0.077 deg between U and I at 50 Hz) put P at PF 0.5
    0.2 % off, which the firmware cannot know; the calibration's lag takes it out at 50 Hz, and at 60 Hz the rest
    (the RC's phase grows with f, a lag is a phase) stays within a quarter of the class."""
    from feeding import feed
    from firmware.meter import Meter
    from test_calibration import _w16, _wf, _worst

    def board(angle, f):
        return {"frequency": f, "rc_corner_hz": {"U": 11000, "I": 8500},
                "phases": {p: {"voltage": 220.0, "current": 5.0, "angle": angle} for p in "abc"}}

    m = Meter(state_dir=str(tmp_path))
    g = gen.Generator(scn.parse(board(60.0, 50.0)))
    feed(m, g, 1.0)
    before = _worst(m, truth.truth(board(60.0, 50.0)))
    assert before["P"] > 1.5e-3, before
    g.set_scenario(scn.parse(board(30.0, 50.0)))
    assert _wf(m, 0x0A00, [220.0, 5.0, 30.0]) == 0
    assert _w16(m, 0x0034, [6666, 1]) == 0
    feed(m, g, 2.6)
    for angle, f in ((60.0, 50.0), (60.0, 60.0), (-36.87, 60.0)):
        g.set_scenario(scn.parse(board(angle, f)))
        feed(m, g, 0.8)
        w = _worst(m, truth.truth(board(angle, f)))
        assert w["P"] < 1.25e-3 and w["PF"] < 1.25e-3 and w["U"] < 5e-4 and w["I"] < 5e-4, (angle, f, w)
