# SPDX-License-Identifier: MIT
# Energy registers: exact integer accumulators fed once per metering window from the sampler's integer sums plus
# metering's correction term (active) and the window's fundamental Q (reactive); pulses follow. No allocation.
from array import array

import micropython
from micropython import const

from firmware import limbs, sf32
from firmware.kernel import D_FE, D_FS, D_ISH, D_N, D_SEQ, D_W, P_UI

# Internal unit: F = 2**-40 Wh. Registers: Wh (0.001 kWh / kvarh) = accumulator >> 40.
FRAC = const(40)
NL = const(8)  # limbs per accumulator: 120 bits = 2**80 Wh of headroom
# Accumulators (primary side), NL limbs each.
EP_IMP = const(0)
EP_EXP = const(1)
EQ_IMP = const(2)  # positive reactive: Q > 0 (inductive in Q1, DESIGN.md 4: quadrants I and II)
EQ_EXP = const(3)  # negative reactive: Q < 0 (quadrants III and IV)
PH = const(4)  # phase p: PH + 4p + (0 P import, 1 P export, 2 Q+, 3 Q-)
NPQ = const(16)  # the active and reactive accumulators above
ES = const(16)  # apparent energy: total S (VA, primary) x time, booked like Q (SDM630 0x0050, kVAh)
AH = const(17)  # ampere-hours x 1000: (Ia + Ib + Ic) x time in mAh (SDM630 0x0052, Ah)
NQ = const(18)
_NQ_V1 = const(16)  # accumulators in an energy record written before ES and AH existed
# Register rows of the ENERGY block this module publishes (periods and times follow, see regmap)
NAMES = ("EP_imp", "EP_exp", "EP_total", "EP_net", "EQ_imp", "EQ_exp", "EQ_total", "EQ_net",
         "EPa_imp", "EPa_exp", "EQa_imp", "EQa_exp", "EPb_imp", "EPb_exp", "EQb_imp", "EQb_exp",
         "EPc_imp", "EPc_exp", "EQc_imp", "EQc_exp", "ES", "AH")
_ES_ROW = const(46)  # ENERGY block rows of ES and AH (after the periods and RTime, LTime)
# Workspace (limbs)
_T0 = const(0)  # 5: |window sum|, or mantissa (2) and length (2)
_T1 = const(8)  # 10: products
_D = const(20)  # 5: the item's secondary increment (F units)
_POS = const(26)  # 5: sum of positive phase increments
_NEG = const(32)  # 5: ... and of negative ones
_X = const(38)  # 5: |POS - NEG|
_PR = const(44)  # 8: primary product
_LQ = const(52)  # 2: window length, Q15 samples
_S = const(56)  # 8: scratch for publish
_NET = const(64)  # 8
_C = const(72)  # 5: |correction| of P (metering's EC) over the window (F units)
_WK = const(77)
# Parameters (limbs)
_G = const(0)  # 3 x 2: round(gain_u * gain_i * 2**33 / 9)
_PT = const(6)  # 2: Pt_U * Ct_I
_PUL = const(8)  # 1: pulse constant (imp/kWh, secondary)
_CQ = const(9)  # 2: round(2**54 / 28.8e6): var x Q15-samples -> F units (x 2**-29 after the exponent)
_TH = const(11)  # 8: one kWh in F units (the pulse threshold, scaled by the constant in the bucket)
_TS = const(19)  # 8: save threshold (F units, primary)
_PAR = const(27)
# Float workspace
_FPT = const(3)  # Pt_U * Ct_I as float32
_FQ = const(4)  # 3: secondary Q per phase
_FIST = const(7)  # IST in primary amperes
_FC = const(8)  # 3: secondary P correction per phase
_FS = const(11)  # S, then Ia + Ib + Ic (x 1000: mA)
_FK = const(12)  # 1000.0

# One Q15 unit of sum(u*i) (reduced codes, 8-bit current shift) is 1/(9 * 2**52) Wh: 1000 V and 25 A per 2**15
# codes, 2**-15 for Q15, 1/8000 s per sample (25000 / 2**45 / 28.8e6 = 1 / (1152 * 2**45)). So F units =
# sum * gains * 2**33/9 >> 45 (+2 per bit less of current shift).
_SH_P = const(45)
_SH_Q = const(179)  # var * 2**(e-150) * Lq * CQ * 2**-29 ... -> F: shift by 179 - e


class Energy:
    def __init__(self):
        self.acc = array("i", bytes(4 * NQ * NL))
        self.wk = array("i", bytes(4 * _WK))
        self.par = array("i", bytes(4 * _PAR))
        self.bucket = array("i", bytes(4 * 2 * NL))  # pulse buckets P, Q: F units x pulse constant
        self.unsaved = array("i", bytes(4 * NL))  # primary |P| energy since the last save (F units)
        self.gen = array("i", [0, 0])  # pulses generated since start-up, P and Q (wrap at 2**32)
        self.fw = array("f", [0.0] * 13)
        self.fw[_FK] = 1000.0
        self.gate = bytearray(b"\x01\x01\x01")  # per phase: current above IST (energy counts)
        self.enabled = bytearray(b"\x01\x01\x01")  # per phase: part of the wiring (2LL: a and c)
        self.ext_gate = None  # a per-phase bytearray from metering (IST), when it has one
        self.islots = bytearray(3)
        self.sslot = 0
        self.qslots = bytearray(3)
        self.qsrc = None  # array('f') holding the per-phase fundamental Q at qslots (None: vals)
        self.csrc = None  # metering's workspace: the per-element P correction at cslot + p (None: not bound)
        self.cslot = 0
        self.windows = 0
        self.missed = 0  # windows the sampler closed that this module never saw (D_SEQ gaps)
        self._seq = -1
        self.rtime = 0  # seconds of running (small ints: 2**30 s = 34 years)
        self.ltime = 0  # seconds with current above IST on any phase
        limbs.from_int(self.par, _CQ, 2, round(2**54 / 28.8e6))
        limbs.from_int(self.par, _TH, NL, 1000 << FRAC)
        self.configure(1, 1)

    def slots(self, slot):
        """slot: name -> vals index (regmap.slot): without bind(), Q and I come from vals."""
        for p in range(3):
            self.islots[p] = slot(("Ia", "Ib", "Ic")[p])
            self.qslots[p] = slot(("Qa", "Qb", "Qc")[p])
        self.sslot = slot("S")

    def bind(self, metering):
        """Take the element gates (IST, voltage present; 2LL: elements a and c) and the per-element fundamental
        Q (float32, primary, phase-corrected; also in 2LL where per-phase Q reads 0) and the per-element P
        correction (P minus its raw u*i part: phase correction, DC product) from metering."""
        from firmware import workspace

        self.ext_gate = metering.gate
        self.qsrc = metering.w
        self.csrc = metering.w
        self.cslot = workspace.EC
        for p in range(3):
            self.qslots[p] = workspace.EQ1 + p

    def configure(self, pt, ct, cal=None, syss=0, pulse=3200, ist_ma=10, un=220, rated_i=5):
        """Ratios, 7 gain factors (Ua..In, metering's cal), wiring, pulse constant, IST. Allocates."""
        p = self.par
        for k in range(3):
            g = 1.0 if cal is None else cal[k] * cal[3 + k]
            limbs.from_int(p, _G + 2 * k, 2, int(round(g * 2**33 / 9)))
            self.enabled[k] = 0 if (syss and k == 1) else 1
        limbs.from_int(p, _PT, 2, pt * ct)
        if p[_PUL] != pulse:
            limbs.zero(self.bucket, 0, 2 * NL)  # a remainder in the old constant's scale means nothing now
        p[_PUL] = pulse
        self.fw[_FPT] = float(pt * ct)
        self.fw[_FIST] = ist_ma * ct / 1000.0
        full = (3 * un * rated_i) if syss == 0 else (1732 * un * rated_i) // 1000
        wh = max(10, full * pt * ct // 60)  # 60 s of rated load, at least 0.01 kWh (primary)
        self.save_wh = wh
        limbs.from_int(p, _TS, NL, wh << FRAC)

    # --- per window: allocation-free -------------------------------------------------------------------------
    def window(self, dn, vals):
        """Book the window in the sampler's done buffer `dn` (metering has just put its Q, I and gates out)."""
        seq = dn[D_SEQ]
        if self._seq >= 0 and seq - self._seq > 1:
            self.missed += seq - self._seq - 1
        self._seq = seq
        wk = self.wk
        par = self.par
        fw = self.fw
        gate = self.ext_gate
        if gate is None:
            gate = self.gate
            for k in range(3):
                gate[k] = _above(vals, self.islots[k], fw, _FIST)
        lq = (dn[D_N] << 15) - dn[D_FS] + dn[D_FE]
        wk[_LQ] = lq & 0x7FFF
        wk[_LQ + 1] = lq >> 15
        sh = _SH_P + 8 - dn[D_ISH]
        # active: |sum u*i| * gains >> shift per phase, signed by the sum, plus metering's correction of P (phase
        # correction, DC product: float32 x length exactly, as Q below); booked by the sign of the result (P's)
        limbs.zero(wk, _POS, 12)
        csrc = self.csrc
        for k in range(3):
            if gate[k] and self.enabled[k]:
                neg = limbs.from_i64(dn, D_W + 2 * (P_UI + k), wk, _T0)
                limbs.mul(wk, _T0, 5, par, _G + 2 * k, 2, wk, _T1)
                limbs.shr(wk, _T1, 7, sh, wk, _D, 5)
                if csrc is not None:
                    _copy_word(fw, _FC + k, csrc, self.cslot + k)
                    cneg = self._fint(_FC + k, _C)
                    if cneg == neg:
                        limbs.add(wk, _D, 5, wk, _C, 5)
                    elif limbs.cmp(wk, _D, wk, _C, 5) >= 0:
                        limbs.sub(wk, _D, wk, _C, 5)
                    else:
                        limbs.sub(wk, _C, wk, _D, 5)
                        limbs.copy(wk, _D, wk, _C, 5)
                        neg = cneg
                self._book(PH + 4 * k + neg, neg)
        self._total(EP_IMP, 0)
        # reactive: the window's fundamental Q (float32, primary) / (Pt Ct) * length, exactly in integers
        limbs.zero(wk, _POS, 12)
        for k in range(3):
            if gate[k] and self.enabled[k]:
                _copy_word(fw, _FQ + k, vals if self.qsrc is None else self.qsrc, self.qslots[k])
                neg = self._fint(_FQ + k, _D)
                if not limbs.is_zero(wk, _D, 5):
                    self._book(PH + 4 * k + 2 + neg, neg)
        self._total(EQ_IMP, 1)
        # apparent energy and ampere-hours: the window's total S and Ia + Ib + Ic (float32, primary; 0 below IST)
        # x length, exactly in integers as Q (no pulses, no import/export: both only grow)
        _copy_word(fw, _FS, vals, self.sslot)
        self._fint(_FS, _D)
        self._book_to(ES)
        isl = self.islots
        _copy_word(fw, _FS, vals, isl[0])
        _copy_word(fw, _FQ, vals, isl[1])  # _FQ is free again: Q is booked
        sf32.fadd(fw, _FS, _FS, _FQ)
        _copy_word(fw, _FQ, vals, isl[2])
        sf32.fadd(fw, _FS, _FS, _FQ)
        sf32.fmul(fw, _FS, _FS, _FK)
        self._fint(_FS, _D)
        self._book_to(AH)
        self.windows += 1

    def _fint(self, j, d):
        """|fw[j] (float32, primary W or var) / (Pt Ct) x window length| in F units into 5 limbs at wk[d], exactly
        from the float32 (mantissa x Lq x CQ >> (179 - e), floor); returns 1 when fw[j] is negative."""
        wk = self.wk
        fw = self.fw
        _fdiv(fw, j, j, _FPT)
        e = limbs.f32_mag(fw, j, wk, _T0)
        neg = 0
        if e < 0:
            neg = 1
            e = -e
        if e:
            limbs.mul(wk, _T0, 2, wk, _LQ, 2, wk, _T1)
            limbs.mul(wk, _T1, 4, self.par, _CQ, 2, wk, _T0 + 2)
            limbs.shr(wk, _T0 + 2, 6, _SH_Q - e, wk, d, 5)
        else:
            limbs.zero(wk, d, 5)
        return neg

    def _book(self, q, neg):
        wk = self.wk
        limbs.mul(wk, _D, 5, self.par, _PT, 2, wk, _PR)
        limbs.add(self.acc, q * NL, NL, wk, _PR, 7)
        limbs.add(wk, _NEG if neg else _POS, 5, wk, _D, 5)

    def _book_to(self, q):
        # the secondary increment at _D, times Pt Ct, into accumulator q (no totals, no pulses)
        wk = self.wk
        limbs.mul(wk, _D, 5, self.par, _PT, 2, wk, _PR)
        limbs.add(self.acc, q * NL, NL, wk, _PR, 7)

    def _total(self, q, ch):
        # the window's total: |sum of the phases| to import or export; the pulse bucket and unsaved get it too
        wk = self.wk
        par = self.par
        c = limbs.cmp(wk, _POS, wk, _NEG, 5)
        if c >= 0:
            limbs.copy(wk, _X, wk, _POS, 5)
            limbs.sub(wk, _X, wk, _NEG, 5)
        else:
            limbs.copy(wk, _X, wk, _NEG, 5)
            limbs.sub(wk, _X, wk, _POS, 5)
            q += 1
        limbs.mul(wk, _X, 5, par, _PT, 2, wk, _PR)
        limbs.add(self.acc, q * NL, NL, wk, _PR, 7)
        if ch == 0:
            limbs.add(self.unsaved, 0, NL, wk, _PR, 7)
        b = self.bucket
        limbs.mul(wk, _X, 5, par, _PUL, 1, wk, _PR)
        limbs.add(b, ch * NL, NL, wk, _PR, 6)
        while limbs.cmp(b, ch * NL, par, _TH, NL) >= 0:
            limbs.sub(b, ch * NL, par, _TH, NL)
            self.gen[ch] += 1

    # --- once a second: allocation-free ----------------------------------------------------------------------
    def second(self):
        self.rtime += 1
        g = self.ext_gate if self.ext_gate is not None else self.gate
        if g[0] or g[1] or g[2]:
            self.ltime += 1

    def save_due(self):
        return limbs.cmp(self.unsaved, 0, self.par, _TS, NL) >= 0

    def publish(self, img, off):
        """The 20 energy registers (uint64 Wh, high word first) into img from byte offset off."""
        acc = self.acc
        wk = self.wk
        for j in range(2):
            a = (EP_IMP + 2 * j) * NL
            o = off + 32 * j
            _pub(acc, a, img, o, wk)
            _pub(acc, a + NL, img, o + 8, wk)
            limbs.copy(wk, _S, acc, a, NL)
            limbs.add(wk, _S, NL, acc, a + NL, NL)
            _pub(wk, _S, img, o + 16, wk)
            if limbs.cmp(acc, a, acc, a + NL, NL) >= 0:
                limbs.copy(wk, _S, acc, a, NL)
                limbs.sub(wk, _S, acc, a + NL, NL)
            else:
                limbs.copy(wk, _S, acc, a + NL, NL)
                limbs.sub(wk, _S, acc, a, NL)
            _pub(wk, _S, img, o + 24, wk)
        for q in range(PH, NPQ):
            _pub(acc, q * NL, img, off + 64 + 8 * (q - PH), wk)
        _pub(acc, ES * NL, img, off + 8 * _ES_ROW, wk)
        _pub(acc, AH * NL, img, off + 8 * (_ES_ROW + 1), wk)

    def wh(self, name):
        """A register's value in Wh / varh as a Python int (display, tests; allocates)."""
        k = NAMES.index(name)
        acc = self.acc
        if k < 8:
            j = k // 4
            imp = limbs.to_int(acc, (2 * j) * NL, NL)
            exp = limbs.to_int(acc, (2 * j + 1) * NL, NL)
            v = (imp, exp, imp + exp, abs(imp - exp))[k % 4]
        else:
            v = limbs.to_int(acc, (PH + k - 8) * NL, NL)
        return v >> FRAC

    def clear(self):
        limbs.zero(self.acc, 0, NQ * NL)
        limbs.zero(self.unsaved, 0, NL)
        self.rtime = 0
        self.ltime = 0

    def saved(self):
        limbs.zero(self.unsaved, 0, NL)

    # --- persistence (record "energy"; allocates) --------------------------------------------------------------
    def to_bytes(self):
        out = bytearray(8 + 2 * (NQ + 2) * NL)
        _put32(out, 0, self.rtime)
        _put32(out, 4, self.ltime)
        limbs.pack16(out, 8, self.acc, 0, NQ * NL)  # a viper loop: the power-fail save has ~10 ms of CPU
        limbs.pack16(out, 8 + 2 * NQ * NL, self.bucket, 0, 2 * NL)
        return out

    def from_bytes(self, b):
        # a record from before ES and AH (16 accumulators) loads too: those two start from 0
        nq = NQ if b is not None and len(b) == 8 + 2 * (NQ + 2) * NL else _NQ_V1
        if b is None or len(b) != 8 + 2 * (nq + 2) * NL:
            return False
        self.rtime = _get32(b, 0)
        self.ltime = _get32(b, 4)
        limbs.zero(self.acc, 0, NQ * NL)
        for k in range(nq * NL):
            self.acc[k] = (b[8 + 2 * k] | (b[9 + 2 * k] << 8)) & limbs.MASK
        o = 8 + 2 * nq * NL
        for k in range(2 * NL):
            self.bucket[k] = (b[o + 2 * k] | (b[o + 1 + 2 * k] << 8)) & limbs.MASK
        return True


def _pub(a, ai, img, off, wk):
    limbs.shr(a, ai, NL, FRAC, wk, _NET, 5)
    limbs.put_u64(wk, _NET, img, off)


def _put32(b, o, v):
    for i in range(4):
        b[o + i] = (v >> (8 * i)) & 0xFF


def _get32(b, o):
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)


_fdiv = sf32.fdiv


@micropython.viper
def _copy_word(d: ptr32, di: int, s: ptr32, si: int):
    d[di] = s[si]


@micropython.viper
def _above(v: ptr32, k: int, f: ptr32, j: int) -> int:
    """1 when float32 v[k] >= f[j] (both non-negative: their bit patterns order like the values)."""
    a = v[k]
    if (a >> 31) & 1:
        return 0  # negative (only -0.0 can occur): below any threshold
    if a >= f[j]:
        return 1
    return 0
