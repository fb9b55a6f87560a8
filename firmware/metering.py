# The metering update: one closed window of integer sums (firmware/sampler.py) -> U, I, P, Q, S, PF, F as
# float32 slots of `vals`, with soft float32 (firmware/sf32.py) on preallocated slots: no allocation per window.
from array import array

import micropython
from micropython import const

from firmware import frontend, regmap, sf32
from firmware.sampler import D_CYC, D_FE, D_FS, D_ISH, D_LOCK, D_N, D_READY, D_W, NP, P_C, P_S, P_UI, P_UU, P_X, P_XX

# Outputs in this order are computed into the workspace, then copied to their regmap slots.
OUT = ("Ua", "Ub", "Uc", "Uab", "Ubc", "Uca", "Ia", "Ib", "Ic", "Pa", "Pb", "Pc", "P", "Qa", "Qb", "Qc", "Q",
       "Sa", "Sb", "Sc", "S", "PFa", "PFb", "PFc", "PF", "F")

# Workspace slots (array('f')).
_M = const(0)  # NP: window sums with the edges weighted, then divided by the window length (means)
_O = const(32)  # outputs, OUT order
_O_U = const(32)  # Ua Ub Uc
_O_UL = const(35)  # Uab Ubc Uca
_O_I = const(38)
_O_P = const(41)  # Pa Pb Pc P
_O_Q = const(45)
_O_S = const(49)
_O_PF = const(53)
_O_F = const(57)
_MS = const(60)  # 7: mean squares with DC removed (reduced codes^2)
_T = const(67)  # temporaries 67..71
_L = const(72)  # window length (samples)
_INVL = const(75)
_ZERO = const(76)
# constants set by configure()
_KU = const(80)  # 3: volts per reduced code, with calibration and Pt
_KI = const(83)  # 3: amperes per reduced code, with calibration and Ct
_KP = const(86)  # 3: KU * KI
_KQ = const(89)  # 3: KP * 2 / 32767**2 (DFT scale: Q15 table, rms = sqrt(2) * |X| / L)
_G2 = const(92)  # 3: voltage gain calibration squared (line voltages)
_GX = const(95)  # 3: 2 * ga * gb for the pairs ab bc ca
_KUL = const(98)  # volts per reduced code of a line voltage (Pt, gains already applied)
_W = const(100)
_SHORT = const(800)  # unsynchronised windows shorter than 100 ms are dropped (only when sync is acquired)

_U_CODE = frontend.U_FULL_SCALE / 32768  # a reduced code (24-bit code >> 8) in volts
_I_CODE = frontend.I_FULL_SCALE / 32768
_Q15 = 32767  # amplitude of the kernel's sine table

_PAIRS = ((0, 1), (1, 2), (2, 0))  # Uab Ubc Uca, with P_UU + j the cross sum of the pair


@micropython.viper
def _scatter(dst: ptr32, slots: ptr8, src: ptr32, a: int, n: int):
    """dst[slots[k]] = src[a + k] for k < n (raw float32 words)."""
    k = 0
    while k < n:
        dst[slots[k]] = src[a + k]
        k += 1


class Metering:
    """Turns a sampler's done buffer into measurements in vals (array('f'), regmap.MEASUREMENTS order)."""

    def __init__(self, vals, sampler=None):
        self.sampler = sampler  # or given to update(); update() applies the wiring to it
        self.vals = vals
        self.w = array("f", bytes(4 * _W))
        self.cal = array("f", [1.0] * 7)  # per-channel gain factors Ua Ub Uc Ia Ib Ic In
        self.slots = bytearray(len(OUT))
        for k in range(len(OUT)):
            self.slots[k] = regmap.slot(OUT[k])
        self.windows = 0  # windows metered so far
        self.syss = 0
        self.ishift = 8
        self.configure(1, 1, 0)

    def configure(self, pt, ct, syss, un=None, rated_i=None, cal=None):
        """Ratios Pt_U, Ct_I, wiring (0 3Ln3CT; 2LL3CT/2LL2CT still metered as 3Ln3CT), rated Un (not used yet)
        and In (1 A: the current channels get 4x the resolution and a 6.25 A peak range), optional 7 gain
        factors. Allocates (runs when settings change); precomputes what update() needs."""
        if cal is not None:
            for k in range(7):
                self.cal[k] = cal[k]
        c = self.cal
        w = self.w
        self.syss = syss
        self.ishift = 6 if rated_i == 1 else 8
        if self.sampler is not None:
            self.sampler.configure(syss, self.ishift)  # zero-crossing reference, current range
        for p in range(3):
            ku = _U_CODE * c[p] * pt
            ki = _I_CODE * c[3 + p] * ct
            w[_KU + p] = ku
            w[_KI + p] = ki
            w[_KP + p] = ku * ki
            w[_KQ + p] = ku * ki * 2 / (_Q15 * _Q15)
            w[_G2 + p] = c[p] * c[p]
            a, b = _PAIRS[p]
            w[_GX + p] = 2 * c[a] * c[b]
        w[_KUL] = _U_CODE * pt
        w[_ZERO] = 0.0

    def update(self, sampler=None):
        """Meter the window waiting in the sampler's done buffer, if any: returns 1 (values updated) or 0.
        No allocation."""
        if sampler is None:
            sampler = self.sampler
        if sampler.syss != self.syss or sampler.ishift != self.ishift:
            sampler.configure(self.syss, self.ishift)
        dn = sampler.done
        if not dn[D_READY]:
            return 0
        w = self.w
        fadd = sf32.fadd
        fsub = sf32.fsub
        fmul = sf32.fmul
        fdiv = sf32.fdiv
        fsqrt = sf32.fsqrt
        fi64 = sf32.from_i64
        fint = sf32.from_int
        n = dn[D_N]
        fs = dn[D_FS]
        fe = dn[D_FE]
        cyc = dn[D_CYC]
        if cyc == 0 and n < _SHORT:  # the stub before the first zero crossing: part of a cycle, not a value
            dn[D_READY] = 0
            return 0
        # window length L = n + (fe - fs) / 2**15 samples; means = weighted Q15 sums * 2**-15 / L
        fint(w, _L, (n << 15) - fs + fe)
        sf32.fmul2(w, _L, _L, -15)
        fint(w, _T, 1)
        fdiv(w, _INVL, _T, _L)
        sf32.fmul2(w, _T, _INVL, -15)
        for k in range(NP):
            fi64(w, _M + k, dn, D_W + 2 * k)
            fmul(w, _M + k, _M + k, _T)
        # mean squares without DC, rms per channel
        for c in range(7):
            fmul(w, _T, _M + P_X + c, _M + P_X + c)
            fsub(w, _MS + c, _M + P_XX + c, _T)
        e = dn[D_ISH] - 8  # current codes of this window are 2**e of the 25 A-scale codes KI is made for
        for p in range(3):
            fsqrt(w, _O_U + p, _MS + p)
            fmul(w, _O_U + p, _O_U + p, _KU + p)
            fsqrt(w, _O_I + p, _MS + 3 + p)
            fmul(w, _O_I + p, _O_I + p, _KI + p)
            sf32.fmul2(w, _O_I + p, _O_I + p, e)
        # line voltages: (ga ua - gb ub)^2 = ga^2 ua^2 + gb^2 ub^2 - 2 ga gb ua ub, all with DC removed
        for j in range(3):
            a, b = _PAIRS[j]
            fmul(w, _T, _M + P_X + a, _M + P_X + b)
            fsub(w, _T, _M + P_UU + j, _T)
            fmul(w, _T, _T, _GX + j)
            fmul(w, _T + 1, _MS + a, _G2 + a)
            fsub(w, _T, _T + 1, _T)
            fmul(w, _T + 1, _MS + b, _G2 + b)
            fadd(w, _T, _T, _T + 1)
            fsqrt(w, _T, _T)
            fmul(w, _O_UL + j, _T, _KUL)
        # fundamental Q only when the NCO matched the window's frequency (a synchronised window right after
        # the start or a frequency jump keeps the previous Q; an unsynchronised one has no voltage to lock to)
        self._powers(cyc == 0 or dn[D_LOCK], e)
        # frequency: whole cycles over the interpolated window length (0 without synchronisation)
        if cyc:
            fint(w, _T, cyc * frontend.SAMPLE_RATE)
            fdiv(w, _O_F, _T, _L)
        else:
            sf32.fcopy(w, _O_F, _ZERO)
        _scatter(self.vals, self.slots, w, _O, len(OUT))
        dn[D_READY] = 0
        self.windows += 1
        return 1

    def _powers(self, dft, e):
        """3Ln3CT: per-phase P (DC removed), fundamental Q from the DFT sums, S = U I, PF = P / S; totals.
        (The two-element method of 2LL3CT/2LL2CT goes here as a sibling.)"""
        w = self.w
        fadd = sf32.fadd
        fsub = sf32.fsub
        fmul = sf32.fmul
        fdiv = sf32.fdiv
        for p in range(3):
            u = P_X + p
            i = P_X + 3 + p
            fmul(w, _T, _M + u, _M + i)
            fsub(w, _T, _M + P_UI + p, _T)
            fmul(w, _O_P + p, _T, _KP + p)
            sf32.fmul2(w, _O_P + p, _O_P + p, e)
            # Q1 = Im(U1 conj I1) = 2 (Cu Si - Su Ci) / L^2 with C = sum x cos, S = sum x sin (+ inductive)
            if dft:
                fmul(w, _T, _M + P_C + p, _M + P_S + 3 + p)
                fmul(w, _T + 1, _M + P_S + p, _M + P_C + 3 + p)
                fsub(w, _T, _T, _T + 1)
                fmul(w, _O_Q + p, _T, _KQ + p)
                sf32.fmul2(w, _O_Q + p, _O_Q + p, e)
            fmul(w, _O_S + p, _O_U + p, _O_I + p)
            if sf32.fsign(w, _O_S + p) > 0:
                fdiv(w, _O_PF + p, _O_P + p, _O_S + p)
            else:
                sf32.fcopy(w, _O_PF + p, _ZERO)
        fadd(w, _O_P + 3, _O_P, _O_P + 1)
        fadd(w, _O_P + 3, _O_P + 3, _O_P + 2)
        fadd(w, _O_Q + 3, _O_Q, _O_Q + 1)
        fadd(w, _O_Q + 3, _O_Q + 3, _O_Q + 2)
        fadd(w, _O_S + 3, _O_S, _O_S + 1)
        fadd(w, _O_S + 3, _O_S + 3, _O_S + 2)
        if sf32.fsign(w, _O_S + 3) > 0:
            fdiv(w, _O_PF + 3, _O_P + 3, _O_S + 3)
        else:
            sf32.fcopy(w, _O_PF + 3, _ZERO)
