# SPDX-License-Identifier: MIT
# One-cycle RMS of the voltages refreshed every half cycle (IEC 61000-4-30's U_rms(1/2)) and its crossings of the
# dip and swell levels, from the sampling kernel's own 64-bit sums: no kernel change, no work per sample.
# Sampler.feed stops its span at each half-cycle boundary of the NCO and calls half(): the sums' growth since the
# last boundary is the half cycle. firmware/pqevents.py sets the levels and turns the crossings into events.
from array import array

import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

# cs (array('i')) layout. Quantities q: x of Ua Ub Uc (0-2), x*x (3-5), uc*ua (6, 2LL only); their kernel sums
# are state words 2k, 2k+1 with k = _KX + q, _KXX + q - 3, _KCA.
C_BASE = const(0)  # 7 pairs: the kernel's sums at the last boundary, less their growth before a window close since
C_SNAP = const(14)  # 7 pairs: the kernel's sums before the sample that may close a window (take())
C_EDGE = const(28)  # 7: the part of the last boundary's sample that belonged to the half cycle before it
C_SEG = const(35)  # 2 x 8: the last two half cycles: 7 sums (x: codes, products: 2**10 codes^2), length (Q10)
C_NSB = const(51)  # the kernel's sample count at the last boundary (less the window's before a close since)
C_NSS = const(52)  # the kernel's sample count before the sample that may close a window
C_A0 = const(53)  # weight (Q10) of the last boundary's sample that lay before the boundary
C_CUR = const(54)  # which C_SEG slot holds the newest half cycle
C_VALID = const(55)  # boundaries since reset, counted up to 2: from the third on each one measures a cycle
C_AHEAD = const(56)  # samples from the next block's start to the next boundary (Sampler.feed keeps it)
C_DC = const(57)  # 3: mean of each channel over the last cycle (Q4 codes)
C_STEP0 = const(60)  # the NCO step before the sample that may close a window (take())
C_VER = const(61)  # 1: the last synchronised close found the NCO at the window's frequency (within 1/16); 0 after reset
_RESET = const(62)  # reset() clears the words above; the ones below are settings and the detector
C_SYSS = const(62)  # 0: the phases are the channels; 1 (2LL): channel a (Uab), channel c (Ucb), and Uca
C_G2A = const(63)  # 2LL Uca = ga^2 ua^2 + gc^2 uc^2 - 2 ga gc ua uc: ga^2, gc^2, 2 ga gc (Q14; calibration)
C_G2C = const(64)
C_GX = const(65)
C_ARMED = const(66)  # 1: the levels are set, crossings are detected
C_TH = const(67)  # 3 x 5 levels (ring units): dip on, dip off, swell on, swell off, interruption (pqevents)
C_ST = const(82)  # 3: phase state 0 normal, 1 below the dip level, 2 above the swell level
C_EXT = const(85)  # 3: lowest (state 1) or highest (state 2) mean square since the state began
C_DUR = const(88)  # 3: samples since the state began
C_SCL = const(91)  # 3: C_CLOSES when the state began
C_NEW = const(94)  # bit p: phase p's state began since the last poll (its start not stamped yet)
C_VOID = const(95)  # bit p: a window judged off frequency (V_OFF) closed while phase p's state began or right after
C_POLL = const(96)  # 1: a state began or ended since the last poll (the meter checks this word after each block)
C_EVN = const(97)  # end records waiting for pqevents (C_EVQ[0 .. C_EVN - 1])
C_EVLOST = const(98)  # ends not recorded: the queue was full (events lost to the log; counted, never misdated)
C_HEAD = const(99)  # next ring entry to write
C_COUNT = const(100)  # ring entries written since a reader last cleared it (at most RING)
C_LOST = const(101)  # ring entries written while it was full (C_COUNT at RING)
C_CLOSES = const(102)  # window closes since power-up (modulo 2**30)
C_BAD = const(103)  # the last 30 closes, bit 0 the newest: 1 = that window was judged off frequency (V_OFF)
C_EVQ = const(104)  # EVQ end records of 4 words: phase | state << 4 | R_* flags, extreme, samples, C_SCL at start
EVQ = const(16)  # ends one poll can take: 4 a phase in a 400-sample block at 65 Hz (7 boundaries), x 3 phases
C_RING = const(168)  # RING entries of 4 words: mean square of the phases a b c (ring units), samples
RING = const(16)
C_SIZE = const(232)
R_NEW = const(64)  # record flags: the start lies in the block just fed (not stamped yet: poll() stamps it now)
R_VOID = const(128)  # a window judged off frequency closed while the state began or right after (C_VOID)
R_JUDGED = const(256)  # both closes after the start came before the end: R_VOID is the whole verdict
CLOSE_MASK = const(0x3FFFFFFF)  # C_CLOSES and C_SCL modulo 2**30
V_OFF = const(4)  # a synchronised close whose frequency is off the NCO's by more than step >> V_OFF (1/16)
UNIT = const(16)  # a mean square of 1 (a ring unit) is 16 reduced codes^2 (a code: 1000 V peak / 2**15, x Pt_U)

# the kernel's state words, sums and done word (firmware/kernel.py S_NS, S_PHASE, S_STEP, P_X, P_XX, P_UU + 2,
# D_CYC: imported names are objects in viper, hence copies; host_tests/test_pq_placement.py checks them)
_NS = const(132)
_PHASE = const(134)
_STEP = const(135)
_KX = const(0)
_KXX = const(7)
_KCA = const(19)
_DCYC = const(69)  # kernel.D_CYC: whole cycles in the closed window, 0 when it was not synchronised
_STEP_MIN = const(1 << 20)  # NCO step floor (0.002 Hz): no division by 0 whatever the state holds
_HALF_MAX = const(127)  # samples: a half cycle is at most 121 (33 Hz, the lowest the kernel synchronises to)


@micropython.viper
def take(st: ptr32, cs: ptr32):
    """Before run() takes the sample at which the span stopped (a window close, which clears the kernel's sums
    and retunes the NCO, or a current range widening, which leaves the voltages' sums alone): a copy of the sums
    and of the NCO step. rebase() follows a close."""
    q = 0
    while q < 7:
        if q < 3:
            w = 2 * (_KX + q)
        elif q < 6:
            w = 2 * (_KXX + q - 3)
        else:
            w = 2 * _KCA
        cs[C_SNAP + 2 * q] = st[w]
        cs[C_SNAP + 2 * q + 1] = st[w + 1]
        q += 1
    cs[C_NSS] = st[_NS]
    cs[C_STEP0] = st[_STEP]


@micropython.viper
def rebase(st: ptr32, cs: ptr32, dn: ptr32) -> int:
    """After a window close: the kernel's sums restarted (they hold the closing sample alone, not yet counted
    here), so the base moves down by what they held before it (exact, 64-bit). The window is judged: off
    frequency (a bit in C_BAD) when it was synchronised and its frequency differs from the NCO's that cut its
    half cycles by more than 1/16 (a step of the line's frequency; a phase jump of the reference and its return
    in the next window read 2 x jump / 3600 per 10 cycles: 1/16 is 112 degrees), or when it was not synchronised
    and no synchronised close since the last reset confirmed the NCO; a phase whose state began in this window or
    the one before is marked void (C_VOID). Returns the samples from the next
    one to the next boundary (the close may have retuned the NCO)."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    q = 0
    while q < 14:
        lo = cs[C_BASE + q]
        so = cs[C_SNAP + q]
        hi = ((cs[C_BASE + q + 1] ^ h) - h) - ((cs[C_SNAP + q + 1] ^ h) - h)
        if uint(lo) < uint(so):
            hi -= 1
        cs[C_BASE + q] = (lo - so) & m
        cs[C_BASE + q + 1] = hi
        q += 2
    cs[C_NSB] = ((cs[C_NSB] ^ h) - h) - int(cs[C_NSS])
    step = int(st[_STEP])
    bad = 0
    if dn[_DCYC]:
        old = int(cs[C_STEP0])  # both steps are below 2**31 (the NCO runs below 4 kHz)
        dd = step - old
        if dd < 0:
            dd = 0 - dd
        if dd > (old >> V_OFF):
            bad = 1
        cs[C_VER] = 1 - bad
    elif cs[C_VER] == 0:
        bad = 1
    cl = (int(cs[C_CLOSES]) + 1) & CLOSE_MASK
    cs[C_CLOSES] = cl
    cs[C_BAD] = ((int(cs[C_BAD]) << 1) | bad) & CLOSE_MASK
    if bad:
        c = 0
        while c < 3:
            if cs[C_ST + c]:
                a = (cl - int(cs[C_SCL + c])) & CLOSE_MASK
                if a == 1 or a == 2:
                    cs[C_VOID] = int(cs[C_VOID]) | (1 << c)
            c += 1
    if step < _STEP_MIN:
        step = _STEP_MIN
    d = ((h - 1) - (int(st[_PHASE]) & (h - 1))) // step + 1  # to the next multiple of 2**31 of the phase
    if d > _HALF_MAX:
        d = _HALF_MAX
    return d


@micropython.viper
def half(blk: ptr32, i: int, st: ptr32, cs: ptr32) -> int:
    """At the boundary straddled by sample i of blk (not yet summed by the kernel): closes the half cycle; from
    the third on, the cycle's mean squares (the last two half cycles, DC removed) go into the ring and, once
    armed, through the level crossings (a state's beginning: a C_NEW bit; its end: a record in C_EVQ).
    Returns the samples from i to the next boundary. No allocation; every intermediate below 2**31."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    step = int(st[_STEP])
    if step < _STEP_MIN:
        step = _STEP_MIN
    u = int(st[_PHASE]) & (h - 1)  # NCO phase past the boundary
    a = 0  # the part of sample i's interval (phase - step, phase] before the boundary, Q10
    if u < step:
        a = ((step - u) >> 11) * 1024 // (step >> 11)
        if a > 1024:
            a = 1024
    d = ((h - 1) - u) // step + 1  # samples to the next boundary
    if d > _HALF_MAX:
        d = _HALF_MAX
    b = i << 3
    x0 = (((blk[b] ^ h) - h) + 128) >> 8  # reduced as the kernel reduces them
    x1 = (((blk[b + 1] ^ h) - h) + 128) >> 8
    x2 = (((blk[b + 2] ^ h) - h) + 128) >> 8
    syss = int(cs[C_SYSS])
    cur = int(cs[C_CUR]) ^ 1
    cs[C_CUR] = cur
    o = C_SEG + 8 * cur
    nq = 6
    if syss:
        nq = 7
    q = 0
    while q < nq:
        if q == 0 or q == 3:
            x = x0
        elif q == 1 or q == 4:
            x = x1
        else:
            x = x2
        if q < 3:
            w = 2 * (_KX + q)
        elif q < 6:
            w = 2 * (_KXX + q - 3)
        else:
            w = 2 * _KCA
        bb = C_BASE + 2 * q
        lo = st[w]
        hi = (st[w + 1] ^ h) - h
        dl = (lo - cs[bb]) & m
        dh = hi - ((cs[bb + 1] ^ h) - h)
        if uint(lo) < uint(cs[bb]):
            dh -= 1
        if q < 3:
            v = (dl ^ h) - h  # a half cycle's sum of x stays below 2**22
            e = (x * a) >> 10
        else:
            v = (dh << 22) | ((dl >> 10) & 0x3FFFFF)  # sums of products in units of 2**10
            if q == 6:
                x = x * x0  # uc * ua
            else:
                x = x * x
            e = ((x >> 10) * a) >> 10
        cs[o + q] = v - ((cs[C_EDGE + q] ^ h) - h) + e
        cs[C_EDGE + q] = e
        cs[bb] = lo
        cs[bb + 1] = hi
        q += 1
    ns = int(st[_NS])
    n = ns - ((cs[C_NSB] ^ h) - h)  # samples summed since the last boundary
    cs[C_NSB] = ns
    cs[o + 7] = (n << 10) - int(cs[C_A0]) + a
    cs[C_A0] = a
    valid = int(cs[C_VALID]) + 1
    if valid < 3:
        cs[C_VALID] = valid
        return d
    # the cycle: this half cycle and the one before; L in Q8 samples (clamped: 64..255 samples)
    p = C_SEG + 8 * (cur ^ 1)
    ln = (((cs[o + 7] ^ h) - h) + ((cs[p + 7] ^ h) - h)) >> 2
    if ln < 16384:
        ln = 16384
    elif ln > 65535:
        ln = 65535
    e = C_RING + 4 * int(cs[C_HEAD])
    c = 0
    while c < 3:
        # the cycle's mean, Q4 codes = s1 * 2**12 / ln, clamped to +-2**11 codes (products of two then fit)
        s1 = ((cs[o + c] ^ h) - h) + ((cs[p + c] ^ h) - h)
        neg = s1 < 0
        if neg:
            s1 = 0 - s1
        q = s1 // ln
        mc = (q << 12) + ((s1 - q * ln) << 12) // ln
        if mc > 32768:
            mc = 32768
        if neg:
            mc = 0 - mc
        cs[C_DC + c] = mc
        # mean square in ring units = s2 * 2**10 / (ln / 2**8) / 16 = s2 * 2**14 / ln, less the mean's square
        # (DC removed as the window removes it: over the cycle's own samples)
        s2 = ((cs[o + 3 + c] ^ h) - h) + ((cs[p + 3 + c] ^ h) - h)
        if s2 < 0:
            s2 = 0
        q = s2 // ln
        ms = (q << 14) + ((s2 - q * ln) << 14) // ln - ((mc * mc) >> 12)
        if ms < 0:
            ms = 0
        cs[e + c] = ms
        c += 1
    if syss:
        # 2LL: channel a carries Uab, channel c Ucb; Uca from both with their gains (as metering does)
        s1 = ((cs[o + 6] ^ h) - h) + ((cs[p + 6] ^ h) - h)
        neg = s1 < 0
        if neg:
            s1 = 0 - s1
        q = s1 // ln
        x = (q << 14) + ((s1 - q * ln) << 14) // ln
        if neg:
            x = 0 - x
        x -= (((cs[C_DC] ^ h) - h) * ((cs[C_DC + 2] ^ h) - h)) >> 12  # mean xa xc less the product of the means
        neg = x < 0
        if neg:
            x = 0 - x
        g = int(cs[C_GX])
        x = (x >> 14) * g + (((x & 0x3FFF) * g) >> 14)
        if neg:
            x = 0 - x
        ma = int(cs[e])
        mc = int(cs[e + 2])
        cs[e + 1] = mc
        g = int(cs[C_G2A])
        v = (ma >> 14) * g + (((ma & 0x3FFF) * g) >> 14)
        g = int(cs[C_G2C])
        v += (mc >> 14) * g + (((mc & 0x3FFF) * g) >> 14)
        v -= x
        if v < 0:
            v = 0
        cs[e + 2] = v
    cs[e + 3] = n
    cs[C_HEAD] = (int(cs[C_HEAD]) + 1) & (RING - 1)
    k = int(cs[C_COUNT])
    if k < RING:
        cs[C_COUNT] = k + 1
    else:
        cs[C_LOST] = cs[C_LOST] + 1
    if cs[C_ARMED] == 0:
        return d
    # level crossings with hysteresis per phase. A state's beginning is a bit (C_NEW) the next poll stamps with the
    # clock; its end a record in the queue (dropped and counted when the queue is full: never misdated)
    c = 0
    while c < 3:
        v = int(cs[e + c])
        t = C_TH + 5 * c
        s = int(cs[C_ST + c])
        bit = 1 << c
        r = 0
        if s == 0:
            if v < int(cs[t]):
                s = 1
            elif v > int(cs[t + 2]):
                s = 2
            if s:
                cs[C_ST + c] = s
                cs[C_EXT + c] = v
                cs[C_DUR + c] = n
                cs[C_SCL + c] = cs[C_CLOSES]
                cs[C_NEW] = int(cs[C_NEW]) | bit
                cs[C_VOID] = int(cs[C_VOID]) & (7 ^ bit)
                cs[C_POLL] = 1
        elif s == 1:
            if v >= int(cs[t + 1]):
                r = c | 16
            else:
                cs[C_DUR + c] = int(cs[C_DUR + c]) + n
                if v < int(cs[C_EXT + c]):
                    cs[C_EXT + c] = v
        else:
            if v <= int(cs[t + 3]):
                r = c | 32
            else:
                cs[C_DUR + c] = int(cs[C_DUR + c]) + n
                if v > int(cs[C_EXT + c]):
                    cs[C_EXT + c] = v
        if r:
            cs[C_ST + c] = 0
            f = int(cs[C_NEW])
            if f & bit:
                r |= R_NEW
                cs[C_NEW] = f ^ bit
            if int(cs[C_VOID]) & bit:
                r |= R_VOID
            s0 = int(cs[C_SCL + c])
            if ((int(cs[C_CLOSES]) - s0) & CLOSE_MASK) >= 2:
                r |= R_JUDGED
            k = int(cs[C_EVN])
            if k < EVQ:
                w = C_EVQ + 4 * k
                cs[w] = r
                cs[w + 1] = cs[C_EXT + c]
                cs[w + 2] = cs[C_DUR + c]
                cs[w + 3] = s0
                cs[C_EVN] = k + 1
            else:
                cs[C_EVLOST] = cs[C_EVLOST] + 1
            cs[C_POLL] = 1
        c += 1
    return d


class CycleRms:
    """The state of the one-cycle RMS (cs, layout above) shared by the sampler that feeds it (Sampler(cycle=...))
    and firmware/pqevents.py, which sets its levels and takes its crossing records. Ring entries are in ring units
    (16 reduced codes^2): volts^2 = ms x 16 x (volts per code)^2, with the calibration and the front end's gain
    as metering applies them."""

    def __init__(self):
        self.cs = array("i", bytes(4 * C_SIZE))
        self.configure(0)

    def configure(self, syss, g2a=1.0, g2c=1.0, gx=2.0):
        """Wiring 0 (phases Ua Ub Uc) or 1/2 (Uab, Ubc, Uca from the channels a and c), with metering's gain
        factors of Uca = g2a ua^2 + g2c uc^2 - gx ua uc (calibration: ga^2, gc^2, 2 ga gc). A new wiring sends
        the phases' states back to normal (events in progress are not logged) and measures again from the third
        boundary on (the Uca sums start then). Allocates (floats)."""
        cs = self.cs
        w = 1 if syss else 0
        if w != cs[C_SYSS]:
            cs[C_SYSS] = w
            cs[C_VALID] = 0
            for p in range(3):
                cs[C_ST + p] = 0
            cs[C_NEW] = 0
        cs[C_G2A] = int(g2a * 16384 + 0.5)
        cs[C_G2C] = int(g2c * 16384 + 0.5)
        cs[C_GX] = int(gx * 16384 + 0.5)

    def reset(self):
        """The kernel's sums and NCO restarted (Sampler.reset): the next boundary is its first sample; windows
        are judged off frequency until a synchronised close confirms the NCO (C_VER). The levels, the phases'
        states, the close count and the records waiting stay."""
        cs = self.cs
        for k in range(_RESET):
            cs[k] = 0
