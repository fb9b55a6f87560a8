# Power quality from a synchronised window (IEC 61000-4-7 style): harmonic ratios HR 2..31 and THD per channel,
# voltage/current unbalance as negative-sequence ratios (IEC 61000-4-30). Integer DFT at the exact orders.
#
# Why this shape: the sampler's windows span whole cycles (10 or 12, ~200 ms) with fractional edges, so a DFT
# at exactly h * cycles / length per sample has no leakage between orders. The window's samples (reduced to 16
# bits) are captured into a preallocated buffer outside the per-sample kernel; the DFT then runs one order per
# step, a few steps per block, while the next windows are sampled (one window in `every`, default 4: ~1.25
# updates per second). All of it allocation-free; integer sums are bit-identical on 32- and 64-bit words.
# Kernels: firmware/harmonics_dft.py; method and figures: docs/quality.md.
from array import array

from micropython import const

from firmware import regmap, sf32
from firmware.kernel import D_CYC, D_FE, D_FS, D_N, S_NS
from firmware.harmonics_dft import capture, dft, mags, put, sine_table, step, weigh

NCH = const(6)  # Ua Ub Uc Ia Ib Ic
ORDERS = const(31)  # orders 1..31 (1: the fundamental, for the ratios and the unbalance phasors)
NHR = const(30)  # HR 2..31 per channel
CAP = const(1800)  # samples per captured window (+1 edge): 10 cycles down to 44.5 Hz
_RES = const(24)  # per order: NCH x (C lo, C hi, S lo, S hi)
_STEPS = const(38)  # 31 orders, 6 channel finishes, 1 unbalance
_COST = const(32)  # samples fed per analysis step: 38 steps take 1216 samples, less than the shortest window
_MIN_AMP = const(16)  # a channel's fundamental below 16 codes peak (0.5 V, 12 mA) has no ratios: 0
_LOST = const(3)  # unsynchronised windows in a row before the values are cleared
CH_NAMES = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")
# workspace slots (array('f'))
_T = const(32)  # temporaries 32..39
_THR = const(40)  # |X_1|^2 threshold
_K100 = const(42)
_HALF = const(43)
_S3 = const(44)  # sqrt(3) / 2
_A = const(45)  # 45..47: scratch of _ratio
_PH = const(48)  # fundamental phasors: 6 x (re, im) = 48..59
_E = const(60)  # 60..63: scratch of _ratio
_W = const(64)

# idle / capturing a window / analysing the captured one
_WAIT = const(0)
_CAPT = const(1)
_ANA = const(2)


def hr_names():
    """Register names of the HARMONICS block, in address order: HR_Ua_2 .. HR_Ic_31."""
    return tuple("HR_%s_%d" % (c, h) for c in CH_NAMES for h in range(2, 32))


class Harmonics:
    """Feed it every block after the sampler: feed(block, n, closed) with closed = sampler.feed's result.
    Results: vals THD_* and UNB_* slots (percent), hr (array('f'), HR_Ua_2..HR_Ic_31 in percent), and, when an
    image is given, the HARMONICS block written there (float32 big-endian) at each update."""

    def __init__(self, vals, sampler, image=None, every=4):
        """every: analyse one window in `every` (>= 2: the next window is sampled while one is analysed);
        4 makes ~1.25 updates per second (at least one per second down to 45 Hz) for half the CPU of 2."""
        self.every = max(2, every)
        self.skip = 0
        self.vals = vals
        self.sampler = sampler
        self.image = image
        self.img_off = 2 * regmap.block("harmonics")[0]
        self.buf = bytearray(2 * NCH * (CAP + 1))  # int16 samples for the viper kernels (no temporary copy)
        self.res = array("i", bytes(4 * _RES * ORDERS))
        self.hr = array("f", bytes(4 * NCH * NHR))
        self.w = array("f", bytes(4 * _W))
        self.table = sine_table()
        self.tmp = array("i", bytes(4 * 4))  # sum of |X_h|^2 (h >= 2) and |X_1|^2, 64-bit pairs
        self.out = array("f", bytes(4 * 8))  # THD Ua..Ic, UNB_U, UNB_I before the copy into vals
        self.slots = bytearray(8)
        for k in range(6):
            self.slots[k] = regmap.slot("THD_" + CH_NAMES[k])
        self.slots[6] = regmap.slot("UNB_U")
        self.slots[7] = regmap.slot("UNB_I")
        w = self.w
        w[_K100] = 100.0
        w[_HALF] = 0.5
        w[_S3] = 0.8660254037844386
        self.state = _WAIT
        self.pos = 0  # samples captured
        self.k = 0  # next analysis step
        self.credit = 0
        self.n = 0  # captured window: samples (without the edge), start/end fractions, cycles
        self.fs = 0
        self.fe = 0
        self.cyc = 0
        self.step1 = 0  # phase step of the fundamental
        self.lost = 0
        self.updates = 0  # analyses completed
        self.wiring = 0  # the sampler's wiring when the window was captured (0 3Ln3CT, 1 2LL3CT, 2 2LL2CT)
        self.derive = 0  # 2LL2CT: Ib = -(Ia + Ic)

    def sources(self):
        """name -> callable for the PQM harmonic pages: HR_Ua_2 .. HR_Ic_31 (percent)."""
        src = {}
        names = hr_names()
        hr = self.hr
        for k in range(len(names)):
            src[names[k]] = (lambda k=k: hr[k])
        return src

    # --- per block (hot path, allocation-free) ---------------------------------------------------------------
    def feed(self, blk, n, closed):
        st = self.state
        if closed:
            e = n - self.sampler.state[S_NS]  # the closing (edge) sample: the new window's first sample
            if self.skip > 0:
                self.skip -= 1
            dn = self.sampler.done
            if dn[D_CYC] == 0:
                self.lost += 1
                if self.lost >= _LOST:
                    self._clear()
            else:
                self.lost = 0
            if st == _CAPT:
                st = _WAIT
                if closed == 1 and e >= 0 and self.pos + e + 1 <= CAP + 1:
                    self.pos = capture(blk, 0, e + 1, self.buf, self.pos)
                    if self.pos == dn[D_N] + 1 and dn[D_CYC] > 0:
                        self._start(dn)
                        st = _ANA
            elif st == _ANA:  # the next window closed before the analysis ended: finish it now
                while self.k < _STEPS:
                    self._do(self.k)
                    self.k += 1
                st = _WAIT
            if st == _WAIT and e >= 0 and self.skip == 0:
                self.pos = capture(blk, e, n, self.buf, 0)
                self.skip = self.every
                st = _CAPT
        elif st == _CAPT:
            if self.pos + n <= CAP + 1:
                self.pos = capture(blk, 0, n, self.buf, self.pos)
            else:
                st = _WAIT  # too long for the buffer (below 44.5 Hz, or no synchronisation): skip this window
        self.state = st
        if st == _ANA:
            self.credit += n
            while self.credit >= _COST and self.k < _STEPS:
                self.credit -= _COST
                self._do(self.k)
                self.k += 1
            if self.k >= _STEPS:
                self.state = _WAIT

    def _start(self, dn):
        n = dn[D_N]
        self.n = n
        self.fs = dn[D_FS]
        self.fe = dn[D_FE]
        self.cyc = dn[D_CYC]
        self.wiring = self.sampler.syss
        self.derive = 1 if self.wiring == 2 else 0
        # edge weights: the first sample counts 1 - fs, the closing one fe (the sampler's window exactly)
        weigh(self.buf, 0, 32768 - self.fs)
        weigh(self.buf, 6 * n, self.fe)
        self.step1 = step(n, self.fs, self.fe, self.cyc)
        self.k = 0
        self.credit = 0

    def _do(self, k):
        if k < ORDERS:
            dft(self.buf, self.n + 1, k + 1, self.step1, self.table, self.res, _RES * k)
        elif k < ORDERS + NCH:
            self._finish(k - ORDERS)
        else:
            self._unbalance()
            self.updates += 1
            vals = self.vals
            for j in range(8):
                put(vals, self.slots[j], self.out, j)
            if self.image is not None:
                sf32.copy_be(self.hr, 0, NCH * NHR, self.image, self.img_off)

    def _load(self, d, k, c, im):
        """w[d] = C (im 0) or S (im 1) of order k + 1 on channel c (Ib derived in 2LL2CT)."""
        w = self.w
        r = self.res
        o = _RES * k + 2 * im
        if c == 4 and self.derive:
            sf32.from_i64(w, d, r, o + 12)
            sf32.from_i64(w, _T + 7, r, o + 20)
            sf32.fadd(w, d, d, _T + 7)
            sf32.fneg(w, d, d)
        else:
            sf32.from_i64(w, d, r, o + 4 * c)

    def _finish(self, c):
        """HR 2..31 and THD of channel c from the DFT sums. The ratios are integer maths in one viper call
        (_mags); THD takes 5 soft-float operations; the fundamental phasor is kept for the unbalance."""
        w = self.w
        hr = self.hr
        t = self.tmp
        if not mags(self.res, c, self.wiring, (self.n * _MIN_AMP) << 3, hr, NHR * c, t):
            self.out[c] = 0.0  # no fundamental to refer to (channel absent): ratios 0
        else:
            # THD = sqrt(sum_h |X_h|^2 / |X_1|^2), the sums in the same scaled units as the ratios
            sf32.from_i64(w, _T, t, 0)
            sf32.from_i64(w, _T + 1, t, 2)
            sf32.fdiv(w, _T, _T, _T + 1)
            sf32.fmul2(w, _T, _T, -32)
            sf32.fsqrt(w, _T, _T)
            sf32.fmul(w, _T, _T, _K100)
            put(self.out, c, w, _T)
        # the fundamental phasor X = C - jS (for x = A cos(wt + phi): C = +A cos(phi) L/2, S = -A sin(phi) L/2)
        self._load(_PH + 2 * c, 0, c, 0)
        self._load(_PH + 2 * c + 1, 0, c, 1)
        sf32.fneg(w, _PH + 2 * c + 1, _PH + 2 * c + 1)

    def _unbalance(self):
        """UNB_U from the line-voltage phasors (the same ratio as from phase voltages, zero sequence excluded, and
        valid in every wiring), UNB_I from Ia Ib Ic."""
        w = self.w
        # |X_1| = A * 32767 * L / 2**11 (about 16 A L) for an amplitude of A codes: no unbalance when the
        # positive-sequence sum (3 |X_1|) is below _MIN_AMP codes
        sf32.from_int(w, _THR, (self.n * _MIN_AMP) << 4)
        sf32.fmul(w, _THR, _THR, _THR)
        if self.wiring == 0:
            for j in range(3):  # Uab, Ubc, Uca into _T..: differences of the phase (channel) phasors
                a = _PH + 2 * j
                b = _PH + 2 * ((j + 1) % 3)
                sf32.fsub(w, _T + 2 * j, a, b)
                sf32.fsub(w, _T + 2 * j + 1, a + 1, b + 1)
        else:  # 2LL: the channels carry Uab (a) and Ucb (c): Ubc = -Ucb, Uca = Ucb - Uab
            for j in range(2):
                sf32.fcopy(w, _T + j, _PH + j)
                sf32.fneg(w, _T + 2 + j, _PH + 4 + j)
                sf32.fsub(w, _T + 4 + j, _PH + 4 + j, _PH + j)
        _ratio(w, _T, _T + 6)
        put(self.out, 6, w, _T + 6)
        _ratio(w, _PH + 6, _T + 6)
        put(self.out, 7, w, _T + 6)

    def _clear(self):
        for j in range(NCH * NHR):
            self.hr[j] = 0.0
        for j in range(8):
            self.out[j] = 0.0
            self.vals[self.slots[j]] = 0.0
        if self.image is not None:
            sf32.copy_be(self.hr, 0, NCH * NHR, self.image, self.img_off)


def _ratio(w, x, d):
    """w[d] = 100 |X2| / |X1| for the phasors (re, im) at w[x..x+5] (a, b, c); 0 when |3 X1| is below the
    amplitude threshold (w[_THR], squared). With a = -1/2 + j sqrt(3)/2,
    X1 = (xa + a xb + a^2 xc) / 3 = (A - D, B + E) / 3, X2 = (xa + a^2 xb + a xc) / 3 = (A + D, B - E) / 3."""
    fadd = sf32.fadd
    fsub = sf32.fsub
    fmul = sf32.fmul
    t = _A  # A B D, then E pos/neg and |pos|^2 in _E.. (free slots: the phasors are at 48..59)
    fadd(w, t, x + 2, x + 4)  # yr + zr
    fmul(w, t, t, _HALF)
    fsub(w, t, x, t)  # A
    fadd(w, t + 1, x + 3, x + 5)
    fmul(w, t + 1, t + 1, _HALF)
    fsub(w, t + 1, x + 1, t + 1)  # B
    fsub(w, t + 2, x + 3, x + 5)
    fmul(w, t + 2, t + 2, _S3)  # D
    fsub(w, _E, x + 2, x + 4)
    fmul(w, _E, _E, _S3)  # E
    fsub(w, _E + 1, t, t + 2)  # pos re
    fadd(w, _E + 2, t + 1, _E)  # pos im
    fmul(w, _E + 1, _E + 1, _E + 1)
    fmul(w, _E + 2, _E + 2, _E + 2)
    fadd(w, _E + 3, _E + 1, _E + 2)  # |pos|^2
    fadd(w, _E + 1, t, t + 2)  # neg re
    fsub(w, _E + 2, t + 1, _E)  # neg im
    fmul(w, _E + 1, _E + 1, _E + 1)
    fmul(w, _E + 2, _E + 2, _E + 2)
    fadd(w, _E + 2, _E + 1, _E + 2)  # |neg|^2
    if sf32.fcmp(w, _E + 3, _THR) < 0:  # no positive sequence to speak of (no voltage / no current)
        w[d] = 0.0
        return
    sf32.fdiv(w, d, _E + 2, _E + 3)
    sf32.fsqrt(w, d, d)
    fmul(w, d, d, _K100)
