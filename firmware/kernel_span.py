# SPDX-License-Identifier: MIT
# The sampling kernel's common case: a run of samples that closes no window (viper). The sampler calls span()
# for the bulk of every block and firmware/kernel.py's run() only for the sample at which a window closes.
# Why split: the bulk is one multiply-accumulate loop that a board may replace by a native one of the same
# signature and bit-identical effect (boards/pico/kernel_thumb.py, Thumb-1 assembly for the RP2040); the
# rare events (window close, NCO retune, current range) stay in one place, in viper.
import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

# state words (firmware/kernel.py): the 64-bit sums at 0..65, then the scalars below
_NS = const(132)
_PHASE = const(134)
_STEP = const(135)
_CYC = const(136)
_TARGET = const(137)
_ARMED = const(138)
_SYNC = const(139)
_PREV = const(140)
_RA = const(141)
_RB = const(142)
_HYST = const(143)
_FIXED = const(144)
_MAXN = const(145)
_ISH = const(147)
_DERIVE = const(149)
_TCODE = const(150)
_SAT = const(151)
_END = const(152)  # kernel.S_END: the block's sample count
_FY = const(163)  # kernel.S_FY, S_FILT: the reference band-pass (firmware/refilter.py)
_FILT = const(164)
_HOLD = const(5)  # refilter.HOLD
_P = const(99)  # kernel._P: the products of one sample (scratch here; run() rebuilds them for its sample)
WORK = const(0)  # state words this kernel needs past kernel.S_SIZE (a native twin may need a work area)


@micropython.viper
def span(blk: ptr32, i: int, st: ptr32, tab: ptr16) -> int:
    """Accumulate samples i, i+1, ... of blk (8 interleaved int32 channels, st[S_END] samples in all) into the
    window sums while none of them closes the window; returns the index of the first sample that would close
    it (or st[S_END]). Updates NS, PHASE, CYC, ARMED, PREV, TCODE and the sums exactly as kernel.run does for
    those samples; leaves the rest of the state alone. No allocation."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    n = int(st[_END])
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
    limit = st[_FIXED]
    if sync:
        limit = st[_MAXN]
    ish = st[_ISH]
    derive = st[_DERIVE]
    rnd = 1 << (ish - 1)
    tc = st[_TCODE]
    sat = st[_SAT]
    fy = (st[_FY] ^ h) - h
    l1 = (st[_FILT] ^ h) - h
    l2 = (st[_FILT + 1] ^ h) - h
    z3 = (st[_FILT + 2] ^ h) - h
    z4 = (st[_FILT + 3] ^ h) - h
    z5 = (st[_FILT + 4] ^ h) - h
    z6 = (st[_FILT + 5] ^ h) - h
    while i < n:
        if ns >= limit:
            break  # closes: no crossing for too long
        b = i << 3
        ua = ((((blk[b] ^ h) - h) + 128) >> 8)
        ub = ((((blk[b + 1] ^ h) - h) + 128) >> 8)
        uc = ((((blk[b + 2] ^ h) - h) + 128) >> 8)
        ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
        ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
        ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
        xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
        if derive:
            ib = 0 - ia - ic
        sn = ia + ib + ic
        if ish < 8:
            # a sample that does not fit 16 bits at this range: kernel.run() widens the window's range for it
            if ia > 32767 or ia < -32767 or ib > 32767 or ib < -32767 or ic > 32767 or ic < -32767:
                break
            if xn > 32767 or xn < -32767 or sn > 32767 or sn < -32767:
                break
        else:  # shift 8: the ADC's full scale; the derived current and the vector sum are clamped
            if derive:
                if ib > 32767:
                    ib = 32767
                elif ib < -32767:
                    ib = -32767
            sn = ia + ib + ic
            if sn > 32767:
                sn = 32767
            elif sn < -32767:
                sn = -32767
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
        r = fy  # the crossing is judged on the band-passed reference through the previous sample
        if armed:
            if r >= 0:
                if sync:
                    if cyc + 1 >= target:
                        break  # the crossing that completes the window
                elif cyc + 1 >= _HOLD:
                    break  # the crossing that closes the free-running window (the band-pass has settled)
                cyc += 1
                armed = 0
        elif r < 0 - hyst:
            armed = 1
        prev = r
        # the sample is taken: it goes into the band-pass (firmware/refilter.py, the same integer chain)
        x = x << 10
        l1 += (x - l1) >> 6
        x -= l1
        l2 += (x - l2) >> 6
        x -= l2
        z3 += (x - z3) >> 4
        z4 += (z3 - z4) >> 4
        z5 += (z4 - z5) >> 4
        z6 += (z5 - z6) >> 4
        fy = z6
        # the ADC's full scale (kernel.D_SAT): +-32768 after the reduction, for the samples taken
        if ua == 32768 or ua == -32768:
            sat |= 1
        if ub == 32768 or ub == -32768:
            sat |= 2
        if uc == 32768 or uc == -32768:
            sat |= 4
        if ia == 32768 or ia == -32768:
            sat |= 8
        if ib == 32768 or ib == -32768:
            sat |= 16
        if ic == 32768 or ic == -32768:
            sat |= 32
        if xn == 32768 or xn == -32768:
            sat |= 64
        k = (phase >> 22) & 1023
        s = int(tab[k])
        s = (s ^ 0x8000) - 0x8000
        cs = int(tab[(k + 256) & 1023])
        cs = (cs ^ 0x8000) - 0x8000
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
        # the 64-bit sums: carry out of the low word, the product's sign into the high one
        k = 0
        while k < 33:
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
        phase = (phase + step) & m
        tc = blk[b + 7]
        ns += 1
        i += 1
    st[_NS] = ns
    st[_PHASE] = phase
    st[_CYC] = cyc
    st[_ARMED] = armed
    st[_PREV] = prev
    st[_TCODE] = tc
    st[_SAT] = sat
    st[_FY] = fy
    st[_FILT] = l1
    st[_FILT + 1] = l2
    st[_FILT + 2] = z3
    st[_FILT + 3] = z4
    st[_FILT + 4] = z5
    st[_FILT + 5] = z6
    return i
