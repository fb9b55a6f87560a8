# The sampling kernel: a viper loop that turns interleaved 24-bit ADC samples into exact 64-bit window sums
# over whole line cycles (zero-crossing windows), plus the edge data metering needs. No floats, no allocation.
import math
from array import array

import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

# Product vector of one sample (index k; sum k is the 64-bit pair ACC[2k], ACC[2k+1]). Samples are reduced to
# 16 bits first, so every product fits a signed 32-bit word.
P_X = const(0)  # 0..6: x of Ua Ub Uc Ia Ib Ic In (sum x gives the DC to remove)
P_XX = const(7)  # 7..13: x*x
P_UI = const(14)  # 14..16: ua*ia ub*ib uc*ic
P_UU = const(17)  # 17..19: ua*ub ub*uc uc*ua (line voltages: sum (ua-ub)^2 = sum ua^2 + sum ub^2 - 2 sum ua*ub)
P_C = const(20)  # 20..25: x*cos(nco) for Ua Ub Uc Ia Ib Ic (Q15 table)
P_S = const(26)  # 26..31: x*sin(nco)
NP = const(32)

# Done buffer (array('i'), written by the kernel when a window closes, read by metering). The sums are exact
# 64-bit (low, high) word pairs in Q15 with the edge samples weighted: W = 2**15 * sum - fs * first + fe * edge,
# where `first` is the window's first sample (weight 1 - fs) and `edge` the sample at the close (weight fe).
D_W = const(0)  # NP pairs: weighted sums, Q15
D_N = const(64)  # samples summed
D_FS = const(65)  # start fraction, Q15
D_FE = const(66)  # end fraction, Q15: window length = N + (FE - FS) / 2**15 samples
D_CYC = const(67)  # whole cycles in the window (0: not synchronised, report F = 0)
D_READY = const(68)  # 1: a window waits for metering (metering clears it)
D_SEQ = const(69)  # windows closed so far
D_OVR = const(70)  # windows overwritten before metering took them
D_REF = const(71)  # reference candidate used
D_LOCK = const(72)  # 1: the NCO ran within 0.1 % of the window's frequency (the DFT sums are valid)
D_ISH = const(73)  # right shift that reduced the current channels (8: 2**15 = 25 A; 6: 2**15 = 6.25 A)
D_SIZE = const(76)
Q15 = const(32768)

# Kernel state (array('i')).
_ACC = const(0)  # NP pairs
_ES = const(64)  # NP products of the current window's first sample
_P = const(96)  # NP products of the current sample
_NS = const(128)
_FS = const(129)
_PHASE = const(130)  # NCO phase, 32 bits = one cycle
_STEP = const(131)  # NCO step per sample
_CYC = const(132)
_TARGET = const(133)  # cycles per window: 10 (50 Hz) or 12 (above 55 Hz)
_ARMED = const(134)  # reference went below -hysteresis: the next sample >= 0 is a positive-going crossing
_SYNC = const(135)  # windows follow zero crossings
_PREV = const(136)  # previous reference sample
_RA = const(137)  # reference = x[RA] - x[RB] (RB -1: x[RA] alone); channels 0..2
_RB = const(138)
_HYST = const(139)
_FIXED = const(140)  # window length without synchronisation (samples)
_MAXN = const(141)  # longest synchronised window before sync is declared lost
_JUST = const(142)  # set by the kernel when it closed a window (feed() clears it)
_ISH = const(143)  # current-channel shift of the running window
_ISH_NEXT = const(144)  # current-channel shift from the next window on (set by configure())
_SIZE = const(148)

_TAB_N = const(1024)  # sine table entries: phase error <= pi/1024 rad, and it averages out over a window
_HYST_CODES = const(328)  # 10 V peak in reduced codes (2**15 = 1000 V)
_PRESENT_MS = const(107374)  # (10 V rms in reduced codes)**2: a voltage this large can be the reference
_FIXED_N = const(1600)  # 200 ms
_MAX_N = const(2400)  # 300 ms: 10 cycles below 33 Hz do not fit; sync is lost
_STEP_50 = const(26843546)  # 2**32 * 50 / 8000

# Reference candidates per wiring (first present wins): 3Ln3CT Ua, Ub, Uc; 2LL: Uab, Ucb (channel pairs).
REFS = (((0, -1), (1, -1), (2, -1)), ((0, 1), (2, 1), (0, 2)), ((0, 1), (2, 1), (0, 2)))


@micropython.viper
def _run(blk: ptr32, i: int, n: int, st: ptr32, tab: ptr16, dn: ptr32) -> int:
    """Process samples i..n-1 of blk (8 interleaved channels); stops after the sample at which a window closes.
    Returns the index of the next sample to process."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    ns = st[_NS]
    phase = st[_PHASE]
    step = st[_STEP]
    cyc = st[_CYC]
    target = st[_TARGET]
    armed = st[_ARMED]
    sync = st[_SYNC]
    prev = (st[_PREV] ^ h) - h
    ra = st[_RA]
    rb = (st[_RB] ^ h) - h
    hyst = st[_HYST]
    fixed = st[_FIXED]
    maxn = st[_MAXN]
    ish = st[_ISH]
    rnd = 1 << (ish - 1)
    while i < n:
        b = i << 3
        # sign-extend (a no-op on the device, needed where ptr32 loads zero-extend) and round to 16 bits
        ua = ((((blk[b] ^ h) - h) + 128) >> 8)
        ub = ((((blk[b + 1] ^ h) - h) + 128) >> 8)
        uc = ((((blk[b + 2] ^ h) - h) + 128) >> 8)
        # currents: a smaller shift for low rated currents, clamped to 16 bits so products still fit 31 bits
        ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
        ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
        ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
        xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
        if ish < 8:
            if ia > 32767:
                ia = 32767
            elif ia < -32767:
                ia = -32767
            if ib > 32767:
                ib = 32767
            elif ib < -32767:
                ib = -32767
            if ic > 32767:
                ic = 32767
            elif ic < -32767:
                ic = -32767
            if xn > 32767:
                xn = 32767
            elif xn < -32767:
                xn = -32767
        st[96] = ua
        st[97] = ub
        st[98] = uc
        st[99] = ia
        st[100] = ib
        st[101] = ic
        st[102] = xn
        st[103] = ua * ua
        st[104] = ub * ub
        st[105] = uc * uc
        st[106] = ia * ia
        st[107] = ib * ib
        st[108] = ic * ic
        st[109] = xn * xn
        st[110] = ua * ia
        st[111] = ub * ib
        st[112] = uc * ic
        st[113] = ua * ub
        st[114] = ub * uc
        st[115] = uc * ua
        k = (phase >> 22) & 1023
        sn = int(tab[k])
        sn = (sn ^ 0x8000) - 0x8000
        cs = int(tab[(k + 256) & 1023])
        cs = (cs ^ 0x8000) - 0x8000
        st[116] = ua * cs
        st[117] = ub * cs
        st[118] = uc * cs
        st[119] = ia * cs
        st[120] = ib * cs
        st[121] = ic * cs
        st[122] = ua * sn
        st[123] = ub * sn
        st[124] = uc * sn
        st[125] = ia * sn
        st[126] = ib * sn
        st[127] = ic * sn
        phase = (phase + step) & m
        # reference signal and positive-going zero crossing with hysteresis
        if ra == 0:
            r = ua
        elif ra == 1:
            r = ub
        else:
            r = uc
        if rb == 0:
            r -= ua
        elif rb == 1:
            r -= ub
        elif rb == 2:
            r -= uc
        close = 0
        fe = 0
        if armed:
            if r >= 0:
                armed = 0
                # crossing at (i - 1) + fe / 2**15: sample i's interval [i-1, i) is split fe | 1 - fe
                num = 0 - prev
                den = r - prev
                while den > 0xFFFF:  # a line-voltage reference spans 17 bits: keep num << 15 below 2**31
                    num = num >> 1
                    den = den >> 1
                fe = (num << 15) // den
                if sync:
                    cyc += 1
                    if cyc >= target:
                        close = 1
                else:
                    close = 2  # first crossing: close the free-running window here and synchronise
        elif r < 0 - hyst:
            armed = 1
        prev = r
        if close == 0:
            if sync:
                if ns >= maxn:
                    close = 3  # no crossing for too long: sync lost
            elif ns >= fixed:
                close = 4
            fe = 0
        if close:
            # weighted Q15 sums into the done buffer: W = sum << 15 - fs * first + fe * edge, exact in 64 bits
            # (products split as e = eh * 2**15 + el so every partial product fits 31 bits); restart the window
            fs = st[_FS]
            k = 0
            while k < 32:
                a = k << 1
                lo = st[a]
                hi = (st[a + 1] << 15) | ((lo >> 17) & 0x7FFF)
                lo = (lo << 15) & m
                v = (st[64 + k] ^ h) - h
                e = (st[96 + k] ^ h) - h
                st[64 + k] = e
                st[a] = 0
                st[a + 1] = 0
                j = 0
                while j < 4:
                    if j == 0:
                        t = 0 - fs * (v >> 15)
                    elif j == 1:
                        t = 0 - fs * (v & 0x7FFF)
                    elif j == 2:
                        t = fe * (e >> 15)
                    else:
                        t = fe * (e & 0x7FFF)
                    if j & 1:
                        tl = t & m
                        th = 0
                        if t < 0:
                            th = -1
                    else:
                        tl = (t << 15) & m
                        th = t >> 17
                    s = (lo + tl) & m
                    if uint(s) < uint(lo):
                        hi += 1
                    hi += th
                    lo = s
                    j += 1
                dn[a] = lo
                dn[a + 1] = hi
                k += 1
            st[_JUST] = 1
            dn[D_N] = ns
            dn[D_ISH] = ish
            # a new current range starts with the next window (the edge sample keeps the old scale: a change of
            # the rated current disturbs the start weight of one window by at most one sample)
            ish = st[_ISH_NEXT]
            rnd = 1 << (ish - 1)
            dn[D_FS] = fs
            dn[D_FE] = fe
            st[_FS] = fe
            if dn[D_READY]:
                dn[D_OVR] = dn[D_OVR] + 1
            dn[D_READY] = 1
            dn[D_SEQ] = dn[D_SEQ] + 1
            if close == 1:
                dn[D_CYC] = cyc
                # NCO step for the measured frequency: cyc * 2**32 / length, length = (ns*2**15 - fs + fe) / 2**15
                lq = (ns << 15) - fs + fe
                rem = cyc
                q = 0
                k = 47
                while k > 0:
                    rem = rem << 1
                    q = q << 1
                    if rem >= lq:
                        rem -= lq
                        q += 1
                    k -= 1
                # the DFT sums hold only if the NCO ran at this window's frequency (not so after a start/jump)
                d = q - step
                if d < 0:
                    d = 0 - d
                if d <= (step >> 10):
                    dn[D_LOCK] = 1
                else:
                    dn[D_LOCK] = 0
                step = q
                # above 55 Hz: 12 cycles make ~200 ms, else 10 (ns*11 < cyc*1600 <=> ns/cyc < 8000/55)
                if ns * 11 < cyc * 1600:
                    target = 12
                else:
                    target = 10
            else:
                dn[D_CYC] = 0
                dn[D_LOCK] = 0
                if close == 2:
                    sync = 1
                elif close == 3:
                    sync = 0
            cyc = 0
            ns = 0
        # accumulate the 32 products into the 64-bit pairs (carry out of the low word, sign into the high one)
        k = 0
        while k < 32:
            p = st[96 + k]
            a = k << 1
            lo = st[a]
            s = (lo + p) & m
            hi = st[a + 1]
            if uint(s) < uint(lo & m):
                hi += 1
            if p & h:
                hi -= 1
            st[a] = s
            st[a + 1] = hi
            k += 1
        ns += 1
        i += 1
        if close:
            break
    st[_NS] = ns
    st[_PHASE] = phase
    st[_STEP] = step
    st[_CYC] = cyc
    st[_TARGET] = target
    st[_ARMED] = armed
    st[_SYNC] = sync
    st[_PREV] = prev
    st[_ISH] = ish
    return i


@micropython.viper
def _present(dn: ptr32, k: int, thr: int) -> int:
    """1 when the window's weighted sum k (a sum of squares, Q15) is at least thr per sample."""
    m = int(WORD_MASK)
    hi = dn[D_W + 2 * k + 1] & m
    if hi >= (1 << 14):
        return 1
    x = (hi << 17) | ((dn[D_W + 2 * k] >> 15) & 0x1FFFF)  # the sum itself, below 2**31
    if x >= thr * int(dn[D_N]):
        return 1
    return 0


class Sampler:
    """Feeds ADC blocks through the kernel. `done` holds the last closed window (see D_*); `on_window`, when
    given, is called as on_window(sampler) at each close (before the next window can overwrite `done`)."""

    def __init__(self, on_window=None):
        self.state = array("i", bytes(4 * _SIZE))
        self.done = array("i", bytes(4 * D_SIZE))
        tab = array("h", bytes(2 * _TAB_N))
        for k in range(_TAB_N):  # sampled at the middle of each step: truncating the phase then rounds it
            tab[k] = int(round(32767 * math.sin(2 * math.pi * (k + 0.5) / _TAB_N)))
        self.table = tab
        self.on_window = on_window
        self._run = _run
        self._present = _present
        self._refs = REFS[0]
        self._ref = 0
        self.syss = 0
        self.ishift = 8
        self.reset()

    def configure(self, syss, ishift=8):
        """Wiring 0 3Ln3CT, 1 2LL3CT, 2 2LL2CT: picks the zero-crossing reference candidates (and drops
        synchronisation if it changed). ishift 6..8: reduction of the current channels from the next window on
        (8: full scale 25 A peak; 6: 6.25 A peak, 4x the resolution for 1 A meters). No allocation."""
        if ishift < 6 or ishift > 8:
            raise ValueError("ishift")
        self.ishift = ishift
        self.state[_ISH_NEXT] = ishift
        if syss != self.syss:
            self.syss = syss
            self._refs = REFS[syss]
            self._set_ref(0)

    def reset(self):
        st = self.state
        for k in range(_SIZE):
            st[k] = 0
        for k in range(D_SIZE):
            self.done[k] = 0
        st[_STEP] = _STEP_50
        st[_TARGET] = 10
        st[_HYST] = _HYST_CODES
        st[_FIXED] = _FIXED_N
        st[_MAXN] = _MAX_N
        st[_ISH] = self.ishift
        st[_ISH_NEXT] = self.ishift
        self._set_ref(0)

    def _set_ref(self, k):
        st = self.state
        st[_RA], st[_RB] = self._refs[k]
        st[_SYNC] = 0
        st[_CYC] = 0
        st[_ARMED] = 0
        self._ref = k

    def feed(self, block, n):
        """Process n samples (8 interleaved channels) of block (array('i') or any int32 buffer); returns the
        number of windows closed meanwhile (done holds the last one). No allocation."""
        i = 0
        closed = 0
        st = self.state
        dn = self.done
        while i < n:
            i = self._run(block, i, n, st, self.table, dn)
            if st[_JUST]:
                st[_JUST] = 0
                closed += 1
                self._closed()
        return closed

    def _closed(self):
        dn = self.done
        dn[D_REF] = self._ref
        # reference selection: the first candidate whose voltage is present wins
        refs = self._refs
        for k in range(len(refs)):
            if self._present(dn, P_XX + refs[k][0], _PRESENT_MS):
                if k != self._ref:
                    self._set_ref(k)
                break
        if self.on_window is not None:
            self.on_window(self)
