# SPDX-License-Identifier: MIT
# The generator's parts that are not harmonics of the fundamental: interharmonics (any frequency, through the
# ADC's filter per component), DC, and rectangular voltage notches, which pass the RC and the sinc3 in the time
# domain (their step response, exact: the same filter tools/gen_tables.py gives per frequency). docs/scenarios.md.
import math

import numpy as np

from tools.gen_tables import rc as _rc
from tools.gen_tables import sinc3 as _sinc3
from firmware import frontend

TAPS = 3 * (frontend.OSR - 1) + 1  # the sinc3's impulse response at the modulator rate: three boxcars of OSR
RC_TAIL = 30.0  # RC time constants after the last tap: exp(-30) ~ 1e-13 of a step is left


def _sinc3_taps(osr=frontend.OSR):
    box = np.ones(osr) / osr
    return np.convolve(np.convolve(box, box), box)  # length 3 (osr - 1) + 1, sum 1


class StepResponse:
    """Step response G(tau) (tau seconds after the step at the input) of the first-order RC (corner fc) followed
    by the modulator sampling at F_MOD and the sinc3 decimator whose output is aligned with its newest modulator
    sample (delay 3 (OSR - 1) / 2 modulator periods, as gen_tables.sinc3's linear phase). corner None: no filter,
    G = 1 from tau = 0 on. Exact: G(tau) = sum_{j < u} h3[j] (1 - exp(-(u - j) / a)), u = tau F_MOD, a = F_MOD
    tau_rc, from prefix sums (the exponentials as a stable recursion)."""

    def __init__(self, corner):
        self.corner = corner
        if corner is None:
            self.support = 0.0
            return
        h3 = _sinc3_taps()
        self.a = frontend.F_MOD / (2.0 * math.pi * corner)
        self.p1 = np.concatenate([[0.0], np.cumsum(h3)])  # p1[k] = sum_{j<k} h3[j]
        r = np.zeros(TAPS + 1)
        q = math.exp(-1.0 / self.a)
        for k in range(TAPS):  # r[k+1] = sum_{j<=k} h3[j] exp(-(k - j) / a)
            r[k + 1] = h3[k] + q * r[k]
        self.r = r
        self.support = (TAPS + RC_TAIL * self.a) / frontend.F_MOD  # s: beyond it G = 1 within ~1e-13

    def __call__(self, tau):
        tau = np.asarray(tau, dtype=float)
        if self.corner is None:
            return (tau >= 0).astype(float)
        u = tau * frontend.F_MOD
        k = np.clip(np.ceil(u), 0, TAPS).astype(np.intp)  # taps j < u
        g = self.p1[k] - np.exp(-(u - (k - 1)) / self.a) * self.r[k]
        return np.where(k > 0, g, 0.0)


class Extra:
    """Per channel (indices 0..6, as wired): interharmonics [(hz, complex peak codes with gain, skew and filter)],
    DC in codes (with gain), notches [(start cycles in [0, 1), width s, height codes)] with the channel's delay
    (skew, seconds) and the step response of its kind's RC."""

    def __init__(self, ih, dc, notches, delays, corners, sample_rate):
        self.fs = sample_rate
        self.ih = ih
        self.dc = dc
        self.notches = notches
        self.delays = delays
        self.steps = {c: StepResponse(corners[c]) for c in notches}

    @staticmethod
    def filter_at(hz, corner):
        """The ADC's complex response at hz for a channel whose RC has this corner (None: no filter)."""
        return 1.0 if corner is None else _sinc3(hz) * _rc(hz, corner)

    def add(self, out, t_origin, cycles_at, time_of_cycles, t_start):
        """Add to out (n, 8) the block's interharmonics, DC and notches. t_origin: the samples' times (s) since the
        scenario was set (interharmonic phases run from there), cycles_at(t): the fundamental's phase in cycles
        at t seconds after the current segment started (t_start: the first sample's time since then),
        time_of_cycles(c): its inverse."""
        n = out.shape[0]
        for c, comps in self.ih.items():
            for hz, x in comps:
                out[:, c] += (x * np.exp(2j * math.pi * ((hz * t_origin) % 1.0))).imag
        for c, v in self.dc.items():
            out[:, c] += v
        t = t_start + np.arange(n) / self.fs
        for c, train in self.notches.items():
            g = self.steps[c]
            ta = t - self.delays[c]  # the analog time the channel's samples see
            lead = max(w for _, w, _ in train) + g.support
            c_lo, c_hi = cycles_at(ta[0] - lead), cycles_at(ta[-1])
            for c0, w, height in train:
                m = np.arange(math.floor(c_lo - c0), math.ceil(c_hi - c0) + 1)
                starts = np.array([time_of_cycles(x) for x in m + c0])
                for s0 in starts:
                    a = np.searchsorted(ta, s0)
                    b = np.searchsorted(ta, s0 + w + g.support, side="right")
                    if b > a:
                        tau = ta[a:b] - s0
                        out[a:b, c] += height * (g(tau) - g(tau - w))
