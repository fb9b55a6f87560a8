# SPDX-License-Identifier: MIT
# Window bookkeeping around the sampling kernel: feeds ADC blocks through it (the bulk through a span kernel,
# firmware/kernel_span.py or a board's native twin; each closing sample through firmware/kernel.py), picks the
# zero-crossing reference per wiring, applies the current range and the 2LL2CT derivation. No allocation in feed.
from array import array

import micropython
from micropython import const

from firmware import cyclerms, kernel, kernel_span, refilter, tables
from firmware.bufs import copy8
from firmware.cyclerms import C_AHEAD
from firmware.words import WORD_MASK
from firmware.kernel import (D_CLIP, D_CYC, D_FE, D_FS, D_ISH, D_LOCK, D_N, D_OVR, D_READY, D_REF, D_SEQ,
                             D_SIZE, D_W, NP, P_C, P_NN, P_S, P_UI, P_UU, P_X, P_XX, Q15, S_DERIVE, S_FIXED, S_HYST,
                             S_ISH, S_ISH_NEXT, S_JUST, S_MAXN, S_RA, S_RB, S_SIZE, S_STEP, S_SYNC, S_CYC,
                             S_ARMED, S_TARGET, S_TCODE, S_END)

_TAB_N = const(1024)  # sine table entries: phase error <= pi/1024 rad, and it averages out over a window
_PRESENT_MS = const(107374)  # (10 V rms in reduced codes)**2: a voltage this large can be the reference
_FIXED_N = const(1600)  # 200 ms
_MAX_N = const(2400)  # 300 ms: 10 cycles below 33 Hz do not fit; sync is lost
_STEP_50 = const(26843546)  # 2**32 * 50 / 8000
# Current range per window (auto): shifts 2, 4, 6, 8 (full scale 0.39, 1.56, 6.25, 25 A peak). Levels are mean
# squares / 256 in the window's codes: up a range above rms 13107 codes (crest factor 2.5 left), down one when
# the rms is under 2048 codes (x4 is 8192: crest factor 4 left); the hysteresis between is a factor 1.6.
_UP = const(671088)
_DOWN = const(16384)
_ISH_MIN = const(2)
_CLIP = const(2097152)  # rms 23170 codes: a sine of 32767 peak

# Reference candidates per wiring (first present wins): 3Ln3CT Ua, Ub, Uc; 2LL: the channels carry Uab and Ucb
# (terminal B is the common reference, docs/metering.md), so the candidates are Uab, Ucb and Uac = Uab - Ucb.
REFS = (((0, -1), (1, -1), (2, -1)), ((0, -1), (2, -1), (0, 2)), ((0, -1), (2, -1), (0, 2)))


@micropython.viper
def _present(dn: ptr32, k: int, thr: int) -> int:
    """1 when the window's weighted sum k (a sum of squares, Q15) is at least thr per sample."""
    m = int(WORD_MASK)
    a = int(D_W) + 2 * k  # imported constants are objects in viper: int() makes them machine words
    hi = dn[a + 1] & m
    if hi >= (1 << 14):
        return 1
    x = (hi << 17) | ((dn[a] >> 15) & 0x1FFFF)  # the sum itself, below 2**31
    if x >= thr * int(dn[int(D_N)]):
        return 1
    return 0


@micropython.viper
def _level(dn: ptr32, k: int) -> int:
    """Mean of the window's weighted sum k (a sum of squares, Q15) divided by 256: below 2**22 for 16-bit
    samples. For the current range choice."""
    m = int(WORD_MASK)
    a = int(D_W) + 2 * k
    hi = dn[a + 1] & m
    if hi >= (1 << 21):
        return 1 << 22
    s = (hi << 9) | ((dn[a] >> 23) & 0x1FF)  # the sum / 256
    n = int(dn[int(D_N)])
    if n <= 0:
        return 0
    return s // n


class Sampler:
    """Feeds ADC blocks through the kernel. `done` holds the last closed window (see D_*); `on_window`, when
    given, is called as on_window(sampler) at each close (before the next window can overwrite `done`).
    span: the module of the span kernel (`span` and `WORK`): firmware.kernel_span (viper, any port) by default,
    a board's native twin of it (boards/pico/kernel_thumb.py) for speed; the sums are the same bits.
    cycle: a firmware.cyclerms.CycleRms to keep (the one-cycle RMS of the voltages every half cycle, from the
    kernel's sums: feed stops the span at each half-cycle boundary of the NCO), or None."""

    def __init__(self, on_window=None, span=None, cycle=None):
        if span is None:
            span = kernel_span
        self.state = array("i", bytes(4 * (S_SIZE + span.WORK)))
        self.done = array("i", bytes(4 * D_SIZE))
        # the Q15 sine from flash (tables.py, computed on the host): the chip's single-precision math.sin would
        # differ in the last bit from the host's, and so would every DFT sum built on it
        tab = array("h", bytes(2 * _TAB_N))
        copy8(tab, 0, tables.SINE_1024, 0, 2 * _TAB_N)
        self.table = tab
        self.on_window = on_window
        self._run = kernel.run
        self._span = span.span
        self._present = _present
        self._refs = REFS[0]
        self._ref = 0
        self.syss = 0
        self.ishift = 8
        self.auto = False
        self._level = _level
        self.cycle = cycle
        self._cs = None if cycle is None else cycle.cs
        self._half = cyclerms.half
        self._take = cyclerms.take
        self._rebase = cyclerms.rebase
        self.reset()

    def configure(self, syss, ishift=8, auto=False):
        """Wiring 0 3Ln3CT, 1 2LL3CT, 2 2LL2CT: picks the zero-crossing reference candidates (and drops
        synchronisation if it changed; 2LL2CT also derives ib = -(ia + ic) per sample). ishift 2..8: reduction
        of the current channels from the next window on (8: full scale 25 A peak; 6: 6.25 A peak, 4x the
        resolution). auto: the range then follows the current from window to window (shifts 2..8, see _range;
        each window records its shift in done[D_ISH]). No allocation."""
        if ishift < _ISH_MIN or ishift > 8:
            raise ValueError("ishift")
        if self.ishift != ishift or self.auto != auto:
            self.state[S_ISH_NEXT] = ishift
        self.ishift = ishift
        self.auto = auto
        self.state[S_DERIVE] = 1 if syss == 2 else 0  # 2LL2CT: ib = -(ia + ic), the B CT is not fitted
        if syss != self.syss:
            self.syss = syss
            self._refs = REFS[syss]
            self._set_ref(0)

    def reset(self):
        st = self.state
        for k in range(len(st)):
            st[k] = 0
        for k in range(D_SIZE):
            self.done[k] = 0
        st[S_STEP] = _STEP_50
        st[S_TARGET] = 10
        st[S_HYST] = refilter.HYST  # on the band-passed reference: 10 V peak at 50 Hz
        st[S_FIXED] = _FIXED_N
        st[S_MAXN] = _MAX_N
        st[S_ISH] = self.ishift
        st[S_ISH_NEXT] = self.ishift
        st[S_DERIVE] = 1 if self.syss == 2 else 0
        self._set_ref(0)
        if self.cycle is not None:
            self.cycle.reset()

    def _set_ref(self, k):
        st = self.state
        st[S_RA], st[S_RB] = self._refs[k]
        st[S_SYNC] = 0
        st[S_CYC] = 0
        st[S_ARMED] = 0
        self._ref = k

    def feed(self, block, n):
        """Process n samples (8 interleaved channels) of block (array('i') or any int32 buffer); returns the
        number of windows closed meanwhile (done holds the last one). No allocation."""
        i = 0
        closed = 0
        st = self.state
        dn = self.done
        tab = self.table
        cs = self._cs
        if cs is None:
            st[S_END] = n
            while i < n:
                i = self._span(block, i, st, tab)  # up to the sample that closes a window
                if i < n:
                    i = self._run(block, i, n, st, tab, dn)  # that sample (and on, should it not close)
                if st[S_JUST]:
                    st[S_JUST] = 0
                    closed += 1
                    self._closed()
            return closed
        # the same with the one-cycle RMS: the span also stops at each half-cycle boundary (nb), where half()
        # takes the sums' growth; a window close clears the sums, so take() keeps their growth before run()
        nb = cs[C_AHEAD]
        while i < n:
            if i >= nb:
                nb = i + self._half(block, i, st, cs)
            e = nb if nb < n else n
            st[S_END] = e
            i = self._span(block, i, st, tab)
            if i < e:  # sample i closes a window or widens the current range: run() takes it (and stops by e)
                self._take(st, cs)
                i = self._run(block, i, e, st, tab, dn)
                if st[S_JUST]:  # closed: the sums restarted
                    d = self._rebase(st, cs, dn)
                    if nb > i:  # the close may have retuned the NCO: the boundary moves
                        nb = i + d
            if st[S_JUST]:
                st[S_JUST] = 0
                closed += 1
                self._closed()
        cs[C_AHEAD] = nb - n
        return closed

    def _closed(self):
        dn = self.done
        dn[D_REF] = self._ref
        if self.auto:
            self._range(dn)
        # reference selection: the first candidate whose voltage is present wins
        refs = self._refs
        for k in range(len(refs)):
            if self._present(dn, P_XX + refs[k][0], _PRESENT_MS):
                if k != self._ref:
                    self._set_ref(k)
                break
        if self.on_window is not None:
            self.on_window(self)

    def _range(self, dn):
        # The largest current mean square of the closed window (phases, neutral, vector sum) picks the range of
        # the window after the next one (the next one started at the close with S_ISH_NEXT). Allocation-free:
        # every number stays below 2**30. A channel near full scale may have clipped: done[D_CLIP] says which
        # (metering measures none of its quantities in this window).
        lv = 0
        clip = 0
        for k in range(4):
            x = self._level(dn, P_XX + 3 + k)
            if x >= _CLIP:
                clip |= 1 << k
            if x > lv:
                lv = x
        x = self._level(dn, P_NN)
        if x >= _CLIP:
            clip |= 16
        if x > lv:
            lv = x
        dn[D_CLIP] = clip
        st = self.state
        cur = st[S_ISH_NEXT]
        if lv >= _CLIP:
            st[S_ISH_NEXT] = 8  # near full scale (perhaps clipped): the widest range at once
            return
        d = dn[D_ISH] - cur  # the level at the running window's scale: x 4 per bit finer
        while d > 0 and lv < (1 << 26):
            lv <<= 2
            d -= 1
        while d < 0:
            lv >>= 2
            d += 1
        while lv > _UP and cur < 8:
            lv >>= 4
            cur += 2
        while lv < _DOWN and cur > _ISH_MIN:
            lv <<= 4
            cur -= 2
        st[S_ISH_NEXT] = cur
