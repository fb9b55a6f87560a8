# SPDX-License-Identifier: MIT
# The metering update: one closed window of integer sums (firmware/sampler.py) -> every real-time quantity as
# float32 slots of `vals`, with soft float32 (firmware/sf32.py) on preallocated slots: no allocation per window.
# Its configuration (outputs, thresholds, the workspace constants): metering_config.py; the per-window codes
# (measured mask, directions, STATUS): metering_codes.py.
from array import array

import micropython
from micropython import const

from firmware import angle, droop, frontend, metering_config, powers, pt100, regmap, sf32, sf32conv, tables
from firmware import workspace as ws
from firmware.kernel import (D_CLIP, D_CYC, D_FE, D_FS, D_ISH, D_LOCK, D_N, D_READY, D_SAT, D_W, NP, P_C, P_NN,
                             P_S, P_UU, P_X, P_XX, S_FIXED, S_STEP, S_TCODE)
from firmware.metering_codes import STATUS, directions, fold, measured
from firmware.metering_config import ANGLES, OUT, PAIRS

_SHORT = const(1600)  # an unsynchronised window shorter than the fixed 200 ms ended when sync was acquired: dropped
NKAP = const(13)  # from the harmonic analysis (firmware/harmonics.py Harmonics.kap): rms factors Ua Ub Uc, Uab Ubc
_NRMS = const(10)  # Uca, Ia Ib Ic, In (10), then the harmonic P excess of elements a, b, c (3)
_PFA = const(21)  # OUT index of PFa (PFa PFb PFc PF: the angles' mask)
_F_STAR = const(2)  # metering_codes.measured() flags (bit 0: the window is complete)
_F_SYNC = const(4)
_F_T = const(8)


@micropython.viper
def _copy(dst: ptr32, d: int, src: ptr32, s: int, n: int):
    """dst[d + k] = src[s + k] for k < n (raw float32 words)."""
    k = 0
    while k < n:
        dst[d + k] = src[s + k]
        k += 1


@micropython.viper
def _scatter(dst: ptr32, slots: ptr8, src: ptr32, a: int, n: int):
    """dst[slots[k]] = src[a + k] for k < n (raw float32 words)."""
    k = 0
    while k < n:
        dst[slots[k]] = src[a + k]
        k += 1


class Metering:
    """Turns a sampler's done buffer into measurements in vals (array('f'), regmap.MEASUREMENTS order).
    `gate[p]` (bytearray) is 1 while element p counts (current >= IST and voltage >= U_TH): energy integrates
    the window sums of gated elements only. `status` holds the STATUS codes of the last window."""

    def __init__(self, vals, sampler=None, kap=None):
        """kap: the harmonic rms factors and P excesses (array('f') of NKAP, Harmonics.kap), updated by the
        harmonic analysis; None: 1 and 0 (the front end's filter divided out at the fundamental only)."""
        self.sampler = sampler  # or given to update(); update() applies the wiring to it
        self.vals = vals
        self.w = array("f", bytes(4 * ws.SIZE))
        if kap is None:
            kap = array("f", bytes(4 * NKAP))
            for k in range(_NRMS):
                kap[k] = 1.0
        if len(kap) != NKAP:
            raise ValueError("kap: expected %d factors" % NKAP)
        self.kap = kap
        self.cal = array("f", [1.0] * 7)  # per-channel gain factors Ua Ub Uc Ia Ib Ic In
        self.lag = array("f", [0.0] * 7)  # per-channel delay of the board, degrees at the fundamental
        self.slots = bytearray(len(OUT))
        for k in range(len(OUT)):
            self.slots[k] = regmap.slot(OUT[k])
        self.aslots = bytearray(len(ANGLES))
        for k in range(len(ANGLES)):
            self.aslots[k] = regmap.slot(ANGLES[k])
        self.gate = bytearray(3)
        self.status = array("H", [0] * len(STATUS))
        self.mask = bytearray(regmap.N_MEAS)  # per regmap slot: MEAS | KNOWN of the last window (0: not metering's)
        self.complete = 0  # 1: the last window was complete (statistics may take it)
        self.dirs = bytearray(8)  # direction (deadband.NONE POS NEG) of Pa Pb Pc P, then Qa Qb Qc Q
        self._tok = 0
        self.windows = 0  # windows metered so far
        self.syss = 0
        self.ishift = 8
        self.auto = True  # the current range follows the current per window (Sampler._range)
        self.ish = 8  # the current range (shift) of the last window metered
        self.configure(1, 1, 0)

    def configure(self, pt, ct, syss, un=None, rated_i=None, cal=None, ist=10, lag=None):
        """Ratios Pt_U, Ct_I, wiring (0 3Ln3CT, 1 2LL3CT, 2 2LL2CT), rated Un (not used), In (1 A: the current
        channels get 4x the resolution and a 6.25 A peak range), optional 7 gain factors and 7 channel lags
        (degrees), starting current IST in mA (secondary). Allocates (runs when settings change)."""
        if cal is not None:
            for k in range(7):
                self.cal[k] = cal[k]
        if lag is not None:
            for k in range(7):
                self.lag[k] = lag[k]
        self.syss = syss
        self.ishift = 6 if rated_i == 1 else 8
        if self.sampler is not None:
            self.sampler.configure(syss, self.ishift, self.auto)  # crossing reference, current range, Ib
        metering_config.precompute(self.w, self.cal, self.lag, pt, ct, syss, ist)

    def update(self, sampler=None):
        """Meter the window waiting in the sampler's done buffer, if any: returns 1 (values updated) or 0.
        No allocation. The same as begin() then, when it returned 1, finish()."""
        return self.finish(sampler) if self.begin(sampler) else 0

    def begin(self, sampler=None):
        """The first half of update() (a board feeding small blocks runs the halves on two calls, ~6 ms each on
        the RP2040): window length, means, mean squares, the front end's correction, rms values and gates.
        Returns 1 when finish() is to complete the window, 0 when there is none. No allocation."""
        if sampler is None:
            sampler = self.sampler
        if sampler.syss != self.syss or sampler.ishift != self.ishift or sampler.auto != self.auto:
            sampler.configure(self.syss, self.ishift, self.auto)
        dn = sampler.done
        if not dn[D_READY]:
            return 0
        w = self.w
        fsub = sf32.fsub
        fmul = sf32.fmul
        fint = sf32conv.from_int
        n = dn[D_N]
        fs = dn[D_FS]
        fe = dn[D_FE]
        cyc = dn[D_CYC]
        if cyc == 0 and n < _SHORT:  # the stub before synchronisation: not whole cycles, not a value
            dn[D_READY] = 0
            return 0
        # window length L = n + (fe - fs) / 2**15 samples; means = weighted Q15 sums * 2**-15 / L
        t = ws.TMP
        fint(w, ws.LEN, (n << 15) - fs + fe)
        sf32.fmul2(w, ws.LEN, ws.LEN, -15)
        fint(w, t, 1)
        sf32.fdiv(w, ws.INVL, t, ws.LEN)
        sf32.fmul2(w, t, ws.INVL, -15)
        for k in range(NP):
            sf32conv.from_i64(w, ws.MEANS + k, dn, D_W + 2 * k)
            fmul(w, ws.MEANS + k, ws.MEANS + k, t)
        # mean squares without DC: 7 channels, then the vector sum ia + ib + ic
        m = ws.MEANS
        for c in range(7):
            fmul(w, t, m + P_X + c, m + P_X + c)
            fsub(w, ws.MS + c, m + P_XX + c, t)
        sf32.fadd(w, t, m + P_X + 3, m + P_X + 4)
        sf32.fadd(w, t, t, m + P_X + 5)
        fmul(w, t, t, t)
        fsub(w, ws.MS + 7, m + P_NN, t)
        self._front_end(sampler.state[S_STEP])
        self.ish = dn[D_ISH]
        self._rms(self.ish - 8)  # current codes of this window are 2**(ish - 8) of the 25 A-scale codes KI is for
        return 1

    def finish(self, sampler=None):
        """The second half of update(), after begin() returned 1 and before the sampler closes another window:
        powers, neutral, averages, temperature, frequency, the measured mask, status, the values. Returns 1."""
        if sampler is None:
            sampler = self.sampler
        dn = sampler.done
        w = self.w
        t = ws.TMP
        fint = sf32conv.from_int
        fcopy = sf32.fcopy
        n = dn[D_N]
        cyc = dn[D_CYC]
        e = self.ish - 8
        # fundamental Q only when the NCO matched the window's frequency (a synchronised window right after
        # the start or a frequency jump keeps the previous Q; an unsynchronised one has no voltage to lock to)
        dft = cyc == 0 or dn[D_LOCK]
        if self.syss:
            powers.two_element(w, self.gate, dft, e)
        else:
            powers.star(w, self.gate, dft, e)
        self._extras(sampler, e, dft)
        # frequency: whole cycles over the interpolated window length (0 without synchronisation)
        if cyc:
            fint(w, t, cyc * frontend.SAMPLE_RATE)
            sf32.fdiv(w, ws.O_F, t, ws.LEN)
        else:
            fcopy(w, ws.O_F, ws.ZERO)
        # complete: whole cycles at a steady frequency (the window before agreed within 0.1 %: no frequency step,
        # no zero crossing cut short by a vanishing reference), or, with no voltage to synchronise to, a
        # free-running window of its full length. Anything else is a transition: shown, never a statistic.
        sat = dn[D_SAT]  # channels that reached the ADC's full scale: over range, their samples clipped
        if cyc:
            ok = dn[D_LOCK]
        else:
            ok = n == sampler.state[S_FIXED] and not self._voltage()
        if sat & 7:
            ok = 0  # a voltage beyond 1000 V peak: every element, line voltage and F may be wrong: a transition
        self.complete = 1 if ok else 0
        flags = self.complete | (0 if self.syss else _F_STAR) | (_F_SYNC if cyc else 0) | (_F_T if self._tok else 0)
        # a current channel near full scale of its range, or at the ADC's (Ia Ib Ic In: D_SAT bits 3-6): its
        # quantities are not measured in this window (published as read: firmware/inputflags.py flags them)
        clip = dn[D_CLIP] | ((sat >> 3) & 15)
        measured(w, self.gate, self.mask, self.slots, flags, clip)
        mk = self.mask
        for k in range(len(ANGLES)):
            mk[self.aslots[k]] = mk[self.slots[_PFA + k]]  # an angle is measured where its PF is
        if ok and not clip:
            self._status()
        _scatter(self.vals, self.slots, w, ws.OUTPUTS, len(OUT))
        self._angles()
        dn[D_READY] = 0
        self.windows += 1
        return 1

    def _front_end(self, step):
        """The ADC's sinc3 and the anti-alias RC divided out (docs/metering.md): G_1 = 1 / |H(f1)| at the
        frequency of the NCO step (the window's own when synchronised), GG = G_1^2 for P and Q, FK = G_1^2 x the
        harmonic rms factors for the mean squares, PX the harmonic P excess (powers.element)."""
        w = self.w
        g = ws.TMP  # G_1 - 1, then 1
        g2 = ws.TMP + 1  # G_1 + 1
        sf32conv.from_int(w, g, droop.gain(tables.DROOP, step))  # G_1 - 1 in Q24
        sf32.fmul2(w, g, g, -24)
        sf32conv.from_int(w, g2, 2)
        sf32.fadd(w, g2, g2, g)
        sf32.fmul(w, ws.GGM, g, g2)  # G^2 - 1 = (G - 1)(G + 1)
        sf32conv.from_int(w, g, 1)
        sf32.fadd(w, ws.GG, ws.GGM, g)
        _copy(w, ws.FK, self.kap, 0, NKAP)  # FK then PX
        for k in range(_NRMS):
            sf32.fmul(w, ws.FK + k, ws.FK + k, ws.GG)

    def _root(self, d, ms, k):
        # d = sqrt(max(ms, 0)) * k (noise can make a DC-removed mean square of a silent channel negative)
        w = self.w
        if sf32conv.fsign(w, ms) > 0:
            sf32.fsqrt(w, d, ms)
            sf32.fmul(w, d, d, k)
        else:
            sf32.fcopy(w, d, ws.ZERO)

    def _below(self, d, th):
        # values under the threshold read 0; returns 1 when d is (then) 0
        w = self.w
        if sf32conv.fcmp(w, d, th) < 0:
            sf32.fcopy(w, d, ws.ZERO)
            return 1
        return 0

    def _rms(self, e):
        """Channel rms, line voltages per wiring, thresholds (IST, U_TH) and the element gates."""
        w = self.w
        fmul = sf32.fmul
        fsub = sf32.fsub
        fcopy = sf32.fcopy
        ms = ws.TMP  # a mean square (x the front end's factor)
        sq = ws.TMP + 1  # gain^2 x a mean square (line voltages)
        m = ws.MEANS
        gate = self.gate
        for p in range(3):
            fmul(w, ms, ws.MS + p, ws.FK + p)
            self._root(ws.UCH + p, ms, ws.KU + p)
            self._below(ws.UCH + p, ws.UTH)
            fmul(w, ms, ws.MS + 3 + p, ws.FK + 6 + p)
            self._root(ws.O_I + p, ms, ws.KI + p)
            sf32.fmul2(w, ws.O_I + p, ws.O_I + p, e)
            off = self._below(ws.O_I + p, ws.IST)
            gate[p] = 0 if off or sf32conv.fsign(w, ws.UCH + p) == 0 else 1
        # line voltages: (ga ua - gb ub)^2 = ga^2 ua^2 + gb^2 ub^2 - 2 ga gb ua ub, all with DC removed
        for j in range(3):
            if self.syss and j < 2:
                # 2LL: B is the common terminal, so channel a carries Uab and channel c carries Ucb (|Ubc|)
                fcopy(w, ws.O_UL + j, ws.UCH + 2 * j)
                continue
            a, b = PAIRS[j]
            fmul(w, ms, m + P_X + a, m + P_X + b)
            fsub(w, ms, m + P_UU + j, ms)
            fmul(w, ms, ms, ws.GX + j)
            fmul(w, sq, ws.MS + a, ws.G2 + a)
            fsub(w, ms, sq, ms)
            fmul(w, sq, ws.MS + b, ws.G2 + b)
            sf32.fadd(w, ms, ms, sq)
            fmul(w, ms, ms, ws.FK + 3 + j)
            self._root(ws.O_UL + j, ms, ws.KUL)
            self._below(ws.O_UL + j, ws.UTH)
        for p in range(3):
            if self.syss:
                fcopy(w, ws.O_U + p, ws.ZERO)  # no neutral: phase voltages are not measured
            else:
                fcopy(w, ws.O_U + p, ws.UCH + p)
        if self.syss:
            gate[1] = 0  # two elements only

    def _extras(self, sampler, e, dft):
        """I_N (vector sum; 0 in three-wire modes), I_N_m (neutral channel), averages, temperature."""
        w = self.w
        fadd = sf32.fadd
        fmul = sf32.fmul
        if self.syss:
            sf32.fcopy(w, ws.O_IN, ws.ZERO)
        else:
            if dft:
                self._neutral()
            else:
                fmul(w, ws.TMP, ws.MS + 7, ws.FK + 9)
                self._root(ws.O_IN, ws.TMP, ws.KIS)
            sf32.fmul2(w, ws.O_IN, ws.O_IN, e)
            self._below(ws.O_IN, ws.IST)
        fmul(w, ws.TMP, ws.MS + 6, ws.FK + 9)  # the neutral CT carries the same sum ia + ib + ic
        self._root(ws.O_IN + 1, ws.TMP, ws.KIN)
        sf32.fmul2(w, ws.O_IN + 1, ws.O_IN + 1, e)
        self._below(ws.O_IN + 1, ws.IST)
        for k in range(3):  # averages of U (phase), UL (line), I
            a = ws.O_U + 3 * k
            d = ws.O_AVG + k
            fadd(w, d, a, a + 1)
            fadd(w, d, d, a + 2)
            fmul(w, d, d, ws.THIRD)
        k = pt100.degrees(tables.PT100, sampler.state[S_TCODE])
        self._tok = 1 if k >= 0 else 0
        sf32conv.from_int(w, ws.O_T, 0 if k < 0 else pt100.T_LO + k)

    def _neutral(self):
        """The vector sum with the calibration: the fundamental from the phasors of Ia Ib Ic, each with its gain and
        lag corrected (X = S + jC, true = X g exp(j lag)); the harmonic rest from the raw sum ia + ib + ic (the
        sample sums cannot carry per-channel corrections), times the mean gain."""
        w = self.w
        fadd = sf32.fadd
        fsub = sf32.fsub
        fmul = sf32.fmul
        cor = ws.TMP  # the corrected phasor sum: re, then im at cor + 1; later its |.|^2, then the total
        raw = ws.TMP + 2  # the raw phasor sum ia + ib + ic: re, then im at raw + 1; later the harmonic rest
        x = ws.TMP + 4  # products
        y = ws.TMP + 5
        m = ws.MEANS
        z = ws.ZERO
        for k in range(4):
            sf32.fcopy(w, cor + k, z)  # corrected re, im; raw re, im
        for k in range(3):
            s = m + P_S + 3 + k
            c = m + P_C + 3 + k
            fadd(w, raw, raw, s)
            fadd(w, raw + 1, raw + 1, c)
            fmul(w, x, s, ws.CG + k)
            fmul(w, y, c, ws.SG + k)
            fsub(w, x, x, y)
            fadd(w, cor, cor, x)
            fmul(w, x, s, ws.SG + k)
            fmul(w, y, c, ws.CG + k)
            fadd(w, x, x, y)
            fadd(w, cor + 1, cor + 1, x)
        for k in (0, 2):  # |.|^2 of the corrected (cor) and the raw (raw = cor + 2) sums, x 2 / 32767^2
            v = cor + k  # (a tuple of the two names would be built at run time: an allocation)
            fmul(w, v, v, v)
            fmul(w, v + 1, v + 1, v + 1)
            fadd(w, v, v, v + 1)
            fmul(w, v, v, ws.K2)
        fsub(w, raw, ws.MS + 7, raw)  # harmonic rest of the raw sum
        if sf32conv.fsign(w, raw) < 0:
            sf32.fcopy(w, raw, z)
        fmul(w, raw, raw, ws.GAV2)
        fadd(w, cor, cor, raw)
        fmul(w, cor, cor, ws.FK + 9)
        self._root(ws.O_IN, cor, ws.KIU)

    def _angles(self):
        """Phase angles (SDM630 0x0024..0x0028, 0x0042): how far the fundamental current lags its voltage,
        atan2(Q1, P1) per element from the phase-corrected fundamental powers (0 for a gated element: both 0);
        the total from the sums of Q1 and P1. Per phase 0 in three-wire modes (the elements are line pairs).
        Where Q has no direction (the dead band, firmware/deadband.py) the angle reads positive (metering_codes.fold)."""
        w = self.w
        ang = ws.TMP  # 4: the angles of a, b, c and the total (ANGLES order, for _scatter)
        p1 = ws.TMP + 4  # the sum of the elements' P1
        q1 = ws.TMP + 5  # the sum of their Q1
        for p in range(3):
            if self.syss:
                sf32.fcopy(w, ang + p, ws.ZERO)
            else:
                angle.degrees(w, ang + p, ws.EQ1 + p, ws.EP1 + p)
        sf32.fadd(w, p1, ws.EP1, ws.EP1 + 1)  # element b is cleared in three-wire modes
        sf32.fadd(w, p1, p1, ws.EP1 + 2)
        sf32.fadd(w, q1, ws.EQ1, ws.EQ1 + 1)
        sf32.fadd(w, q1, q1, ws.EQ1 + 2)
        angle.degrees(w, ang + 3, q1, p1)
        fold(w, ang, self.dirs)
        _scatter(self.vals, self.aslots, w, ang, len(ANGLES))

    def _voltage(self):
        # 1 when a voltage channel or line voltage could be the sampler's reference (>= U_REF)
        w = self.w
        for k in range(3):
            if sf32conv.fcmp(w, ws.UCH + k, ws.UREF) >= 0 or sf32conv.fcmp(w, ws.O_UL + k, ws.UREF) >= 0:
                return 1
        return 0

    def _status(self):
        """Directions of P and Q per element and total with the dead band (firmware/deadband.py: enter above
        max(K_ON x S, FLOOR x Pt_U x Ct_I), leave below half of it), then the quadrant of the total (1 P+Q+,
        2 P-Q+, 3 P-Q-, 4 P+Q-; 0 without load or on an axis: P or Q without a direction) and the load nature per
        phase and total (NAT_L in quadrants 1 and 3, NAT_C in 2 and 4, a P without direction counting as import;
        NAT_NONE while Q has no direction). Complete windows only: a transition holds the last codes."""
        w = self.w
        for k in range(4):
            sf32.fmul(w, ws.DB + k, ws.O_S + k, ws.DBK)
        directions(w, self.dirs, self.status)
