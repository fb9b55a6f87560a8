# SPDX-License-Identifier: MIT
# What an ideal meter reads over one window, and the exact energy of a stretch of a scenario, by numerical
# integration of the terminal waveforms (tools/waveform.py) through the timeline: for signals that are not
# periodic over a window (interharmonics, subharmonics, steps), where truth() gives the long-run values.

import numpy as np

from tools import scenario as scn
from tools import truth as tr
from tools import waveform as wf
from tools.truth_backends import Numeric

WH = 3600.0  # J per Wh


def window(s, t0, t1):
    """Every truth() measurement the metering window defines (U I P Q S PF per phase and total, line voltages,
    I_N, I_N_m, averages, F), primary side, over [t0, t1] seconds after the scenario starts, as an ideal meter with
    the meter's definitions (docs/metering.md) reads it: rms and P with the window's mean removed, Q from the DFT
    at the fundamental over the window, thresholds IST and U_TH. F = whole cycles / window length.
    Exact for any waveform (to ~1e-12); over whole cycles of a periodic scenario it equals truth()."""
    s = scn.parse(s)
    if not t1 > t0 >= 0:
        raise ValueError("window: need 0 <= t0 < t1, got %r, %r" % (t0, t1))
    pt, ct = float(s.pt), float(s.ct)
    be = Numeric(s, t0, t1)
    out = {}
    tr.powers(s, be, pt, ct, out)
    w = wf.Waveform(s)
    out["F"] = float(w.cycles(t1) - w.cycles(t0)) / (t1 - t0)
    tr.neutral_and_averages(s, be, ct, out)
    return out


def whole_cycles(s, t_end, cycles):
    """The start of the window of `cycles` whole cycles of the fundamental that ends at t_end (seconds)."""
    w = wf.Waveform(s)
    c = float(w.cycles(t_end)) - cycles
    if c < 0:
        raise ValueError("whole_cycles: %g cycles do not fit before %g s" % (cycles, t_end))
    return float(wf._time_of(w.f, w.drift, c))


def energy(s, t0, t1):
    """Active energy in Wh (primary) over [t0, t1] seconds, the exact integral of u i through the timeline:
    {"a", "b", "c"} per element (3Ln3CT: phase p, u_p i_p; three-wire: "a" is uab ia, "c" ucb ic, "b" 0) and
    "total". DC components are left out (the meter's P removes the window's DC; a CT passes none); the
    thresholds (IST, U_TH) are not applied: steps below them carry no measurable energy in the scenarios."""
    s = scn.parse(s)
    if not t1 > t0 >= 0:
        raise ValueError("energy: need 0 <= t0 < t1, got %r, %r" % (t0, t1))
    w = wf.Waveform(s)
    k = float(s.pt) * float(s.ct) / WH
    out = {"a": 0.0, "b": 0.0, "c": 0.0}
    span = 1.0  # integrate a second at a time: bounded memory over long timelines
    a = t0
    while a < t1:
        b = min(t1, a + span)
        t, wt = w.nodes(a, b)
        v = {ch: w.values(ch, t, with_dc=False) for ch in scn.CHANNELS[:6]}
        if s.settings["SYSS"] == 0:
            for p in scn.PHASES:
                out[p] += float(np.dot(wt, v["U" + p] * v["I" + p])) * k
        else:  # two elements, B the common voltage terminal (2LL2CT: the same, ib is not needed)
            for p in ("a", "c"):
                out[p] += float(np.dot(wt, (v["U" + p] - v["Ub"]) * v["I" + p])) * k
        a = b
    out["total"] = out["a"] + out["b"] + out["c"]
    return out
