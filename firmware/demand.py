# SPDX-License-Identifier: MIT
# Demand: P, Q, S, Ia, Ib, Ic averaged over a sliding window of DM_P minutes moved every DM_S minutes, and the
# maximum demand with its date and time (cLr_DM clears it). Integer sums per subinterval; store record "demand".
#
# Why integers: each metering window adds value x window length (samples) as a 64-bit sum per subinterval, so
# no float accumulates across windows or subintervals; floats appear only when a subinterval closes (soft
# float32, allocation-free: it runs inside Meter.feed via each_second).
# Only known values count (metering's mask, KNOWN): a window that was a transition adds neither value nor time;
# the maximum demand is taken only over a whole DM_P of whole subintervals.
from array import array

import micropython
from micropython import const

from firmware import limbs, regmap, sf32, sf32conv
from firmware.bufs import copy8
from firmware.frontend import SAMPLE_RATE
from firmware.history import History
from firmware.metering_codes import KNOWN
from firmware.words import WORD_MASK

NQ = const(9)  # P Q S Ia Ib Ic P_imp P_exp I_N (regmap.DMD_Q order)
_NQ_V1 = const(6)  # quantities in a record written before P_imp, P_exp and I_N
NSUB = const(60)  # subintervals kept: DM_P / DM_S <= 60
_SLACK = const(8000)  # samples a whole subinterval may differ from DM_S minutes (windows end off the minute)
_FULL = const(0x3FFFFFFF)  # 2**30 - 1: a window's value in units of full scale / 2**30 (to_int's range)
NAMES = ("P", "Q", "S", "Ia", "Ib", "Ic", "P_imp", "P_exp", "I_N")
_SRC = ("P", "Q", "S", "Ia", "Ib", "Ic", "P", "P", "I_N")  # the measurement each one averages ...
_PART = b"\x00\x00\x00\x00\x00\x00\x01\x02\x00"  # ... whole (0), its positive part (1) or negative part (2)
# workspace slots (array('f'))
_K = const(0)  # NQ: integer units per W / var / VA / A (primary side)
_V = const(9)  # NQ: the window's values scaled
_D = const(18)  # NQ: present demand
_M = const(27)  # NQ: maximum demand (_D + NQ: the record keeps them in this order)
_T = const(36)  # temporaries
_HALF = const(39)
_WS = const(40)


@micropython.viper
def _add(acc: ptr32, a: int, v: int, n: int):
    """acc[a], acc[a+1] (64-bit lo, hi) += v * n for |v| < 2**30, 0 <= n < 2**12: the product is built from
    15-bit halves of v (each partial product < 2**27), so the words are the same on 32- and 64-bit ports."""
    m = int(WORD_MASK)
    neg = 0
    if v < 0:
        neg = 1
        v = 0 - v
    ph = (v >> 15) * n
    pl = (v & 0x7FFF) * n
    t = (ph << 15) & m
    lo = (t + pl) & m
    hi = ph >> 17
    if uint(lo) < uint(t):
        hi += 1
    if neg:  # two's complement of the 64-bit product
        lo = (0 - lo) & m
        if lo != 0:
            hi = 0 - hi - 1
        else:
            hi = 0 - hi
    x = acc[a] & m
    s = (x + lo) & m
    h2 = acc[a + 1] + hi
    if uint(s) < uint(x):
        h2 += 1
    acc[a] = s
    acc[a + 1] = h2


@micropython.viper
def _sum(acc: ptr32, first: int, count: int, stride: int, out: ptr32):
    """out[0], out[1] = the 64-bit sum of the pairs acc[first + j * stride] for j < count."""
    m = int(WORD_MASK)
    lo = 0
    hi = 0
    j = 0
    a = first
    while j < count:
        x = acc[a] & m
        s = (lo + x) & m
        if uint(s) < uint(lo):
            hi += 1
        hi += acc[a + 1]
        lo = s
        a += stride
        j += 1
    out[0] = lo
    out[1] = hi


class Demand(History):
    """window(vals, n) after each metering window (allocation-free); second(ymd, hms) once per second (closes
    a subinterval on the clock's DM_S-minute boundaries); cmd_write for cLr_DM; service()/power_down() save."""

    RECORD = "demand"

    def __init__(self, vals, clock, store=None, image=None, config=None, mask=None):
        """mask: metering's per-slot MEAS | KNOWN bytes of the window in vals (Metering.mask); None: every value
        counts as known (callers that fill vals themselves)."""
        History.__init__(self, vals, clock, store, image, config)
        self.slots = bytearray(NQ)
        for k in range(NQ):
            self.slots[k] = regmap.slot(_SRC[k])
        if mask is None:
            mask = bytearray(b"\x03" * regmap.N_MEAS)
        self.mask = mask
        self.w = array("f", bytes(4 * _WS))
        self.w[_HALF] = 0.5
        self.cur = array("i", bytes(4 * 2 * NQ))  # running subinterval: 64-bit sums
        self.ring = array("i", bytes(4 * 2 * NQ * NSUB))  # completed subintervals, 64-bit sums each
        self.cnt = array("i", bytes(4 * NQ * NSUB))  # known samples per quantity per completed subinterval
        self.known = array("i", bytes(4 * NQ))  # known samples per quantity of the running subinterval
        self.total = array("i", bytes(4 * NQ))  # known samples per quantity in the ring (60 minutes: 28.8e6)
        self.whole = bytearray(NSUB)  # 1: that completed subinterval lasted DM_S minutes (within _SLACK)
        self.wholes = 0  # whole subintervals in the ring
        self.tmp = array("i", bytes(8))
        self.ts = array("i", bytes(4 * 2 * NQ))  # (date, time) of each maximum; date 0 = none yet
        self.samples = 0  # of the running subinterval
        self.head = 0  # next ring slot
        self.full = 0  # completed subintervals in the ring (<= nsub)
        self.nsub = 15
        self.sub_min = 1
        self.ratio = 1  # Pt_U x Ct_I the ring was measured with
        self.configure(1, 1, 15, 1)
        if store is not None:
            self.load()
        self.publish()

    def configure(self, pt, ct, period, sub):
        """Ratios (the integer units follow the primary-side full scale) and DM_P / DM_S in minutes. A change of
        any of them restarts the sliding window (the maxima stay): subintervals measured under other ratios or
        periods are not mixed into the next demand (docs/demand.md). Allocates."""
        w = self.w
        full_p = 75000.0 * pt * ct  # 3 x 1000 V x 25 A: every P, Q, S the front end can see
        full_i = 25.0 * ct
        for k in range(NQ):
            w[_K + k] = _FULL / (full_i if NAMES[k][0] == "I" else full_p)
        nsub = period // sub if sub > 0 else 1
        if nsub != self.nsub or sub != self.sub_min or pt * ct != self.ratio:
            self.nsub = max(1, min(NSUB, nsub))
            self.sub_min = sub
            self.ratio = pt * ct
            self.restart()

    def restart(self):
        """Empty the sliding window (the maxima stay). The 1,656 words in viper (limbs.zero): element by element
        in Python this was 1.6 M cycles on the RP2040 (13 ms, the longest service() call after a ratio change)."""
        limbs.zero(self.ring, 0, 2 * NQ * NSUB)
        limbs.zero(self.cur, 0, 2 * NQ)
        limbs.zero(self.cnt, 0, NQ * NSUB)
        limbs.zero(self.known, 0, NQ)
        limbs.zero(self.total, 0, NQ)
        w = self.whole
        for k in range(NSUB):
            w[k] = 0
        self.wholes = 0
        self.samples = 0
        self.head = 0
        self.full = 0

    # --- hot path ---------------------------------------------------------------------------------------------
    def window(self, n):
        """Add the window just metered (n samples long) to the running subinterval: each quantity whose value is
        known in it (mask). Allocation-free."""
        w = self.w
        mask = self.mask
        for k in range(NQ):
            s = self.slots[k]
            if not mask[s] & KNOWN:
                continue
            _load(w, _T, self.vals, s)
            sf32.fmul(w, _V + k, _T, _K + k)
            if sf32conv.fsign(w, _V + k) < 0:  # round to nearest (to_int truncates)
                sf32.fsub(w, _V + k, _V + k, _HALF)
            else:
                sf32.fadd(w, _V + k, _V + k, _HALF)
            v = sf32conv.to_int(w, _V + k)
            part = _PART[k]
            if (part == 1 and v < 0) or (part == 2 and v > 0):
                v = 0  # import demand averages P while importing, 0 while exporting; export the reverse
            elif part == 2:
                v = -v
            _add(self.cur, 2 * k, v, n)
            self.known[k] += n
        self.samples += n

    def second(self, hms):
        """Once per second with the clock's hhmmss: at hh:mm:00 with mm a multiple of DM_S the subinterval ends
        and the demand is recomputed. Allocation-free."""
        if hms % 100 != 0 or ((hms // 100) % 100) % self.sub_min != 0:
            return 0
        if self.samples == 0:
            return 0
        self.close()
        return 1

    def close(self):
        """End the running subinterval: push it into the ring, recompute the demand (the mean over the known
        samples of each quantity), track the maxima once the ring holds DM_P / DM_S whole subintervals."""
        h = self.head
        # viper copies: a Python read of a 32-bit word >= 2**30 makes a big int on the chip (31-bit small ints)
        limbs.copy(self.ring, 2 * NQ * h, self.cur, 0, 2 * NQ)
        limbs.zero(self.cur, 0, 2 * NQ)
        for k in range(NQ):
            j = NQ * h + k
            self.total[k] += self.known[k] - self.cnt[j]  # the slot's old subinterval leaves the window
            self.cnt[j] = self.known[k]
            self.known[k] = 0
        # whole: the subinterval lasted DM_S minutes (not the one running at power-up, a restart or a clock set)
        d = self.samples - self.sub_min * 60 * SAMPLE_RATE
        whole = 1 if -_SLACK <= d <= _SLACK else 0
        self.wholes += whole - self.whole[h]
        self.whole[h] = whole
        self.samples = 0
        self.head = (h + 1) % self.nsub
        if self.full < self.nsub:
            self.full += 1
        track = self.wholes >= self.nsub
        w = self.w
        for k in range(NQ):
            if self.total[k] == 0:
                continue  # nothing known over the whole window: the demand stays as it was
            sf32conv.from_int(w, _T + 1, self.total[k])
            _sum(self.ring, 2 * k, self.full, 2 * NQ, self.tmp)
            sf32conv.from_i64(w, _T, self.tmp, 0)
            sf32.fdiv(w, _T, _T, _T + 1)
            sf32.fdiv(w, _D + k, _T, _K + k)
            if track and (self.ts[2 * k] == 0 or sf32conv.fcmp(w, _D + k, _M + k) > 0):
                sf32.fcopy(w, _M + k, _D + k)
                self.ts[2 * k] = self.clock.ymd
                self.ts[2 * k + 1] = self.clock.hms
                self.dirty = True
        self.publish()

    def publish(self):
        # the DEMAND block: demands then maxima of the first six quantities, then of the other three (regmap)
        img = self.image
        if img is not None:
            v = self._v
            sf32conv.copy_be(self.w, _D, _NQ_V1, img, v)
            sf32conv.copy_be(self.w, _M, _NQ_V1, img, v + 4 * _NQ_V1)
            sf32conv.copy_be(self.w, _D + _NQ_V1, NQ - _NQ_V1, img, v + 8 * _NQ_V1)
            sf32conv.copy_be(self.w, _M + _NQ_V1, NQ - _NQ_V1, img, v + 4 * (NQ + _NQ_V1))
            sf32conv.copy_be(self.ts, 0, 2 * NQ, img, self._t)

    def clear(self):
        """cLr_DM: forget the maxima (the present demand goes on)."""
        for k in range(2 * NQ):
            self.ts[k] = 0
        for k in range(NQ):
            self.w[_M + k] = 0.0
        self.dirty = True
        self.publish()

    def value(self, k):
        """Present demand k (NAMES order) as a float (UI; allocates)."""
        return self.w[_D + k]

    def maximum(self, k):
        return self.w[_M + k]

    def source(self, name):
        """A callable for PQM demand page row `name` (Dmd_P, MaxDmd_P; MaxDmd_P_D / _T: text), or None."""
        w = self.w
        i = regmap.DEMAND.find(name)  # 6 demands, their 6 maxima, then 3 and 3
        if i >= 0:
            j, mx = regmap.dmd_q(i)
            j += _M if mx else _D
            return lambda: w[j]
        return self.stamp_source(regmap.DEMAND_T, name)  # (date, time) per maximum demand

    # --- persistence (allocates) ------------------------------------------------------------------------------
    def load(self):
        data = self.store.load(self.RECORD)
        # a record from before P_imp, P_exp and I_N (6 quantities) loads too: the new ones start from 0
        nq = NQ if data is not None and len(data) == 4 * 4 * NQ else _NQ_V1
        if data is None or len(data) != 4 * 4 * nq:
            return False
        f = array("f", bytes(4 * 2 * nq))
        copy8(f, 0, data, 0, 8 * nq)
        for k in range(nq):
            self.w[_D + k] = f[k]
            self.w[_M + k] = f[nq + k]
        copy8(self.ts, 0, data, 8 * nq, 8 * nq)
        return True

    def record(self):
        f = array("f", [self.w[_D + k] for k in range(2 * NQ)])
        return bytes(f) + bytes(self.ts)


@micropython.viper
def _load(w: ptr32, d: int, src: ptr32, s: int):
    w[d] = src[s]


