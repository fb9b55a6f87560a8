# SPDX-License-Identifier: MIT
# Energy per calendar period: this month / last month / the month before, today / yesterday / the day before,
# for EP_imp EP_exp EQ_imp EQ_exp. "This" = accumulator - snapshot at the period's start; rolls over by the clock.
from array import array

from micropython import const

from firmware import limbs
from firmware.clock import day_number
from firmware.energy import FRAC, NL

NQ4 = const(4)  # EP_imp EP_exp EQ_imp EQ_exp: the first four energy accumulators
_W = const(32)  # limbs per period (4 quantities)
# period slots in `v`: snapshots of the day and month start, then the closed periods
_SNAP_DAY = const(0)
_SNAP_MON = const(1)
_L_DAY = const(2)
_B_DAY = const(3)
_L_MON = const(4)
_B_MON = const(5)
_NSLOT = const(6)
# Register order (ENERGY block after the 20 energy rows): each period's EP_imp EP_exp EQ_imp EQ_exp
PERIODS = ("TMon", "LMon", "BMon", "TDay", "LDay", "BDay")
# (written out: a tuple made by code at import would live in RAM; case_regmap checks it against the map)
NAMES = ("EP_imp_TMon", "EP_exp_TMon", "EQ_imp_TMon", "EQ_exp_TMon", "EP_imp_LMon", "EP_exp_LMon", "EQ_imp_LMon",
         "EQ_exp_LMon", "EP_imp_BMon", "EP_exp_BMon", "EQ_imp_BMon", "EQ_exp_BMon", "EP_imp_TDay", "EP_exp_TDay",
         "EQ_imp_TDay", "EQ_exp_TDay", "EP_imp_LDay", "EP_exp_LDay", "EQ_imp_LDay", "EQ_exp_LDay", "EP_imp_BDay",
         "EP_exp_BDay", "EQ_imp_BDay", "EQ_exp_BDay")
LCD = ("T Mon", "L Mon", "B Mon", "T Day", "L Day", "B Day")  # the manual's symbols


class Periods:
    def __init__(self, energy, ymd):
        self.energy = energy
        self.v = array("i", bytes(4 * _NSLOT * _W))
        self.s = array("i", bytes(4 * (_W + 8)))  # scratch
        self.ymd = ymd  # the day the running periods belong to
        self.rolls = 0  # rollovers so far (the meter saves after one)

    def check(self, ymd):
        """Once a second with the clock's date; returns 1 when a day (or month) closed. Allocation-free unless
        the date changed (then only small ints)."""
        old = self.ymd
        if ymd == old:
            return 0
        g = day_number(ymd) - day_number(old)
        self._roll(_SNAP_DAY, _L_DAY, _B_DAY, g)
        gm = (ymd // 10000 * 12 + (ymd // 100) % 100) - (old // 10000 * 12 + (old // 100) % 100)
        if gm:
            self._roll(_SNAP_MON, _L_MON, _B_MON, gm)
        self.ymd = ymd
        self.rolls += 1
        return 1

    def _roll(self, snap, last, before, gap):
        # one step: before = last, last = this, this starts at the accumulator; more steps shift zeros in. A clock
        # set backwards (gap < 0) counts as one step: the period that was running is closed.
        v = self.v
        acc = self.energy.acc
        if gap < 1:
            gap = 1
        limbs.copy(v, before * _W, v, last * _W, _W)
        self._this(snap, v, last * _W)
        limbs.copy(v, snap * _W, acc, 0, _W)
        if gap >= 2:
            limbs.copy(v, before * _W, v, last * _W, _W)
            limbs.zero(v, last * _W, _W)
        if gap >= 3:
            limbs.zero(v, before * _W, _W)

    def _this(self, snap, dst, di):
        """dst[di..] = accumulators - snapshot (clipped at 0 for a snapshot newer than the energy record)."""
        v = self.v
        acc = self.energy.acc
        for q in range(NQ4):
            a = q * NL
            b = snap * _W + q * NL
            if limbs.cmp(acc, a, v, b, NL) >= 0:
                limbs.copy(dst, di + a, acc, a, NL)
                limbs.sub(dst, di + a, v, b, NL)
            else:
                limbs.zero(dst, di + a, NL)

    def restart(self):
        """After a clear: this day and month start now; closed periods are zero."""
        limbs.zero(self.v, 0, _NSLOT * _W)
        limbs.copy(self.v, _SNAP_DAY * _W, self.energy.acc, 0, _W)
        limbs.copy(self.v, _SNAP_MON * _W, self.energy.acc, 0, _W)

    def publish(self, img, off):
        """24 uint64 registers (Wh / varh) in PERIODS order from byte offset off. Allocation-free."""
        s = self.s
        for j in range(6):
            if j == 0 or j == 3:
                self._this(_SNAP_MON if j == 0 else _SNAP_DAY, s, 0)
                src = s
                si = 0
            else:
                src = self.v
                si = _SLOT[j] * _W
            for q in range(NQ4):
                limbs.shr(src, si + q * NL, NL, FRAC, s, _W, 5)
                limbs.put_u64(s, _W, img, off + 32 * j + 8 * q)

    def wh(self, j, q):
        """Period j (PERIODS order), quantity q (0..3) in Wh as a Python int (display, tests; allocates)."""
        if j == 0 or j == 3:
            self._this(_SNAP_MON if j == 0 else _SNAP_DAY, self.s, 0)
            return limbs.to_int(self.s, q * NL, NL) >> FRAC
        return limbs.to_int(self.v, _SLOT[j] * _W + q * NL, NL) >> FRAC

    # --- persistence (record "periods"; allocates) -------------------------------------------------------------
    def to_bytes(self):
        n = _NSLOT * _W
        out = bytearray(4 + 2 * n)
        y = self.ymd
        for i in range(4):
            out[i] = (y >> (8 * i)) & 0xFF
        limbs.pack16(out, 4, self.v, 0, n)
        return out

    def from_bytes(self, b):
        n = _NSLOT * _W
        if b is None or len(b) != 4 + 2 * n:
            return False
        self.ymd = b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)
        for k in range(n):
            self.v[k] = (b[4 + 2 * k] | (b[5 + 2 * k] << 8)) & limbs.MASK
        return True


_SLOT = bytes((0, _L_MON, _B_MON, 0, _L_DAY, _B_DAY))
