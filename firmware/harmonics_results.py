# SPDX-License-Identifier: MIT
# The results of a harmonic analysis (firmware/harmonics.py captures the window and runs the steps): from the
# spectrum sums of the captured window, HR 2..31 and THD per channel and line voltage, the voltage and current
# unbalance as negative-sequence ratios (IEC 61000-4-30) from the fundamental phasors, published into vals and the
# register image; and for metering the front end's filter beyond the fundamental (kap: rms factors, P excess).
# Soft float32 on preallocated slots, one call per analysis step: no allocation. docs/quality.md.
from array import array

from micropython import const

from firmware import droop, regmap, sf32, sf32conv, tables
from firmware.harmonics_ratio import cross, mags, power, put

NCH = const(6)  # Ua Ub Uc Ia Ib Ic
_NOUT = const(11)  # THD of the 6 channels, UNB_U, UNB_I, THD of the line voltages Uab Ubc Uca
ORDERS = const(31)  # orders 1..31 (1: the fundamental, for the ratios and the unbalance phasors)
NHR = const(30)  # HR 2..31 per channel
_RES = const(24)  # per order: NCH x (C lo, C hi, S lo, S hi)
_MIN_AMP = const(16)  # a channel's fundamental below 16 codes peak (0.5 V, 12 mA) has no ratios: 0
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
NKAP = const(13)  # for metering: rms factors Ua Ub Uc (channels), Uab Ubc Uca (pairs), Ia Ib Ic, the neutral sum;
#                  then the harmonic P excess of elements a, b, c relative to |U1 I1| (see _cross)
NRMS = const(10)
# channel mixes of firmware/harmonics_ratio.py power() (2 bits per channel c at bit 2c: 1 adds, 3 subtracts)
_MIX_UAB = const(13)  # ch0 - ch1 (kap[3])
_MIX_UBC = const(52)  # ch1 - ch2 (kap[4])
_MIX_UCA = const(19)  # ch2 - ch0 (kap[5]; in 2LL Ucb - Uab)
_MIX_N = const(1344)  # ch3 + ch4 + ch5: the neutral (kap[9])
_MIX_IB2 = const(1088)  # ch3 + ch5: 2LL2CT's derived Ib, -(ia + ic) (kap[7])


def hr_names():
    """Register names of the HARMONICS block, in address order: HR_Ua_2 .. HR_Ic_31."""
    return tuple("HR_%s_%d" % (c, h) for c in CH_NAMES for h in range(2, 32))


class Results:
    """What one analysis gives, from the spectrum sums in `res` (bytearray, per order 1..31 NCH x (C, S) as 64-bit
    pairs, firmware/harmonics_fft.py unpack() writes them): vals THD_* and UNB_* slots (percent), hr (array('f'),
    HR_Ua_2..HR_Ic_31 in percent), the HARMONICS block of `image` (float32 big-endian, when an image is given),
    and kap (array('f') of NKAP) for metering. The steps: start(), front(c) and neutral(), channel(c),
    unbalance(), publish(); clear() when the signal is lost."""

    def __init__(self, vals, image=None):
        self.vals = vals
        self.image = image
        self.img_off = 2 * regmap.block("harmonics")[0]
        # the big buffers first, as bytearrays: zeroed in place, no temporary of their size
        self.res = bytearray(4 * _RES * ORDERS)
        self.hr = array("f", bytes(4 * NCH * NHR))
        self.w = array("f", bytes(4 * _W))
        self.tmp = array("i", bytes(4 * 6))  # sum of |X_h|^2 (h >= 2) and |X_1|^2, 64-bit pairs (+ 2: cross())
        # the front end's response at the captured window's orders (firmware/droop.py): gains 1 / |H| in Q15 for
        # the ratios, excess G_h^2 - G_1^2 for the rms factors
        self.gt = bytearray(2 * ORDERS)
        self.gd = bytearray(2 * ORDERS)
        # for metering (NKAP, see above; firmware/metering.py takes this array in its constructor): rms factors,
        # mean square before the filter / (after it x G_1^2), 1 until an analysis gives them; P excess, 0
        self.kap = array("f", bytes(4 * NKAP))
        for k in range(NRMS):
            self.kap[k] = 1.0
        self.out = array("f", bytes(4 * _NOUT))  # THD Ua..Ic, UNB_U, UNB_I, THD Uab Ubc Uca before the copy
        self.slots = bytearray(_NOUT)
        for k in range(6):
            self.slots[k] = regmap.slot("THD_" + CH_NAMES[k])
        self.slots[6] = regmap.slot("UNB_U")
        self.slots[7] = regmap.slot("UNB_I")
        for k in range(3):
            self.slots[8 + k] = regmap.slot("THD_" + ("Uab", "Ubc", "Uca")[k])
        self.lhr = array("i", bytes(4 * NHR))  # the line voltages' ratios (not kept: their THD is)
        w = self.w
        w[_K100] = 100.0
        w[_HALF] = 0.5
        w[_S3] = 0.8660254037844386
        self.n = 0  # samples in the analysed window (for the amplitude thresholds)
        self.sh = 0  # the grid's shift before the FFT
        self.wiring = 0  # the sampler's wiring when the window was captured (0 3Ln3CT, 1 2LL3CT, 2 2LL2CT)
        self.derive = 0  # 2LL2CT: Ib = -(Ia + Ic)

    def start(self, n, sh, wiring, step):
        """An analysis begins: the window had n samples, the grid was scaled by 2**-sh before the FFT, the sampler's
        wiring was `wiring` and its NCO step `step` (the front end's gains at the window's orders)."""
        self.n = n
        self.sh = sh
        self.wiring = wiring
        self.derive = 1 if wiring == 2 else 0
        droop.gains(tables.DROOP, step, self.gt, self.gd, ORDERS)

    def _load(self, d, k, c, im):
        """w[d] = C (im 0) or S (im 1) of order k + 1 on channel c (Ib derived in 2LL2CT)."""
        w = self.w
        r = self.res
        o = _RES * k + 2 * im
        if c == 4 and self.derive:
            sf32conv.from_i64(w, d, r, o + 12)
            sf32conv.from_i64(w, _T + 7, r, o + 20)
            sf32.fadd(w, d, d, _T + 7)
            sf32.fneg(w, d, d)
        else:
            sf32conv.from_i64(w, d, r, o + 4 * c)

    def channel(self, c):
        """HR 2..31 and THD of channel c from the DFT sums. The ratios are integer maths in one viper call
        (_mags); THD takes 5 soft-float operations; the fundamental phasor is kept for the unbalance."""
        w = self.w
        thr = ((self.n * _MIN_AMP) << 9) >> self.sh
        self._thd(c, mags(self.res, c, self.wiring, thr, self.hr, NHR * c, self.tmp, self.gt))
        if c < 3:  # the line voltage starting at this phase (SDM630 0x014E..): Uab, Ubc, Uca
            if self.wiring:
                put(self.out, 8 + c, self.out, c)  # the 2LL channels are line voltages already (mags' slots)
            else:
                self._thd(8 + c, mags(self.res, 6 + c, 0, thr, self.lhr, 0, self.tmp, self.gt))
        # the fundamental phasor X = C - jS (for x = A cos(wt + phi): C = +A cos(phi) L/2, S = -A sin(phi) L/2)
        self._load(_PH + 2 * c, 0, c, 0)
        self._load(_PH + 2 * c + 1, 0, c, 1)
        sf32.fneg(w, _PH + 2 * c + 1, _PH + 2 * c + 1)

    def _thd(self, j, ok):
        """out[j] = THD in percent from mags' sums in tmp, or 0 when mags found no fundamental (ok = 0)."""
        w = self.w
        t = self.tmp
        if not ok:
            self.out[j] = 0.0  # no fundamental to refer to (channel absent): ratios 0
            return
        # THD = sqrt(sum_h |X_h|^2 / |X_1|^2), the sums in the same scaled units as the ratios
        sf32conv.from_i64(w, _T, t, 0)
        sf32conv.from_i64(w, _T + 1, t, 2)
        sf32.fdiv(w, _T, _T, _T + 1)
        sf32.fmul2(w, _T, _T, -32)
        sf32.fsqrt(w, _T, _T)
        sf32.fmul(w, _T, _T, _K100)
        put(self.out, j, w, _T)

    def front(self, c):
        """For metering, the front end's filter beyond the fundamental: the rms factor of channel c (Ua..Ic;
        2LL2CT's Ib is -(Ia + Ic)) and of a line pair (voltages), or element c - 3's P excess (currents)."""
        if c < 3:
            self._kappa(c, 1 << (2 * c))
            self._kappa(3 + c, _MIX_UAB if c == 0 else (_MIX_UBC if c == 1 else _MIX_UCA))
        else:
            self._kappa(3 + c, _MIX_IB2 if c == 4 and self.derive else 1 << (2 * c))
            self._cross(c - 3)

    def neutral(self):
        """For metering, the rms factor of the neutral sum ia + ib + ic; 2LL2CT sees no Ib, its spectrum is unknown
        (three wires carry none): 1."""
        if self.derive:
            self.kap[9] = 1.0
        else:
            self._kappa(9, _MIX_N)

    def _cross(self, p):
        """kap[NRMS + p] = sum_{h >= 2} P_h (G_h^2 - G_1^2) / |U_1 I_1| for element p (voltage channel p, current
        channel 3 + p): metering adds it times the window's |U_1 I_1| to G_1^2 P (the harmonic powers passed the
        filter twice, the fundamental's correction already counts G_1^2 of them); 0 without a fundamental."""
        w = self.w
        t = self.tmp
        cross(self.res, p, 3 + p, self.gd, t)
        for k in range(4):
            sf32conv.from_int(w, _T + k, t[2 + k])
            sf32.fmul(w, _T + k, _T + k, _T + k)
        sf32.fadd(w, _T, _T, _T + 1)  # |X_u1|^2
        sf32.fadd(w, _T + 2, _T + 2, _T + 3)  # |X_i1|^2
        sf32.fmul(w, _T, _T, _T + 2)
        if sf32conv.fsign(w, _T) <= 0:
            self.kap[NRMS + p] = 0.0
            return
        sf32.fsqrt(w, _T, _T)
        sf32conv.from_i64(w, _T + 1, t, 0)
        sf32.fdiv(w, _T + 1, _T + 1, _T)
        sf32.fmul2(w, _T + 1, _T + 1, -15)
        put(self.kap, NRMS + p, w, _T + 1)

    def _kappa(self, j, mix):
        """kap[j] = 1 + sum_h (G_h^2 - G_1^2) |X_h|^2 / sum_h |X_h|^2 for the channel mix (orders 1..31): the
        mean square the front end let through, times G_1^2 (metering, per window) and this, is the one before
        it; 1 when the mix carries nothing."""
        w = self.w
        t = self.tmp
        power(self.res, mix, self.gd, t)
        sf32conv.from_i64(w, _T, t, 0)
        if sf32conv.fsign(w, _T) <= 0:
            self.kap[j] = 1.0
            return
        sf32conv.from_i64(w, _T + 1, t, 2)
        sf32.fdiv(w, _T + 1, _T + 1, _T)
        sf32.fmul2(w, _T + 1, _T + 1, -15)
        sf32conv.from_int(w, _T, 1)
        sf32.fadd(w, _T, _T, _T + 1)
        put(self.kap, j, w, _T)

    def unbalance(self):
        """UNB_U from the line-voltage phasors (the same ratio as from phase voltages, zero sequence excluded, and
        valid in every wiring), UNB_I from Ia Ib Ic. Returns the phase sequence of the voltages: 0 unknown, 1 a-b-c,
        2 a-c-b (_ratio)."""
        w = self.w
        # |X_1| = A * L * 2**(10 - sh) for an amplitude of A codes over L samples (grid in Q10, pairs unpacked
        # as 2 A_h): no unbalance when the positive-sequence sum (3 |X_1|) is below _MIN_AMP codes
        sf32conv.from_int(w, _THR, ((self.n * _MIN_AMP) << 10) >> self.sh)
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
        seq = _ratio(w, _T, _T + 6)
        put(self.out, 6, w, _T + 6)
        _ratio(w, _PH + 6, _T + 6)
        put(self.out, 7, w, _T + 6)
        return seq

    def publish(self):
        """The analysis is complete: THD and UNB into vals, HR into the image's HARMONICS block."""
        vals = self.vals
        for j in range(_NOUT):
            put(vals, self.slots[j], self.out, j)
        if self.image is not None:
            sf32conv.copy_be(self.hr, 0, NCH * NHR, self.image, self.img_off)

    def clear(self):
        """No values (the signal is lost, or a new one starts): ratios, THD, unbalance 0, rms factors 1, P excess 0."""
        for j in range(NCH * NHR):
            self.hr[j] = 0.0
        for j in range(NKAP):
            self.kap[j] = 1.0 if j < NRMS else 0.0
        for j in range(_NOUT):
            self.out[j] = 0.0
            self.vals[self.slots[j]] = 0.0
        if self.image is not None:
            sf32conv.copy_be(self.hr, 0, NCH * NHR, self.image, self.img_off)


def _ratio(w, x, d):
    """w[d] = 100 |X2| / |X1| for the phasors (re, im) at w[x..x+5] (a, b, c), capped at 100 (|X2| >= |X1|: a
    reversed sequence or a single phase, where the IEC ratio grows without bound); 0 when both |3 X1| and |3 X2|
    are below the amplitude threshold (w[_THR], squared). Returns the sequence: 1 a-b-c when |X2|^2 < |X1|^2 / 2,
    2 a-c-b when |X1|^2 < |X2|^2 / 2, else 0 (unknown: no signal, or the two within a factor sqrt 2, as a single
    phase's |X1| = |X2|). With a = -1/2 + j sqrt(3)/2,
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
    if sf32conv.fcmp(w, _E + 3, _THR) < 0 and sf32conv.fcmp(w, _E + 2, _THR) < 0:  # no voltage / no current
        w[d] = 0.0
        return 0
    sf32.fmul2(w, _E, _E + 2, 1)  # 2 |neg|^2
    sf32.fmul2(w, _E + 1, _E + 3, 1)  # 2 |pos|^2
    seq = 1 if sf32conv.fcmp(w, _E, _E + 3) < 0 else (2 if sf32conv.fcmp(w, _E + 1, _E + 2) < 0 else 0)
    if sf32conv.fcmp(w, _E + 2, _E + 3) >= 0:
        sf32.fcopy(w, d, _K100)  # the cap: the negative sequence at least the positive one
        return seq
    sf32.fdiv(w, d, _E + 2, _E + 3)
    sf32.fsqrt(w, d, d)
    fmul(w, d, d, _K100)
    return seq
