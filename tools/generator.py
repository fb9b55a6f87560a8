# SPDX-License-Identifier: MIT
# Host-side signal source: plays the analog front end and the 24-bit simultaneous-sampling ADC (ADS131M08-like).
# Scenario -> int32 codes, interleaved Ua Ub Uc Ia Ib Ic In T, with the board's imperfections and quantization,
# and (scenario "adc_filter", default on) the ADC's sinc3 decimator and the first-order anti-alias RC of each
# input (corners "rc_corner_hz"), applied exactly per order in the frequency domain (docs/metering.md).
import cmath
import math
import sys

import numpy as np

from tools import gen_extra
from tools import scenario as scn
from tools import truth as _truth
from tools.gen_tables import rc as _rc
from tools.gen_tables import sinc3 as _sinc3
from firmware import frontend, pt100

N_CH = frontend.CHANNELS
CODE_MAX = frontend.CODE_FULL - 1  # codes saturate at +-(2**23 - 1)
_CODES_PER_UNIT = {"U": frontend.CODE_FULL / frontend.U_FULL_SCALE, "I": frontend.CODE_FULL / frontend.I_FULL_SCALE}
_COLS = 100  # samples per matrix product (keeps OpenBLAS single-threaded: 20x faster beside other processes)
_INDEX = {name: k for k, name in enumerate(scn.CHANNELS)}  # Ua..In are channels 0..6, T is 7
SINC3_DELAY = 3 * (frontend.OSR - 1) / (2.0 * frontend.F_MOD)  # s: the sinc3's linear phase, a pure delay


def _sinc3_mag(f):
    """sinc3 magnitude without the delay, vectorised: (sin(pi f OSR / fMOD) / (OSR sin(pi f / fMOD)))**3."""
    x = np.pi * np.asarray(f, dtype=float) / frontend.F_MOD
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sin(frontend.OSR * x) / (frontend.OSR * np.sin(x))
    return np.where(x == 0, 1.0, r) ** 3


class _Group:
    """Channels sharing one time delay: samples = Im(coef @ E), E[h-1, k] = exp(j*2*pi*cycles_k)**h."""

    def __init__(self, delay, channels, coef, corner=None):
        self.delay = delay  # samples (float)
        self.channels = channels  # indices into the 8 output columns
        self.coef = coef  # (len(channels), highest order) complex peak amplitudes in codes, column h-1 = order h
        self.corner = corner  # drifting frequency: the RC corner whose response (and sinc3's magnitude) E carries


class Generator:
    """Stream of ADC blocks for a scenario. Time runs on: `samples` counts every sample produced so far."""

    def __init__(self, scenario, sample_rate=frontend.SAMPLE_RATE, seed=0):
        if not sample_rate > 0:
            raise ValueError("sample_rate: must be > 0, got %r" % (sample_rate,))
        self.sample_rate = sample_rate
        self.samples = 0
        self.rng = np.random.default_rng(seed)
        self._start = 0  # sample index at which the current scenario (or timeline step) began
        self._origin = 0  # sample index at which set_scenario() set it: interharmonics' time origin
        self._cycles0 = 0.0  # fundamental phase (cycles, in [0, 1)) at _start: keeps switches continuous
        self.scenario = None
        self.set_scenario(scenario)

    @property
    def time(self):
        return self.samples / self.sample_rate

    @property
    def frequency(self):
        """Instantaneous line frequency now."""
        return self.scenario.frequency + self.scenario.frequency_drift * (self.samples - self._start) / self.sample_rate

    def set_scenario(self, scenario):
        """Switch grid/load/board at the current sample; time and the fundamental's phase run on without a jump.
        The scenario's timeline steps follow at their times (seconds after now), each a switch like this one."""
        s = scn.parse(scenario)
        for _, step in [(0.0, s)] + s.timeline:  # refused before anything changes
            self._check(step)
        self._switch(s)
        self._origin = self.samples
        self._steps = [(self.samples + int(round(at * self.sample_rate)), step) for at, step in s.timeline]

    def _check(self, s):
        top = max([1] + [h for p in s.phases.values() for k in ("voltage_harmonics", "current_harmonics")
                         for h in p[k]])
        if top * s.frequency >= self.sample_rate / 2:
            raise ValueError("frequency: order %d at %g Hz is above Nyquist (%g samples/s)"
                             % (top, s.frequency, self.sample_rate))
        for p in scn.PHASES:
            for key in ("voltage_interharmonics", "current_interharmonics"):
                for hz in s.phases[p][key]:
                    if hz >= self.sample_rate / 2:
                        raise ValueError("phases.%s.%s.%g: above Nyquist (%g samples/s)"
                                         % (p, key, hz, self.sample_rate))

    def _switch(self, s):
        if self.scenario is not None:
            self._cycles0 = float(self._cycles(np.array([float(self.samples - self._start)]))[0] % 1.0)
            self._start = self.samples
        self.scenario = s
        self._prepare(s)

    def _cycles(self, n):
        """Fundamental phase in cycles at n samples (float array) after the scenario start."""
        s, fs = self.scenario, self.sample_rate
        c = self._cycles0 + s.frequency * n / fs
        if s.frequency_drift:
            t = n / fs
            c = c + 0.5 * s.frequency_drift * t * t
        return c

    def _time_of(self, c):
        """Seconds after the current segment's start at which the fundamental's phase is c cycles (inverse of
        _cycles; any c, extrapolated before the start)."""
        s = self.scenario
        c = c - self._cycles0
        if not s.frequency_drift:
            return c / s.frequency
        f, d = s.frequency, s.frequency_drift
        disc = f * f + 2.0 * d * c
        return (-f + math.sqrt(disc)) / d if disc >= 0 else -f / d

    def _prepare(self, s):
        imp = s.imperfections
        groups = {}  # delay in samples -> {channel index: {order: complex peak codes}}
        for name in scn.CHANNELS:
            ch = imp[name]
            scale = math.sqrt(2.0) * _CODES_PER_UNIT[name[0]] * (1.0 + ch["gain"])
            # what the terminals put on the channel for this wiring (three-wire: B is the common terminal)
            spec = {h: x * scale for h, x in _truth.channel_spectrum(s, name).items() if x != 0}
            # skew = a time delay equal to `phase` degrees of the fundamental (h * phase at order h). At a
            # constant frequency that delay is exactly a phase factor per order: fold it into the amplitudes
            # and compute one group; with a drifting frequency keep it a true delay (one group per delay).
            delay = ch["phase"] / 360.0 / s.frequency * self.sample_rate
            corner = s.rc_corner[name[0]] if s.adc_filter else None
            if not s.frequency_drift:
                spec = {h: x * cmath.exp(-1j * math.radians(h * ch["phase"])) for h, x in spec.items()}
                if s.adc_filter:  # the ADC's sinc3 and the RC: one complex factor per order, exact
                    spec = {h: x * _sinc3(h * s.frequency) * _rc(h * s.frequency, corner) for h, x in spec.items()}
                delay = 0.0
                corner = None
            elif s.adc_filter:  # drifting: sinc3's linear phase is a true delay; its magnitude and the RC follow
                delay += SINC3_DELAY * self.sample_rate  # the instantaneous frequency (analog())
            groups.setdefault((delay, corner or 0.0), {})[_INDEX[name]] = spec
        self._groups = []
        for (delay, corner), chans in sorted(groups.items()):
            top = max([1] + [h for spec in chans.values() for h in spec])
            idx = sorted(chans)
            coef = np.zeros((len(idx), top), dtype=np.complex128)
            for j, c in enumerate(idx):
                for h, x in chans[c].items():
                    coef[j, h - 1] = x
            self._groups.append(_Group(delay, idx, coef, corner or None))
        self._offset = np.zeros(N_CH)
        noise = []
        ih, dc, notches, delays, corners = {}, {}, {}, {}, {}
        for name in scn.CHANNELS:  # interharmonics, DC, notches (tools/gen_extra.py): through the same board
            k = _INDEX[name]
            g = _CODES_PER_UNIT[name[0]] * (1.0 + imp[name]["gain"])
            d = imp[name]["phase"] / 360.0 / s.frequency  # the skew: a time delay, seconds
            corner = s.rc_corner[name[0]] if s.adc_filter else None
            comps = [(hz, math.sqrt(2.0) * g * x * cmath.exp(-2j * math.pi * hz * d)
                      * gen_extra.Extra.filter_at(hz, corner))
                     for hz, x in _truth.channel_interharmonics(s, name).items() if x != 0]
            if comps:
                ih[k] = comps
            if _truth.channel_dc(s, name):
                dc[k] = _truth.channel_dc(s, name) * g  # the filter passes DC unchanged
            train = [(c0, w, h * g) for c0, w, h in _truth.channel_notches(s, name) if h]
            if train:
                notches[k], delays[k], corners[k] = train, d, corner
        self._extra = gen_extra.Extra(ih, dc, notches, delays, corners, self.sample_rate) \
            if ih or dc or notches else None
        for name in scn.CHANNELS:
            k = _INDEX[name]
            self._offset[k] = imp[name]["offset"] * _CODES_PER_UNIT[name[0]]
            if imp[name]["noise"] > 0:
                noise.append((k, imp[name]["noise"] * _CODES_PER_UNIT[name[0]]))
        self._offset[frontend.CH_T] = pt100.code(s.temperature)  # PT100 front end (firmware/pt100.py)
        self._noise_idx = np.array([k for k, _ in noise], dtype=np.intp)
        self._noise_rms = np.array([r for _, r in noise])

    def analog(self, n):
        """Next n samples as float64 codes before quantization and saturation, shape (n, 8); advances time.
        A timeline step due inside the block switches the scenario at its sample."""
        n = int(n)
        if n < 0:
            raise ValueError("n: must be >= 0, got %d" % n)
        if self._steps and self._steps[0][0] < self.samples + n:
            k = max(0, self._steps[0][0] - self.samples)
            head = self._analog(k)
            self._switch(self._steps.pop(0)[1])
            return np.concatenate([head, self.analog(n - k)])
        return self._analog(n)

    def _analog(self, n):
        k = np.arange(self.samples - self._start, self.samples - self._start + n, dtype=np.int64)
        out = np.empty((n, N_CH))
        out[:] = self._offset
        for g in self._groups:
            cyc = self._cycles(k.astype(np.float64) - g.delay) % 1.0  # integer index first: no drift in long runs
            top = g.coef.shape[1]
            e = np.empty((top, n), dtype=np.complex128)
            e[0] = np.exp((2j * math.pi) * cyc)
            for h in range(1, top):  # powers by products: far cheaper than exp per order; error ~ h * 1e-16
                np.multiply(e[h - 1], e[0], out=e[h])
            if g.corner:  # drifting frequency: the filter's response at each sample's instantaneous frequency
                t = (k.astype(np.float64) - g.delay) / self.sample_rate
                f1 = self.scenario.frequency + self.scenario.frequency_drift * t
                for h in range(1, top + 1):
                    e[h - 1] *= _sinc3_mag(h * f1) / (1.0 + 1j * h * f1 / g.corner)
            for a in range(0, n, _COLS):  # small products: big ones wake BLAS threads, slow on a busy host
                out[a:a + _COLS, g.channels] += (g.coef @ e[:, a:a + _COLS]).imag.T
        if self._extra is not None:
            fs = self.sample_rate
            t0 = (self.samples - self._start) / fs
            self._extra.add(out, (np.arange(n) + (self.samples - self._origin)) / fs,
                            lambda t: float(self._cycles(np.array([t * fs]))[0]), self._time_of, t0)
        if len(self._noise_idx):
            out[:, self._noise_idx] += self.rng.standard_normal((n, len(self._noise_idx))) * self._noise_rms
        self.samples += n
        return out

    def block_array(self, n):
        """Next n samples as int32 codes, shape (n, 8): rounded to nearest, saturated at +-(2**23 - 1)."""
        x = np.rint(self.analog(n))
        np.clip(x, -CODE_MAX, CODE_MAX, out=x)
        return x.astype(np.int32)

    def block(self, n):
        """Next n samples as bytes: int32 little-endian, interleaved 8 channels x n (what the sim streams)."""
        return self.block_array(n).astype("<i4").tobytes()


def main(argv=None):
    """python -m tools.generator SCENARIO SECONDS > file: raw int32 LE interleaved samples on stdout."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print("usage: python -m tools.generator SCENARIO SECONDS > samples.bin", file=sys.stderr)
        return 2
    gen = Generator(scn.load(argv[0]))
    left = int(round(float(argv[1]) * gen.sample_rate))
    while left > 0:
        n = min(left, gen.sample_rate)  # a second at a time
        sys.stdout.buffer.write(gen.block(n))
        left -= n
    return 0


if __name__ == "__main__":
    sys.exit(main())
