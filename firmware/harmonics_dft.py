# Integer kernels of the harmonic analysis (firmware/harmonics.py): window capture, DFT at exact orders, ratios.
# Viper, allocation-free, the same words on 32-bit devices and the 64-bit unix port (sums kept below 2**31).
import math
from array import array

import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

TN = const(4096)  # sine table of 4096 entries (Q15): a 1024-entry table leaves 0.065 pp of HR at 50 Hz
_TSH = const(20)  # 32 - 12: the phase's top 12 bits index the table
_TMASK = const(4095)
_TQ = const(1024)  # a quarter cycle: cos = sin shifted


def sine_table():
    """Q15 sine, sampled at the middle of each step: truncating the phase then rounds it."""
    tab = array("h", bytes(2 * TN))
    for k in range(TN):
        tab[k] = int(round(32767 * math.sin(2 * math.pi * (k + 0.5) / TN)))
    return tab


@micropython.viper
def capture(blk: ptr32, a: int, b: int, buf: ptr16, pos: int) -> int:
    """Samples a..b-1 of blk (8 channels), channels 0..5 rounded to 16 bits, into buf from sample pos."""
    h = int(SIGN_BIT)
    i = a
    p = pos * 6
    while i < b:
        j = i << 3
        c = 0
        while c < 6:
            x = (((blk[j + c] ^ h) - h) + 128) >> 8
            if x > 32767:
                x = 32767
            buf[p + c] = x
            c += 1
        p += 6
        i += 1
    return pos + b - a


@micropython.viper
def weigh(buf: ptr16, p: int, w: int):
    """Edge weight: the 6 samples at buf[p..p+5] times w / 2**15 (rounded)."""
    c = 0
    while c < 6:
        x = int(buf[p + c])
        x = (x ^ 0x8000) - 0x8000
        buf[p + c] = (x * w + 16384) >> 15
        c += 1


@micropython.viper
def step(n: int, fs: int, fe: int, cyc: int) -> int:
    """Phase step per sample (2**32 = one cycle) of a window of cyc cycles in n + (fe - fs) / 2**15 samples:
    cyc * 2**47 / ((n << 15) - fs + fe), a restoring division (no number above 2**31)."""
    lq = (n << 15) - fs + fe
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
    return q


@micropython.viper
def dft(buf: ptr16, n: int, h: int, step1: int, tab: ptr16, out: ptr32, o: int):
    """Sums of x * cos and x * sin (phase = k * h * step1, Q15 table, products >> 10 rounded) over n samples of the 6
    channels, stored as 64-bit (lo, hi) pairs at out[o + 4c]: C lo, C hi, S lo, S hi. Each sum stays below
    2**31 (1801 samples x 2**30 / 2**10), so the words are the same on 32- and 64-bit ports."""
    m = int(WORD_MASK)
    step = (h * step1) & m  # below 2**31 for h <= 31 up to 65 Hz
    c0 = 0
    c1 = 0
    c2 = 0
    c3 = 0
    c4 = 0
    c5 = 0
    s0 = 0
    s1 = 0
    s2 = 0
    s3 = 0
    s4 = 0
    s5 = 0
    ph = 0
    i = 0
    p = 0
    while i < n:
        k = (ph >> _TSH) & _TMASK
        sn = int(tab[k])
        sn = (sn ^ 0x8000) - 0x8000
        cs = int(tab[(k + _TQ) & _TMASK])
        cs = (cs ^ 0x8000) - 0x8000
        x = int(buf[p])
        x = (x ^ 0x8000) - 0x8000
        c0 += (x * cs + 512) >> 10
        s0 += (x * sn + 512) >> 10
        x = int(buf[p + 1])
        x = (x ^ 0x8000) - 0x8000
        c1 += (x * cs + 512) >> 10
        s1 += (x * sn + 512) >> 10
        x = int(buf[p + 2])
        x = (x ^ 0x8000) - 0x8000
        c2 += (x * cs + 512) >> 10
        s2 += (x * sn + 512) >> 10
        x = int(buf[p + 3])
        x = (x ^ 0x8000) - 0x8000
        c3 += (x * cs + 512) >> 10
        s3 += (x * sn + 512) >> 10
        x = int(buf[p + 4])
        x = (x ^ 0x8000) - 0x8000
        c4 += (x * cs + 512) >> 10
        s4 += (x * sn + 512) >> 10
        x = int(buf[p + 5])
        x = (x ^ 0x8000) - 0x8000
        c5 += (x * cs + 512) >> 10
        s5 += (x * sn + 512) >> 10
        ph = (ph + step) & m
        p += 6
        i += 1
    out[o] = c0 & m
    out[o + 1] = 0 - int(c0 < 0)
    out[o + 2] = s0 & m
    out[o + 3] = 0 - int(s0 < 0)
    out[o + 4] = c1 & m
    out[o + 5] = 0 - int(c1 < 0)
    out[o + 6] = s1 & m
    out[o + 7] = 0 - int(s1 < 0)
    out[o + 8] = c2 & m
    out[o + 9] = 0 - int(c2 < 0)
    out[o + 10] = s2 & m
    out[o + 11] = 0 - int(s2 < 0)
    out[o + 12] = c3 & m
    out[o + 13] = 0 - int(c3 < 0)
    out[o + 14] = s3 & m
    out[o + 15] = 0 - int(s3 < 0)
    out[o + 16] = c4 & m
    out[o + 17] = 0 - int(c4 < 0)
    out[o + 18] = s4 & m
    out[o + 19] = 0 - int(s4 < 0)
    out[o + 20] = c5 & m
    out[o + 21] = 0 - int(c5 < 0)
    out[o + 22] = s5 & m
    out[o + 23] = 0 - int(s5 < 0)


@micropython.viper
def cs(res: ptr32, a: int, c: int, wiring: int) -> int:
    """C (a: C's pair) or S (a + 2) of what slot c reports at order offset a. 3Ln3CT: channel c. 2LL (the
    channels carry Uab and Ucb): Ua -> Uab, Ub -> Ubc = -Ucb, Uc -> Uca = (Ucb - Uab) / 2; 2LL2CT also
    Ib = -(Ia + Ic) / 2 (halved: the sum of two 31-bit sums; ratios do not depend on the scale)."""
    h = int(SIGN_BIT)
    if wiring != 0:
        if c == 1:
            return 0 - ((res[a + 8] ^ h) - h)
        if c == 2:
            return (((res[a + 8] ^ h) - h) >> 1) - (((res[a] ^ h) - h) >> 1)
        if c == 4 and wiring == 2:
            return 0 - ((((res[a + 12] ^ h) - h) >> 1) + (((res[a + 20] ^ h) - h) >> 1))
    return (res[a + 4 * c] ^ h) - h


@micropython.viper
def mags(res: ptr32, c: int, wiring: int, thr: int, hr: ptr32, o: int, t: ptr32) -> int:
    """Channel c: HR 2..31 in percent as float32 bits into hr[o..o+29]; sum of |X_h|^2 (h >= 2) in units of
    |X_1|^2 / 2**32 as a 64-bit pair in t[0..1], |X_1|^2 in t[2..3] (scaled alike). Integer maths: each order's
    (C, S) is shifted by its own sh so the larger is below 2**14.5 (squares fit 30 bits), |X| = isqrt, and
    HR = |X_h| * 25600 / |X_1| (percent in Q8, 14-16 significant bits) times 2**(sh_h - sh_1), written as float32
    bits. Returns 0 (hr zeroed) when max(|C_1|, |S_1|) < thr (no fundamental)."""
    m = int(WORD_MASK)
    lo = 0
    hi = 0
    m1 = 1
    sh1 = 0
    k = 0
    while k < 31:
        a = 24 * k
        x = int(cs(res, a, c, wiring))
        y = int(cs(res, a + 2, c, wiring))
        ax = x
        if ax < 0:
            ax = 0 - ax
        ay = y
        if ay < 0:
            ay = 0 - ay
        if ay > ax:
            ax = ay
        if k == 0 and ax < thr:
            j = 0
            while j < 30:
                hr[o + j] = 0
                j += 1
            t[0] = 0
            t[1] = 0
            t[2] = 0
            t[3] = 0
            return 0
        sh = 0
        while (ax >> sh) >= 23170:  # then x*x + y*y < 2**30 (no literal of 2**30 in viper: armv6m)
            sh += 1
        if sh > 0:
            rnd = 1 << (sh - 1)
            x = (x + rnd) >> sh
            y = (y + rnd) >> sh
        p = x * x + y * y  # < 2**30
        r = 0  # integer square root, bit by bit
        b = 1 << 28
        while b > p:
            b = b >> 2
        v = p
        while b != 0:
            if v >= r + b:
                v = v - r - b
                r = (r >> 1) + b
            else:
                r = r >> 1
            b = b >> 2
        if k == 0:
            m1 = r
            if m1 == 0:
                m1 = 1
            sh1 = sh
            t[2] = p
            t[3] = 0
        else:
            # p * 4**(sh - sh1) in units of 2**-32: shift left by 32 - 2 (sh1 - sh)
            L = 32 - 2 * (sh1 - sh)
            if L >= 32:
                al = 0
                ah = p << (L - 32)
            elif L > 0:
                al = (p << L) & m
                ah = p >> (32 - L)
            elif L > -31:
                al = p >> (0 - L)
                ah = 0
            else:
                al = 0
                ah = 0
            s = (lo + al) & m
            if uint(s) < uint(lo):
                hi += 1
            lo = s
            hi += ah
            q = (r * 25600 + (m1 >> 1)) // m1  # r, m1 < 32768: below 2**30
            bits = 0
            if q > 0:
                e = 0
                while (q >> e) > 1:
                    e += 1
                if e <= 23:
                    mant = q << (23 - e)
                else:
                    mant = q >> (e - 23)
                ex = e - 8 + sh - sh1 + 127
                if ex > 0:
                    bits = (ex << 23) | (mant & 0x7FFFFF)
            hr[o + k - 1] = bits
        k += 1
    t[0] = lo
    t[1] = hi
    return 1


@micropython.viper
def put(dst: ptr32, d: int, src: ptr32, s: int):
    dst[d] = src[s]
