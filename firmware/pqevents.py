# Voltage dips, swells and interruptions per phase (issue 12) from the per-window RMS the meter already computes:
# thresholds and hysteresis in % of Un (CONFIG dIP, SWEL, Int, HYSt), start, duration, extreme; counters.
from array import array

import micropython
from micropython import const

from firmware import regmap
from firmware.words import SIGN_BIT

NORMAL = const(0)
LOW = const(1)  # below the dip threshold (a dip, or an interruption if its residual fell below Int)
HIGH = const(2)  # above the swell threshold
DIP = const(0)  # counter rows: kind * 3 + phase
SWELL = const(1)
INTERRUPTION = const(2)
_SETTLE = const(5)  # windows skipped after power-up (partial windows, and 0 V before the first one)
_PENDING = const(8)  # finished events waiting for the event log


@micropython.viper
def _step(vals: ptr32, sl: ptr8, th: ptr32, st: ptr8, ext: ptr32, dur: ptr32, dt: int) -> int:
    """One window for 3 phases. th: float32 bits of dip on/off, swell on/off levels (V). Bits 0-2 of the result:
    an event started on that phase; bits 4-6: one ended (its extreme in ext, its samples in dur)."""
    h = int(SIGN_BIT)
    r = 0
    p = 0
    while p < 3:
        x = vals[sl[p]]
        s = x & h
        v = x ^ s
        if s:
            v = 0 - v
        d_on = th[0]
        d_off = th[1]
        w_on = th[2]
        w_off = th[3]
        e = st[p]
        if e == 0:
            if v < d_on:
                st[p] = 1
                ext[p] = x
                dur[p] = dt
                r |= 1 << p
            elif v > w_on:
                st[p] = 2
                ext[p] = x
                dur[p] = dt
                r |= 1 << p
        elif e == 1:
            if v >= d_off:
                st[p] = 0
                r |= 16 << p
            else:
                dur[p] += dt
                if v < ext[p]:
                    ext[p] = x
        else:
            if v <= w_off:
                st[p] = 0
                r |= 16 << p
            else:
                dur[p] += dt
                if v > ext[p]:
                    ext[p] = x
        p += 1
    return r


class VoltageEvents:
    """window(dt) after each metered window (allocation-free); finished events wait in a small queue (take())
    for the event log; counters per kind and phase in block pq_n."""

    def __init__(self, vals, clock, image=None):
        self.vals = vals
        self.clock = clock
        self.image = image
        self.sl = bytearray((0, 1, 2))  # Ua Ub Uc; Uab Ubc Uca in the 2LL wirings
        self.th = array("f", bytes(16))  # dip on, dip off, swell on, swell off (V, primary)
        self.int_v = array("f", bytes(4))  # the interruption threshold (V): a LOW event whose residual is below
        self.st = bytearray(3)
        self.ext = array("f", bytes(12))  # residual or maximum, V
        self.dur = array("i", bytes(12))  # samples
        self.t0 = array("i", bytes(24))  # start (YYYYMMDD, hhmmss) per phase
        self.n = array("i", bytes(36))  # counters: dips a b c, swells a b c, interruptions a b c
        # finished events: phase, kind, extreme (V), duration (samples), start date, time
        self.q_pk = bytearray(2 * _PENDING)
        self.q_ext = array("f", bytes(4 * _PENDING))
        self.q_i = array("i", bytes(12 * _PENDING))
        self.queued = 0
        self.dropped = 0
        self.windows = 0
        self._off = 2 * regmap.block("pq_n")[0]

    def configure(self, syss, un, pt, dip, swell, intr, hys):
        """Un (V, the rated phase voltage in 3Ln3CT, line voltage in 2LL) x Pt_U; thresholds in % of it."""
        self.sl = bytearray((0, 1, 2) if syss == 0 else (3, 4, 5))
        u = un * pt / 100.0
        self.th[0] = dip * u
        self.th[1] = (dip + hys) * u
        self.th[2] = swell * u
        self.th[3] = (swell - hys) * u
        self.int_v[0] = intr * u
        for p in range(3):
            self.st[p] = NORMAL

    def window(self, dt):
        self.windows += 1
        if self.windows <= _SETTLE:
            return 0
        r = _step(self.vals, self.sl, self.th, self.st, self.ext, self.dur, dt)
        if r:
            c = self.clock
            for p in range(3):
                if (r >> p) & 1:
                    self.t0[2 * p] = c.ymd
                    self.t0[2 * p + 1] = c.hms
                if (r >> (4 + p)) & 1:
                    self._finish(p)
            self.publish()
        return r

    def _finish(self, p):
        # a LOW event (ext below the dip level) is an interruption when its residual fell below Int
        low = _below(self.ext, p, self.th, 0)
        kind = SWELL if not low else (INTERRUPTION if _below(self.ext, p, self.int_v, 0) else DIP)
        self.n[3 * kind + p] += 1
        k = self.queued
        if k >= _PENDING:
            self.dropped += 1
            return
        self.q_pk[2 * k] = p
        self.q_pk[2 * k + 1] = kind
        _copy(self.q_ext, k, self.ext, p)
        self.q_i[3 * k] = self.dur[p]
        self.q_i[3 * k + 1] = self.t0[2 * p]
        self.q_i[3 * k + 2] = self.t0[2 * p + 1]
        self.queued = k + 1

    def take(self):
        """Finished events, oldest first, as (phase, kind, extreme V, duration samples, ymd, hms); empties the
        queue (the journal, outside the hot paths)."""
        out = [(self.q_pk[2 * k], self.q_pk[2 * k + 1], self.q_ext[k], self.q_i[3 * k], self.q_i[3 * k + 1],
                self.q_i[3 * k + 2]) for k in range(self.queued)]
        self.queued = 0
        return out

    def publish(self):
        img = self.image
        if img is None:
            return
        o = self._off
        for k in range(9):
            v = self.n[k]
            img[o + 4 * k] = (v >> 24) & 0xFF
            img[o + 4 * k + 1] = (v >> 16) & 0xFF
            img[o + 4 * k + 2] = (v >> 8) & 0xFF
            img[o + 4 * k + 3] = v & 0xFF


@micropython.viper
def _below(a: ptr32, i: int, b: ptr32, j: int) -> bool:
    # float32 a[i] < b[j], both positive or zero (volts)
    return int(a[i]) < int(b[j])


@micropython.viper
def _copy(dst: ptr32, i: int, src: ptr32, j: int):
    dst[i] = src[j]
