# SPDX-License-Identifier: MIT
# Voltage dips, swells and interruptions per phase from the one-cycle RMS refreshed every half cycle
# (firmware/cyclerms.py: IEC 61000-4-30's U_rms(1/2), which also finds the level crossings): the levels from the
# thresholds and hysteresis in % of Un (CONFIG dIP, SWEL, Int, HYSt), events with start, duration, extreme; counters.
from array import array

import micropython
from micropython import const

from firmware import regmap, sf32, sf32conv
from firmware import workspace as ws
from firmware.cyclerms import (C_ARMED, C_BAD, C_CLOSES, C_EVLOST, C_EVN, C_EVQ, C_HEAD, C_NEW, C_POLL, C_RING,
                               C_TH, CLOSE_MASK, R_JUDGED, R_NEW, R_VOID, RING)

NORMAL = const(0)
LOW = const(1)  # below the dip threshold (a dip, or an interruption if its residual fell below Int)
HIGH = const(2)  # above the swell threshold
DIP = const(0)  # counter rows: kind * 3 + phase
SWELL = const(1)
INTERRUPTION = const(2)
_SETTLE = const(3)  # metered windows before detection starts: the NCO at the line's frequency, the scale known
_EVERY = const(5)  # windows between refreshes of the levels once detecting
_PENDING = const(24)  # finished events waiting for their verdict and the event log (~2 windows, a service() call)
_J_VOID = const(1)  # q_pk flags: judged off frequency (cyclerms R_VOID)
_J_DONE = const(2)  # the verdict is complete (cyclerms R_JUDGED)
_J_ENV = const(4)  # its extreme lies where an NCO mismatch can move a healthy sine (_ENV_LO, _ENV_HI): voidable
# The envelope, in mean squares x 64 of the dip level (dip, down) and the swell level (swell, up): a one-cycle
# RMS whose window spans L line cycles (DC removed) reads 67.2-110.3 % of a sine's RMS for L in 2/3..3/2 (all
# phases), 87.3-108.0 % for a 60 -> 50 Hz step (L 5/6), 96.2-103.2 % at the rule's 1/16; a voltage in the normal
# state lies between the two levels. 23/64 is 0.5995^2 (windows of 0.615 line cycles and more: a step down to
# 0.615 x the frequency, 65 -> 40 Hz), 85/64 is 1.1524^2 (no length reads above 110.3 %). docs/events.md.
_ENV_LO = const(23)
_ENV_HI = const(85)
N_ROWS = const(11)  # block pq_n: 9 counters, events lost (queues full), events void (off frequency)
_NT = const(5)  # levels per phase (ring units, cyclerms C_TH): dip on, dip off, swell on, swell off, interruption
# fw (array('f')) slots
_K = const(0)  # 3: volts per reduced code of each phase's quantity (metering's KU, or KUL for Uca)
_FK = const(3)  # 3: the front end's gain and the harmonic factor metering applies to its mean square
_F = const(6)  # 3: volts^2 per ring unit: K^2 x FK x 16
_UN2 = const(9)  # (Un x Pt_U)^2
_T = const(10)
_MAX = const(11)  # 2**27: the largest Un^2 in ring units kept (far beyond full scale)
_FW = const(12)


@micropython.viper
def _levels(th: ptr32, t: int, ref: int, pct: ptr32):
    # th[t + k] = ref x pct[k] / 2**14 (ref below 2**27, pct below 2**16: no product reaches 2**31)
    k = 0
    while k < _NT:
        g = int(pct[k])
        th[t + k] = (ref >> 14) * g + (((ref & 0x3FFF) * g) >> 14)
        k += 1


@micropython.viper
def _pick(d: ptr32, w: ptr32, sel: ptr8):
    # d[k] = w[sel[k]] for the 6 factors (raw float32 words)
    k = 0
    while k < 6:
        d[k] = w[sel[k]]
        k += 1


@micropython.viper
def _copy(dst: ptr32, i: int, src: ptr32, j: int):
    dst[i] = src[j]


class VoltageEvents:
    """window() after each metered window sets the CycleRms levels from metering's scale; poll() stamps the
    starts and turns the end records into finished events (both allocation-free); these wait in a small queue
    for their verdict (take(): not logged when measured off the line's frequency) and the event log; counters
    per kind and phase, events lost and void in block pq_n."""

    def __init__(self, cycle, w, clock, image=None):
        """cycle: the sampler's firmware.cyclerms.CycleRms; w: metering's workspace (array('f')): its KU, KUL,
        FK, G2 and GX slots turn ring units into volts as metering turns its window sums into U."""
        self.cycle = cycle
        self.cs = cycle.cs
        self.w = w
        self.clock = clock
        self.image = image
        self.sel = bytearray(6)  # workspace slots of K (3) and FK (3) of the phases
        self.fw = array("f", bytes(4 * _FW))
        self.pct = array("i", bytes(4 * _NT))  # the levels' squares in Q14 of Un^2
        self.t0 = array("i", bytes(24))  # start (YYYYMMDD, hhmmss) per phase
        self.n = array("i", bytes(36))  # counters: dips a b c, swells a b c, interruptions a b c
        # finished events: phase, kind, flags; extreme (V); duration (samples), start date, time, C_CLOSES at start
        self.q_pk = bytearray(3 * _PENDING)
        self.q_ext = array("f", bytes(4 * _PENDING))
        self.q_i = array("i", bytes(16 * _PENDING))
        self.queued = 0
        self.dropped = 0  # finished events that found the queue full (lost to the log)
        self.voided = 0  # events judged off frequency: not logged
        self.windows = 0
        self._off = 2 * regmap.block("pq_n")[0]
        self.fw[_MAX] = float(1 << 27)

    def configure(self, syss, un, pt, dip, swell, intr, hys):
        """Un (V, the rated phase voltage in 3Ln3CT, line voltage in 2LL) x Pt_U; levels in % of it. Runs after
        metering.configure (its gains). Allocates."""
        w = self.w
        if syss == 0:
            sel = (ws.KU, ws.KU + 1, ws.KU + 2, ws.FK, ws.FK + 1, ws.FK + 2)
        else:  # Uab (channel a), Ubc (channel c), Uca (both: line scale)
            sel = (ws.KU, ws.KU + 2, ws.KUL, ws.FK + 3, ws.FK + 4, ws.FK + 5)
        for k in range(6):
            self.sel[k] = sel[k]
        self.cycle.configure(syss, w[ws.G2], w[ws.G2 + 2], w[ws.GX + 2])
        u = un * pt
        self.fw[_UN2] = u * u
        for k, x in enumerate((dip, dip + hys, swell, swell - hys, intr)):
            self.pct[k] = int(x * x * 16384 / 10000 + 0.5)
        if self.windows:
            self._refresh()

    def window(self):
        """After each metered window: the levels in ring units from its scale (calibration, Pt_U, the front
        end's gain at its frequency, the harmonic factors), at every window until detection starts (after
        _SETTLE windows), then every _EVERY-th (they move by 1e-4 from window to window; 0.6 ms on the RP2040)."""
        n = self.windows + 1
        self.windows = n
        if n <= _SETTLE + 1 or n % _EVERY == 0:
            self._refresh()
        self.cs[C_ARMED] = 1 if n > _SETTLE else 0

    def _refresh(self):
        fw = self.fw
        _pick(fw, self.w, self.sel)
        for p in range(3):
            f = _F + p
            sf32.fmul(fw, f, _K + p, _K + p)
            sf32.fmul(fw, f, f, _FK + p)
            sf32.fmul2(fw, f, f, 4)  # x 16: a ring unit is 16 codes^2
            if sf32conv.fsign(fw, f) > 0:
                sf32.fdiv(fw, _T, _UN2, f)
                if sf32conv.fcmp(fw, _T, _MAX) > 0:
                    sf32.fcopy(fw, _T, _MAX)
                _levels(self.cs, C_TH + _NT * p, sf32conv.to_int(fw, _T), self.pct)

    def poll(self):
        """After a fed block in which a state began or ended (cs[C_POLL]: the meter checks it): a start is stamped
        with the clock now (the block's: every start of the block is seen here, none is queued), an end becomes
        a finished event waiting for its verdict (take()). Allocation-free."""
        cs = self.cs
        cs[C_POLL] = 0
        clk = self.clock
        t0 = self.t0
        for j in range(cs[C_EVN]):
            k = C_EVQ + 4 * j
            r = cs[k]
            p = r & 3
            if r & R_NEW:  # it began in this block too
                self._finish(p, r, cs[k + 1], cs[k + 2], clk.ymd, clk.hms, cs[k + 3])
            else:
                self._finish(p, r, cs[k + 1], cs[k + 2], t0[2 * p], t0[2 * p + 1], cs[k + 3])
        cs[C_EVN] = 0
        b = cs[C_NEW]
        if b:
            cs[C_NEW] = 0
            for p in range(3):
                if (b >> p) & 1:
                    t0[2 * p] = clk.ymd
                    t0[2 * p + 1] = clk.hms

    def _finish(self, p, r, e, dur, ymd, hms, s0):
        # below the dip level (state 1): an interruption when the residual fell below Int, else a dip
        t = C_TH + _NT * p
        cs = self.cs
        kind = SWELL if (r >> 4) & 3 == 2 else (INTERRUPTION if e < cs[t + 4] else DIP)
        # voidable: a dip not deeper than 0.6 x the dip level, a swell not above 1.15 x the swell level (levels
        # below 2**28.2 (SWEL 150 %, Un^2 at most 2**27): (level >> 6) x 85 stays below 2**30, a small int)
        env = 0
        if kind == DIP:
            env = _J_ENV if e >= (cs[t] >> 6) * _ENV_LO else 0
        elif kind == SWELL:
            env = _J_ENV if e <= (cs[t + 2] >> 6) * _ENV_HI else 0
        k = self.queued
        if k >= _PENDING:
            self.dropped += 1
            return
        fw = self.fw
        sf32conv.from_int(fw, _T, e)  # volts = sqrt(ring units x volts^2 per unit)
        sf32.fmul(fw, _T, _T, _F + p)
        sf32.fsqrt(fw, _T, _T)
        _copy(self.q_ext, k, fw, _T)
        self.q_pk[3 * k] = p
        self.q_pk[3 * k + 1] = kind
        self.q_pk[3 * k + 2] = (_J_VOID if r & R_VOID else 0) | (_J_DONE if r & R_JUDGED or not env else 0) | env
        self.q_i[4 * k] = dur
        self.q_i[4 * k + 1] = ymd
        self.q_i[4 * k + 2] = hms
        self.q_i[4 * k + 3] = s0
        self.queued = k + 1

    def take(self, final=False):
        """Finished events whose verdict is in, oldest first, as (phase, kind, extreme V, duration samples, ymd,
        hms); the journal calls it (outside the hot paths: allocates). An event is void, and not logged, when the
        window in which its state began, or the next one, was judged off frequency at its close (cyclerms
        rebase(): its half cycles were not half cycles of the line, so its one-cycle RMS was not the line's) AND
        its extreme lies where such a window can move a healthy sine: a dip whose residual is at least 0.6 x the
        dip level, a swell whose maximum is at most 1.15 x the swell level. An interruption, a deeper dip, a
        higher swell is never void (the reference phase's interruption is itself a window off frequency: the
        kernel misses its crossings). A voidable event ended before those two closes waits for them (at most two
        windows, ~0.4 s); the others need no verdict. final (power-down):
        every event waiting goes out with what is known. Counters (pq_n) count the events handed out."""
        cs = self.cs
        cur = cs[C_CLOSES]
        bad = cs[C_BAD]
        q, qi = self.q_pk, self.q_i
        out = []
        k = 0
        while k < self.queued:
            f = q[3 * k + 2]
            void = f & _J_VOID
            if not f & _J_DONE:
                a = (cur - qi[4 * k + 3]) & CLOSE_MASK  # closes since the start: s + 1 is bit a - 1 of C_BAD
                if a < 2 and not final:
                    break  # in order: this one and the later ones wait
                for b in (a - 1, a - 2):
                    if 0 <= b < 30 and (bad >> b) & 1:
                        void = 1
            p, kind = q[3 * k], q[3 * k + 1]
            if void and f & _J_ENV:
                self.voided += 1
            else:
                self.n[3 * kind + p] += 1
                out.append((p, kind, self.q_ext[k], qi[4 * k], qi[4 * k + 1], qi[4 * k + 2]))
            k += 1
        if k:
            n = self.queued - k
            for j in range(n):  # the waiting ones to the front
                for x in range(3):
                    q[3 * j + x] = q[3 * (j + k) + x]
                for x in range(4):
                    qi[4 * j + x] = qi[4 * (j + k) + x]
                self.q_ext[j] = self.q_ext[j + k]
            self.queued = n
        self.publish()
        return out

    def lost(self):
        """Events found but not logged because a queue was full (the crossing records of one block, or the
        events waiting for the log): counted, never misdated."""
        return self.cs[C_EVLOST] + self.dropped

    def rms(self, p, age=0):
        """The one-cycle RMS (V) of phase p in the ring's age-th newest entry (0: the last half cycle), with the
        last window's scale. For tests and tools: allocates."""
        e = C_RING + 4 * ((self.cs[C_HEAD] - 1 - age) & (RING - 1))
        return (self.cs[e + p] * self.fw[_F + p]) ** 0.5

    def publish(self):
        img = self.image
        if img is None:
            return
        o = self._off
        for k in range(N_ROWS):
            v = self.n[k] if k < 9 else (self.lost() if k == 9 else self.voided)
            img[o + 4 * k] = (v >> 24) & 0xFF
            img[o + 4 * k + 1] = (v >> 16) & 0xFF
            img[o + 4 * k + 2] = (v >> 8) & 0xFF
            img[o + 4 * k + 3] = v & 0xFF
