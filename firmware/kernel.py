# SPDX-License-Identifier: MIT
# The sampling kernel: a viper loop that turns interleaved 24-bit ADC samples into exact 64-bit window sums
# over whole line cycles (zero-crossing windows), plus the edge data metering needs. No floats, no allocation.
import micropython
from micropython import const

from firmware.kernel_range import fits, widen
from firmware.refilter import feed as ref_feed
from firmware.words import SIGN_BIT, WORD_MASK

# Product vector of one sample (index k; sum k is the 64-bit pair ACC[2k], ACC[2k+1]). Samples are reduced to
# 16 bits first, so every product fits a signed 32-bit word.
P_X = const(0)  # 0..6: x of Ua Ub Uc Ia Ib Ic In (sum x gives the DC to remove)
P_XX = const(7)  # 7..13: x*x
P_UI = const(14)  # 14..16: ua*ia ub*ib uc*ic
P_UU = const(17)  # 17..19: ua*ub ub*uc uc*ua (line voltages: sum (ua-ub)^2 = sum ua^2 + sum ub^2 - 2 sum ua*ub)
P_C = const(20)  # 20..25: x*cos(nco) for Ua Ub Uc Ia Ib Ic (Q15 table)
P_S = const(26)  # 26..31: x*sin(nco)
P_NN = const(32)  # (ia+ib+ic)^2, the sum clamped to 16 bits: the neutral current as the vector sum
NP = const(33)

# Done buffer (array('i'), written by the kernel when a window closes, read by metering). The sums are exact
# 64-bit (low, high) word pairs in Q15 with the edge samples weighted: W = 2**15 * sum - fs * first + fe * edge,
# where `first` is the window's first sample (weight 1 - fs) and `edge` the sample at the close (weight fe).
D_W = const(0)  # NP pairs: weighted sums, Q15
D_N = const(66)  # samples summed
D_FS = const(67)  # start fraction, Q15
D_FE = const(68)  # end fraction, Q15: window length = N + (FE - FS) / 2**15 samples
D_CYC = const(69)  # whole cycles in the window (0: not synchronised, report F = 0)
D_READY = const(70)  # 1: a window waits for metering (metering clears it)
D_SEQ = const(71)  # windows closed so far
D_OVR = const(72)  # windows overwritten before metering took them
D_REF = const(73)  # reference candidate used
D_LOCK = const(74)  # 1: the NCO ran within 0.1 % of the window's frequency (the DFT sums are valid)
D_ISH = const(75)  # right shift that reduced the current channels (8: 2**15 = 25 A; 6: 2**15 = 6.25 A)
D_CLIP = const(76)  # set by the sampler (auto range): bits 0-2 Ia Ib Ic, 3 In, 4 ia+ib+ic near full scale (clipped)
D_SAT = const(77)  # bits 0-6: Ua Ub Uc Ia Ib Ic In reached the ADC's full scale (a code within 2**-16 of it)
D_SIZE = const(78)
Q15 = const(32768)

# Kernel state (array('i')).
_ACC = const(0)  # NP pairs
_ES = const(66)  # NP products of the current window's first sample
_P = const(99)  # NP products of the current sample
S_NS = const(132)
S_FS = const(133)
S_PHASE = const(134)  # NCO phase, 32 bits = one cycle
S_STEP = const(135)  # NCO step per sample
S_CYC = const(136)
S_TARGET = const(137)  # cycles per window: 10 (50 Hz) or 12 (above 55 Hz)
S_ARMED = const(138)  # reference went below -hysteresis: the next sample >= 0 is a positive-going crossing
S_SYNC = const(139)  # windows follow zero crossings
S_PREV = const(140)  # previous reference sample
S_RA = const(141)  # reference = x[RA] - x[RB] (RB -1: x[RA] alone); channels 0..2
S_RB = const(142)
S_HYST = const(143)
S_FIXED = const(144)  # window length without synchronisation (samples)
S_MAXN = const(145)  # longest synchronised window before sync is declared lost
S_JUST = const(146)  # set by the kernel when it closed a window (feed() clears it)
S_ISH = const(147)  # current-channel shift of the running window
S_ISH_NEXT = const(148)  # current-channel shift from the next window on (set by configure())
S_DERIVE = const(149)  # 1 (2LL2CT): no CT on phase B, ib = -(ia + ic) computed per sample
S_TCODE = const(150)  # channel 7 (PT100) code of the last sample fed
S_SAT = const(151)  # the running window's D_SAT bits
S_END = const(152)  # samples in the block being fed (read by the span kernel, firmware/kernel_span.py)
S_NATIVE = const(153)  # 153..162: scratch words of a native span kernel (boards/pico/kernel_thumb.py)
S_FY = const(163)  # the reference band-pass's output through the last sample fed (firmware/refilter.py)
S_FILT = const(164)  # 164..169: its stage states
S_SIZE = const(170)  # then the span kernel's own work area (its WORK words)


@micropython.viper
def run(blk: ptr32, i: int, n: int, st: ptr32, tab: ptr16, dn: ptr32) -> int:
    """Process samples i..n-1 of blk (8 interleaved channels); stops after the sample at which a window closes.
    Returns the index of the next sample to process."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    ns = st[S_NS]
    phase = st[S_PHASE]
    step = st[S_STEP]
    cyc = st[S_CYC]
    target = st[S_TARGET]
    armed = st[S_ARMED]
    sync = st[S_SYNC]
    prev = (st[S_PREV] ^ h) - h
    ra = st[S_RA]
    rb = (st[S_RB] ^ h) - h
    hyst = st[S_HYST]
    fixed = st[S_FIXED]
    maxn = st[S_MAXN]
    ish = st[S_ISH]
    derive = st[S_DERIVE]
    rnd = 1 << (ish - 1)
    tc = st[S_TCODE]
    sat = st[S_SAT]
    wid = 0
    while i < n:
        b = i << 3
        # sign-extend (a no-op on the device, needed where ptr32 loads zero-extend) and round to 16 bits
        ua = ((((blk[b] ^ h) - h) + 128) >> 8)
        ub = ((((blk[b + 1] ^ h) - h) + 128) >> 8)
        uc = ((((blk[b + 2] ^ h) - h) + 128) >> 8)
        # currents: a smaller shift for low rated currents; a sample that does not fit 16 bits at it widens the
        # window's range (firmware/kernel_range.py) and ends this call, so the span kernel takes the rest
        ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
        ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
        ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
        xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
        tc = blk[b + 7]
        if ish < 8:
            if not int(fits(blk, b, ish, derive)):
                ish = int(widen(blk, b, st, ish, derive))
                rnd = 1 << (ish - 1)
                wid = 1
                ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
                ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
                ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
                xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
        if derive:
            ib = 0 - ia - ic  # 2LL2CT: the missing CT's current from the other two (ia + ib + ic = 0)
            if ib > 32767:  # only at shift 8 (below it the range widened)
                ib = 32767
            elif ib < -32767:
                ib = -32767
        sn = ia + ib + ic  # the neutral current as the vector sum, clamped at shift 8: its square must fit 31 bits
        if sn > 32767:
            sn = 32767
        elif sn < -32767:
            sn = -32767
        # the ADC's full scale: +-32768 after the reduction (at shift 8: below it a current this large widened it)
        bits = 0
        if ua == 32768 or ua == -32768:
            bits |= 1
        if ub == 32768 or ub == -32768:
            bits |= 2
        if uc == 32768 or uc == -32768:
            bits |= 4
        if ia == 32768 or ia == -32768:
            bits |= 8
        if ib == 32768 or ib == -32768:
            bits |= 16
        if ic == 32768 or ic == -32768:
            bits |= 32
        if xn == 32768 or xn == -32768:
            bits |= 64
        sat |= bits
        st[_P] = ua
        st[_P + 1] = ub
        st[_P + 2] = uc
        st[_P + 3] = ia
        st[_P + 4] = ib
        st[_P + 5] = ic
        st[_P + 6] = xn
        st[_P + 7] = ua * ua
        st[_P + 8] = ub * ub
        st[_P + 9] = uc * uc
        st[_P + 10] = ia * ia
        st[_P + 11] = ib * ib
        st[_P + 12] = ic * ic
        st[_P + 13] = xn * xn
        st[_P + 14] = ua * ia
        st[_P + 15] = ub * ib
        st[_P + 16] = uc * ic
        st[_P + 17] = ua * ub
        st[_P + 18] = ub * uc
        st[_P + 19] = uc * ua
        k = (phase >> 22) & 1023
        s = int(tab[k])
        s = (s ^ 0x8000) - 0x8000
        cs = int(tab[(k + 256) & 1023])
        cs = (cs ^ 0x8000) - 0x8000
        st[_P + 20] = ua * cs
        st[_P + 21] = ub * cs
        st[_P + 22] = uc * cs
        st[_P + 23] = ia * cs
        st[_P + 24] = ib * cs
        st[_P + 25] = ic * cs
        st[_P + 26] = ua * s
        st[_P + 27] = ub * s
        st[_P + 28] = uc * s
        st[_P + 29] = ia * s
        st[_P + 30] = ib * s
        st[_P + 31] = ic * s
        st[_P + 32] = sn * sn
        phase = (phase + step) & m
        # reference signal (band-passed, firmware/refilter.py: the crossing is judged on its output through the
        # previous sample, then this sample goes in) and positive-going zero crossing with hysteresis
        if ra == 0:
            x = ua
        elif ra == 1:
            x = ub
        else:
            x = uc
        if rb == 0:
            x -= ua
        elif rb == 1:
            x -= ub
        elif rb == 2:
            x -= uc
        r = (st[S_FY] ^ h) - h
        ref_feed(st, x)
        close = 0
        fe = 0
        if armed:
            if r >= 0:
                armed = 0
                # crossing at (i - 1) + fe / 2**15: sample i's interval [i-1, i) is split fe | 1 - fe
                num = 0 - prev
                den = r - prev
                while den > 0xFFFF:  # keep num << 15 below 2**31 (num <= den)
                    num = num >> 1
                    den = den >> 1
                fe = (num << 15) // den
                cyc += 1
                if sync:
                    if cyc >= target:
                        close = 1
                elif cyc >= 5:  # refilter.HOLD: the band-pass has settled
                    close = 2  # close the free-running window here and synchronise
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
            fs = st[S_FS]
            k = 0
            while k < NP:
                a = k << 1
                lo = st[a]
                hi = (st[a + 1] << 15) | ((lo >> 17) & 0x7FFF)
                lo = (lo << 15) & m
                v = (st[_ES + k] ^ h) - h
                e = (st[_P + k] ^ h) - h
                st[_ES + k] = e
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
            st[S_JUST] = 1
            dn[D_N] = ns
            dn[D_ISH] = ish
            dn[D_SAT] = sat
            sat = bits  # the closing sample opens the next window too
            # a new current range starts with the next window (the edge sample keeps the old scale: a change of
            # the rated current disturbs the start weight of one window by at most one sample)
            ish = st[S_ISH_NEXT]
            while ish < 8:  # the new window's range must hold its first sample too
                if int(fits(blk, b, ish, derive)):
                    break
                ish += 1
            rnd = 1 << (ish - 1)
            if ish != dn[D_ISH]:
                # a new current range: the closing sample also opens the new window (weight 1 - fe), so its
                # current products are made again at the new scale (the closing window used the old ones)
                ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
                ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
                ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
                xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
                if derive:
                    ib = 0 - ia - ic
                    if ib > 32767:
                        ib = 32767
                    elif ib < -32767:
                        ib = -32767
                sn = ia + ib + ic
                if sn > 32767:
                    sn = 32767
                elif sn < -32767:
                    sn = -32767
                k = ((phase - step) >> 22) & 1023  # the NCO phase this sample used
                s = int(tab[k])
                s = (s ^ 0x8000) - 0x8000
                cs = int(tab[(k + 256) & 1023])
                cs = (cs ^ 0x8000) - 0x8000
                st[_P + 3] = ia
                st[_P + 4] = ib
                st[_P + 5] = ic
                st[_P + 6] = xn
                st[_P + 10] = ia * ia
                st[_P + 11] = ib * ib
                st[_P + 12] = ic * ic
                st[_P + 13] = xn * xn
                st[_P + 14] = ua * ia
                st[_P + 15] = ub * ib
                st[_P + 16] = uc * ic
                st[_P + 23] = ia * cs
                st[_P + 24] = ib * cs
                st[_P + 25] = ic * cs
                st[_P + 29] = ia * s
                st[_P + 30] = ib * s
                st[_P + 31] = ic * s
                st[_P + 32] = sn * sn
                k = 0
                while k < NP:
                    st[_ES + k] = st[_P + k]
                    k += 1
            dn[D_FS] = fs
            dn[D_FE] = fe
            st[S_FS] = fe
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
        # accumulate the products into the 64-bit pairs (carry out of the low word, sign into the high one)
        k = 0
        while k < NP:
            p = st[_P + k]
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
        if close or wid:
            break
    st[S_NS] = ns
    st[S_PHASE] = phase
    st[S_STEP] = step
    st[S_CYC] = cyc
    st[S_TARGET] = target
    st[S_ARMED] = armed
    st[S_SYNC] = sync
    st[S_PREV] = prev
    st[S_ISH] = ish
    st[S_TCODE] = tc
    st[S_SAT] = sat
    return i

