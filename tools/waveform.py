# SPDX-License-Identifier: MIT
# The terminal waveforms a scenario defines, as functions of time (no ADC, no board): for the truth's integrals
# over a window or a whole timeline (tools/truth.py, tools/truth_window.py), independent of the generator's code.
# Time t is in seconds after the scenario starts; the fundamental's phase is cycles(t) = f t + drift t^2 / 2.
import cmath
import math

import numpy as np

from tools import scenario as scn

_GL_X, _GL_W = np.polynomial.legendre.leggauss(16)  # exact to 1e-15 for up to ~2.5 cycles per piece
SQ2 = math.sqrt(2.0)


def _cycles(f, drift, t):
    return f * t + 0.5 * drift * t * t


def _time_of(f, drift, c):
    """Inverse of cycles: the time at which the fundamental has run c cycles (c >= 0)."""
    if not drift:
        return c / f
    return (-f + np.sqrt(f * f + 2.0 * drift * c)) / drift


def _harmonics(ph, kind):
    """[(order, complex RMS)] of a phase's voltage or current (fundamental and harmonics), in the sine reference."""
    if kind == "U":
        x1, theta, harm = ph["voltage"], ph["voltage_angle"], ph["voltage_harmonics"]
    else:
        x1, theta, harm = ph["current"], ph["voltage_angle"] - ph["angle"], ph["current_harmonics"]
    out = [(1, cmath.rect(x1, math.radians(theta)))]
    out += [(h, cmath.rect(r * x1, math.radians(h * theta + phi))) for h, (r, phi) in harm.items()]
    return out


def interharmonics(ph, kind):
    """[(hz, complex RMS)]: ratio x |fundamental|, phase at t = 0 (absolute: not tied to the fundamental)."""
    x1 = ph["voltage" if kind == "U" else "current"]
    key = "voltage_interharmonics" if kind == "U" else "current_interharmonics"
    return [(hz, cmath.rect(r * x1, math.radians(phi))) for hz, (r, phi) in ph[key].items()]


def notch_train(ph):
    """[(start in cycles of the phase's own fundamental after ITS positive-going zero crossing, width s, signed
    height V)] of a phase's voltage: towards zero for a positive depth, so negative for a notch starting in the
    positive half-cycle (a negative depth pushes away from zero)."""
    pk = SQ2 * ph["voltage"]
    return [((at - ph["voltage_angle"]) / 360.0, w * 1e-3, (-depth if at < 180.0 else depth) * pk)
            for at, w, depth in ph["voltage_notches"]]


class Waveform:
    """Terminal values of a scenario (phase-to-neutral voltages, phase currents, the neutral sum) at any times,
    following its timeline (each step from its time on). Also the breakpoints where the waveform is not smooth
    (steps, notch edges) and Gauss-Legendre nodes between them, for exact numerical integrals."""

    def __init__(self, s, steady=False):
        """steady: the scenario as written, periodic: no timeline, no drift (the steady truth's one cycle)."""
        s = scn.parse(s)
        self.s = s
        self.f, self.drift = s.frequency, 0.0 if steady else s.frequency_drift
        timeline = [] if steady else s.timeline
        times = [0.0] + [at for at, _ in timeline] + [math.inf]
        scens = [s] + [step for _, step in timeline]
        self.segments = [(times[k], times[k + 1], scens[k]) for k in range(len(scens))]
        self._starts = np.array(times[:-1])

    def cycles(self, t):
        return _cycles(self.f, self.drift, np.asarray(t, dtype=float))

    def _segment_values(self, seg, name, t, with_ih=True, with_dc=True):
        kind, p = name[0], name[1]
        if name == "In":
            return sum(self._segment_values(seg, "I" + q, t, with_ih, with_dc) for q in scn.PHASES)
        ph = seg.phases[p]
        e1 = np.exp(2j * math.pi * (self.cycles(t) % 1.0))
        x = np.zeros(len(t))
        for h, c in _harmonics(ph, kind):
            if c:
                x += SQ2 * (c * e1 ** h).imag
        if with_ih:
            for hz, c in interharmonics(ph, kind):
                x += SQ2 * (c * np.exp(2j * math.pi * ((hz * t) % 1.0))).imag
        if with_dc:
            x += ph["voltage_dc" if kind == "U" else "current_dc"]
        if kind == "U":
            for c0, w, height in notch_train(ph):
                m = np.floor(self.cycles(t) - c0)
                start = _time_of(self.f, self.drift, m + c0)
                x += np.where((t >= start) & (t < start + w), height, 0.0)
        return x

    def values(self, name, t, with_ih=True, with_dc=True):
        """Channel `name` (Ua Ub Uc Ia Ib Ic In, terminal, secondary units) at the times t (array, seconds).
        with_ih / with_dc: include the interharmonics / the DC components (the truth integrates the periodic
        part alone where it adds those analytically)."""
        t = np.asarray(t, dtype=float)
        out = np.zeros(len(t))
        if not len(t):
            return out
        first = max(0, int(np.searchsorted(self._starts, t.min(), side="right")) - 1)
        last = int(np.searchsorted(self._starts, t.max(), side="right"))
        for a, b, seg in self.segments[first:last]:
            sel = (t >= a) & (t < b)
            if sel.any():
                out[sel] = self._segment_values(seg, name, t[sel], with_ih, with_dc)
        return out

    def _overlapping(self, t0, t1):
        first = max(0, int(np.searchsorted(self._starts, t0, side="right")) - 1)
        last = int(np.searchsorted(self._starts, t1, side="left"))
        return [x for x in self.segments[first:max(last, first + 1)] if x[1] > t0 and x[0] < t1]

    def breakpoints(self, t0, t1):
        """Sorted times in (t0, t1) where some channel is not smooth: timeline steps and notch edges."""
        out = set()
        for a, b, seg in self._overlapping(t0, t1):
            lo, hi = max(a, t0), min(b, t1)
            if lo >= hi:
                continue
            if a > t0:
                out.add(a)
            for p in scn.PHASES:
                for c0, w, _ in notch_train(seg.phases[p]):
                    m0 = math.floor(float(self.cycles(lo)) - c0) - 1
                    m1 = math.ceil(float(self.cycles(hi)) - c0) + 1
                    for m in range(m0, m1 + 1):
                        if m + c0 < 0:
                            continue
                        ts = float(_time_of(self.f, self.drift, m + c0))
                        for e in (ts, ts + w):
                            if lo < e < hi:
                                out.add(e)
        return sorted(x for x in out if t0 < x < t1)

    def top_hz(self, t0, t1):
        """Highest frequency present in [t0, t1] (harmonic orders at the highest instantaneous frequency,
        interharmonics), for the integration step."""
        f = max(self.f + self.drift * t0, self.f + self.drift * t1)
        top = f
        for a, b, seg in self._overlapping(t0, t1):
            for ph in seg.phases.values():
                for key in ("voltage_harmonics", "current_harmonics"):
                    if ph[key]:
                        top = max(top, max(ph[key]) * f)
                for key in ("voltage_interharmonics", "current_interharmonics"):
                    if ph[key]:
                        top = max(top, *ph[key])
        return top

    def nodes(self, t0, t1, step=None):
        """Gauss-Legendre nodes and weights on [t0, t1]: pieces split at the breakpoints and no longer than `step`
        (default: half a period of twice the highest frequency, so products of two channels integrate to
        ~1e-15). sum(w * g(t)) is the integral of g over [t0, t1]."""
        if step is None:
            step = 1.0 / (4.0 * self.top_hz(t0, t1))
        edges = [t0] + self.breakpoints(t0, t1) + [t1]
        ts, ws = [], []
        for a, b in zip(edges, edges[1:]):
            n = max(1, int(math.ceil((b - a) / step)))
            cuts = np.linspace(a, b, n + 1)
            mid, half = 0.5 * (cuts[1:] + cuts[:-1]), 0.5 * (cuts[1:] - cuts[:-1])
            ts.append((mid[:, None] + half[:, None] * _GL_X[None, :]).ravel())
            ws.append((half[:, None] * _GL_W[None, :]).ravel())
        return np.concatenate(ts), np.concatenate(ws)
