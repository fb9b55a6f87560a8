# SPDX-License-Identifier: MIT
# Power quality from a synchronised window (IEC 61000-4-7 style): the capture of a window and the scheduling of its
# analysis. The results (HR 2..31 and THD per channel, unbalance, the rms factors metering takes) are computed and
# published by firmware/harmonics_results.py.
#
# Why this shape: a window of C whole cycles (10 or 12, ~200 ms) analysed at exactly h cycles per cycle has no
# leakage between orders. Its samples are spread onto 256 points per cycle as blocks arrive (a 6 KB grid instead
# of a 21.6 KB raw window), with the phase step predicted from the sampler's last two windows; the sampler's own
# measurement of the same window then confirms it (or the update is dropped). After the window: 3 FFTs of 256
# points, the ratios in integers with the front end's droop divided out per order (droop.py), THD and unbalance in
# soft float, the rms factors and P excess metering needs for the same droop (kap), one step per _COST samples fed,
# one window in `every` (default 4: ~1.25 updates per second). All of it allocation-free; the same bits on 32- and
# 64-bit words.
# Kernels: harmonics_grid.py (capture; a board may pass a native spreading loop, boards/pico/grid_thumb.py),
# harmonics_fft.py (spectrum), harmonics_ratio.py; docs/quality.md.
from micropython import const

from firmware.kernel import D_CYC, D_FE, D_N, S_NS, S_STEP, S_TARGET
from firmware.harmonics_fft import DECONV, TWIDDLE, fft, scale, unpack
from firmware import harmonics_grid
from firmware.harmonics_grid import GRID, WORDS, finish, keep, span, start
from firmware.harmonics_results import Results

# the analysis' steps (_do): 0 scale, 1..6 3 FFTs in 2 halves each, 7 the unpacks, 8..13 the 6 channels' rms
# factors and P excess, 14 the neutral's rms factor, 15..20 the 6 channel finishes, 21 the unbalance
_FRONT = const(8)
_NEUTRAL = const(14)
_CHANNEL = const(15)
_LAST = const(21)
_STEPS = const(22)
_COST = const(64)  # samples fed per analysis step: 22 steps take 1408 samples, less than the shortest window
#                    (10 cycles at 55 Hz: 1454)
_LOST = const(3)  # unsynchronised windows in a row before the values are cleared
_TOL = const(14)  # the sampler's step for the captured window must match the predicted one within 2**-14:
#                  a mismatch eps leaks about h * eps / (pi |h - j|) of order j into order h
_JUMP = const(6)  # steps of two windows further apart than 2**-6 (a jump, not a drift): no extrapolation

# idle / capturing a window / analysing the captured one
_WAIT = const(0)
_CAPT = const(1)
_ANA = const(2)


class Harmonics:
    """Feed it every block after the sampler: feed(block, n, closed) with closed = sampler.feed's result.
    Results (firmware/harmonics_results.py): vals THD_* and UNB_* slots (percent), hr (array('f'),
    HR_Ua_2..HR_Ic_31 in percent), and, when an image is given, the HARMONICS block written there (float32
    big-endian) at each update; kap (array('f'), the rms factors for metering), seq (the voltages' phase
    sequence at the last analysis: 0 unknown, 1 a-b-c, 2 a-c-b)."""

    def __init__(self, vals, sampler, image=None, every=4, spread=None):
        """every: analyse one window in `every` (>= 2: the next window is sampled while one is analysed);
        4 makes ~1.25 updates per second (at least one per second down to 45 Hz) for half the CPU of 2.
        spread: the module of the capture's spreading loop (`spread(g, blk)`): firmware.harmonics_grid (viper,
        any port) by default, or a board's native twin (boards/pico/grid_thumb.py), bit-identical."""
        self._spread = (harmonics_grid if spread is None else spread).spread
        self.every = max(2, every)
        self.skip = 0
        self.sampler = sampler
        # the big buffers first, as bytearrays: zeroed in place, no temporary of their size
        self.grid = bytearray(4 * WORDS)  # the grid and the capture's state
        self.results = Results(vals, image)  # the spectrum sums, the values and their workspace
        self.hr = self.results.hr
        self.kap = self.results.kap  # firmware/metering.py takes this array in its constructor
        self.state = _WAIT
        self.k = 0  # next analysis step
        self.pos = 0  # first sample of the next block to spread (past the start edge)
        self.credit = 0
        self.n = 0  # samples in the captured window (for the amplitude thresholds)
        self.used = 0  # phase step the capture used
        self.prev = 0  # the sampler's step at the last close (0: that window was not synchronised)
        self.check = 0  # 1: the next close must confirm the capture's step; 2: confirmed
        self.lost = 0
        self.updates = 0  # analyses completed
        self.dropped = 0  # captures dropped: the window the sampler measured did not match the prediction
        self.wiring = 0  # the sampler's wiring when the window was captured (0 3Ln3CT, 1 2LL3CT, 2 2LL2CT)
        self.seq = 0  # phase sequence of the voltages at the last analysis: 0 unknown, 1 a-b-c, 2 a-c-b

    def reset(self):
        """Start afresh (a new signal): no capture running, values and rms factors cleared."""
        self.state = _WAIT
        self.k = 0
        self.pos = 0
        self.credit = 0
        self.prev = 0
        self.check = 0
        self.skip = 0
        self.lost = 0
        self._clear()

    # --- per block (hot path, allocation-free) ---------------------------------------------------------------
    def feed(self, blk, n, closed):
        if closed:
            self._closed(blk, n, closed)
        st = self.state
        if st == _CAPT:
            g = self.grid
            span(g, self.pos, n)
            j = self._spread(g, blk)
            self.pos = 0
            if j < n:  # the window ended before sample j (or at this block's start: sample j - 1 was kept)
                finish(g, blk, j)
                st = _ANA
                self.k = 0
                self.credit = -j  # the analysis paces on the samples fed after the window
        if st == _ANA and self.check == 2:
            self.credit += n
            while self.credit >= _COST and self.k < _STEPS:
                self.credit -= _COST
                self._do(self.k)
                self.k += 1
            if self.k >= _STEPS:
                st = _WAIT
        self.state = st
        if st == _CAPT or (st == _WAIT and self.skip <= 1):
            keep(self.grid, blk, n)  # an edge in the next block (the end, or a start) may need its last sample

    def drop(self):
        """The sample stream had a gap (Meter.gap): a capture in progress or under check is dropped."""
        if self.state == _CAPT or self.check == 1:
            self._drop_capture()
        self.prev = 0

    def _drop_capture(self):
        self.check = 0
        self.dropped += 1
        self.state = _WAIT
        self.skip = 0  # capture again from the next close on

    def _closed(self, blk, n, closed):
        """A window closed in this block: confirm or drop the running capture, track synchronisation, start a
        capture at the closing sample when it is due."""
        ss = self.sampler.state
        dn = self.sampler.done
        ok = closed == 1 and dn[D_CYC] > 0
        step = ss[S_STEP] if ok else 0
        if dn[D_CYC] > 0:
            self.lost = 0
        else:
            self.lost += 1
            if self.lost >= _LOST:
                self._clear()
        if self.check == 1:  # the sampler measured the window being captured: did the prediction hold?
            u = self.used
            d = step - u
            if ok and -(u >> _TOL) <= d <= (u >> _TOL):
                self.check = 2
            else:
                self._drop_capture()
        if self.skip > 0:
            self.skip -= 1
        pred = step  # the next window's step: linear extrapolation from this window and the one before
        d = step - self.prev
        if self.prev and -(step >> _JUMP) <= d <= (step >> _JUMP):
            pred = step + d
        self.prev = step
        if self.state == _WAIT and ok and self.skip == 0:
            e = n - ss[S_NS]  # the closing sample: the new window opens at the crossing just before it
            self.used = pred
            self.n = dn[D_N]
            self.wiring = self.sampler.syss
            start(self.grid, blk, e, pred, dn[D_FE], ss[S_TARGET])
            self.pos = e + 1
            self.check = 1
            self.skip = self.every
            self.state = _CAPT

    def _do(self, k):
        if k == 0:
            self.results.start(self.n, scale(self.grid, GRID), self.wiring, self.used)
        elif k <= 6:  # each pair's FFT in two halves of 4 stages: each step below ~2 ms on the RP2040
            f = (k - 1) & 1
            fft(self.grid, ((k - 1) >> 1) << 9, TWIDDLE, 4 * f, 4 + 4 * f)
        elif k == 7:
            res = self.results.res
            for p in range(3):
                unpack(self.grid, p, res, DECONV)
        elif k < _NEUTRAL:  # first what metering waits for (its next window may close during the analysis)
            self.results.front(k - _FRONT)
        elif k == _NEUTRAL:
            self.results.neutral()
        elif k < _LAST:
            self.results.channel(k - _CHANNEL)
        else:
            r = self.results
            self.seq = r.unbalance()
            self.updates += 1
            r.publish()

    def _clear(self):
        self.results.clear()
        self.seq = 0
