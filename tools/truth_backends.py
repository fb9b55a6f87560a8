# SPDX-License-Identifier: MIT
# The truth's two ways to the same quantities (tools/truth.py powers): analytic long-run values from phasors
# (Spectral), or numerical integrals of the terminal waveforms over a window (Numeric, tools/waveform.py).
import math

import numpy as np

from tools import scenario as scn
from tools import waveform as wf


class Spectral:
    """The long-run values of a scenario without notches, analytically: harmonics and interharmonics (components of
    different frequencies are orthogonal), DC left out (the meter's rms and P remove it, docs/metering.md).
    A signal is (harmonics {order: phasor}, interharmonics {hz: phasor})."""

    def __init__(self, sigs):
        self.sigs = sigs  # channel -> (spectrum(s, ch), interharmonic_spectrum(s, ch)), truth.py

    def sig(self, name):
        return self.sigs[name]

    def lin(self, terms):
        """sum of coef x signal over [(coef, signal)]."""
        h, ih = {}, {}
        for c, (a, b) in terms:
            for k, x in a.items():
                h[k] = h.get(k, 0j) + c * x
            for k, x in b.items():
                ih[k] = ih.get(k, 0j) + c * x
        return h, ih

    def ms(self, x):
        return sum(abs(v) ** 2 for v in x[0].values()) + sum(abs(v) ** 2 for v in x[1].values())

    def pw(self, u, i):
        return (sum((u[0][h] * i[0][h].conjugate()).real for h in u[0] if h in i[0])
                + sum((u[1][f] * i[1][f].conjugate()).real for f in u[1] if f in i[1]))

    def fund(self, x):
        return x[0].get(1, 0j)


class Numeric:
    """Values over [t0, t1] by numerical integration of the terminal waveforms (tools/waveform.py): means with the
    window's DC removed, P = mean(u i) - mean(u) mean(i), the fundamental phasor by the DFT at the fundamental
    over the window, (sqrt(2) / T) integral of x j exp(-j 2 pi cycles(t)). ih: {channel: {hz: phasor}} to add
    as long-run terms, the waveforms then integrated without their interharmonics (with steady, over one whole
    cycle: the periodic part of a notched scenario). A signal is (values at the nodes, interharmonics)."""

    def __init__(self, s, t0, t1, steady=False, ih=None):
        w = wf.Waveform(s, steady=steady)
        self.t, self.w = w.nodes(t0, t1)
        self.T = t1 - t0
        self.vals = {ch: w.values(ch, self.t, with_ih=ih is None) for ch in scn.CHANNELS}
        self.ih = ih if ih is not None else {ch: {} for ch in scn.CHANNELS}
        self.e1 = 1j * np.exp(-2j * math.pi * (w.cycles(self.t) % 1.0))

    def sig(self, name):
        return self.vals[name], self.ih[name]

    def lin(self, terms):
        ih = {}
        for c, (_, b) in terms:
            for k, x in b.items():
                ih[k] = ih.get(k, 0j) + c * x
        return sum(c * a for c, (a, _) in terms), ih

    def _mean(self, x):
        return float(np.dot(self.w, x)) / self.T

    def ms(self, x):
        return max(0.0, self._mean(x[0] * x[0]) - self._mean(x[0]) ** 2) + sum(abs(v) ** 2 for v in x[1].values())

    def pw(self, u, i):
        return (self._mean(u[0] * i[0]) - self._mean(u[0]) * self._mean(i[0])
                + sum((u[1][f] * i[1][f].conjugate()).real for f in u[1] if f in i[1]))

    def fund(self, x):
        return complex(np.dot(self.w, x[0] * self.e1)) * math.sqrt(2.0) / self.T

    def spectrum(self, name, orders):
        """{order: phasor} of channel `name` over the window (whole cycles of a periodic waveform: exact)."""
        x = self.vals[name] * self.w
        return {h: complex(np.dot(x, self.e1 ** h * (1j) ** (1 - h))) * math.sqrt(2.0) / self.T for h in orders}
