# SPDX-License-Identifier: MIT
# Harmonic ratios from the spectrum sums (firmware/harmonics_results.py): |X_h| per order in integers, HR_h in percent
# as float32 bits, the sum for THD; the 2LL line-voltage and 2LL2CT Ib derivations per order.
# Viper, allocation-free, the same words on 32-bit devices and the 64-bit unix port.
import micropython

from firmware.words import SIGN_BIT, WORD_MASK


@micropython.viper
def mags(res: ptr32, c: int, wiring: int, thr: int, hr: ptr32, o: int, t: ptr32, g: ptr16) -> int:
    """Channel c: HR 2..31 in percent as float32 bits into hr[o..o+29]; sum of |X_h|^2 (h >= 2) in units of
    |X_1|^2 / 2**32 as a 64-bit pair in t[0..1], |X_1|^2 in t[2..3] (scaled alike). Integer maths: each order's
    (C, S) is shifted by its own sh so the larger is below 15000, then multiplied by the front end's gain
    g[h - 1] (Q15, below 1.544: firmware/droop.py), so it stays below 2**14.5 (squares fit 30 bits), |X| = isqrt, and
    HR = |X_h| * 25600 / |X_1| (percent in Q8, 14-16 significant bits) times 2**(sh_h - sh_1), written as float32
    bits. Returns 0 (hr zeroed) when max(|C_1|, |S_1|) < thr (no fundamental).
    What slot c reports: 3Ln3CT channel c. 2LL (the channels carry Uab and Ucb): Ua -> Uab, Ub -> Ubc = -Ucb,
    Uc -> Uca = (Ucb - Uab) / 2; 2LL2CT also Ib = -(Ia + Ic) / 2 (halved: the sum of two 31-bit sums; ratios do
    not depend on the scale). c = 6, 7, 8 (3Ln3CT): the line voltages (Ua - Ub, Ub - Uc, Uc - Ua) / 2. res holds C at 24 k + 4 c, S at + 2 (low words: every sum is below 2**31)."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    md = 0  # 0: channel c itself, 1: -Ucb, 2: (Ucb - Uab) / 2, 3: -(Ia + Ic) / 2, 4: (ch pa - ch pb) / 2
    pa = 0
    pb = 0
    if c >= 6:
        md = 4
        pa = 4 * (c - 6)
        pb = pa + 4
        if pb == 12:
            pb = 0
    elif wiring != 0:
        if c == 1:
            md = 1
        elif c == 2:
            md = 2
        elif c == 4 and wiring == 2:
            md = 3
    lo = 0
    hi = 0
    m1 = 1
    sh1 = 0
    k = 0
    while k < 31:
        a = 24 * k
        if md == 0:
            x = (res[a + 4 * c] ^ h) - h
            y = (res[a + 4 * c + 2] ^ h) - h
        elif md == 1:
            x = 0 - ((res[a + 8] ^ h) - h)
            y = 0 - ((res[a + 10] ^ h) - h)
        elif md == 2:
            x = (((res[a + 8] ^ h) - h) >> 1) - (((res[a] ^ h) - h) >> 1)
            y = (((res[a + 10] ^ h) - h) >> 1) - (((res[a + 2] ^ h) - h) >> 1)
        elif md == 4:
            x = (((res[a + pa] ^ h) - h) >> 1) - (((res[a + pb] ^ h) - h) >> 1)
            y = (((res[a + pa + 2] ^ h) - h) >> 1) - (((res[a + pb + 2] ^ h) - h) >> 1)
        else:
            x = 0 - ((((res[a + 12] ^ h) - h) >> 1) + (((res[a + 20] ^ h) - h) >> 1))
            y = 0 - ((((res[a + 14] ^ h) - h) >> 1) + (((res[a + 22] ^ h) - h) >> 1))
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
        while (ax >> sh) >= 15000:  # x g < 23170: x*x + y*y < 2**30 (no literal of 2**30 in viper: armv6m)
            sh += 1
        if sh > 0:
            rnd = 1 << (sh - 1)
            x = (x + rnd) >> sh
            y = (y + rnd) >> sh
        gk = int(g[k])
        x = (x * gk + 16384) >> 15  # the front end's droop divided out (|x| < 15000, gk < 50600: below 2**30)
        y = (y * gk + 16384) >> 15
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
def power(res: ptr32, mix: int, d: ptr16, t: ptr32):
    """Power of a channel mix over orders 1..31 and what the front end took from it: sum |X_h|^2 into t[0..1],
    sum d_h |X_h|^2 * 2**15 into t[2..3] (64-bit pairs, the same shifted units), d the excess gains of
    firmware/droop.py (Q15: G_h^2 - G_1^2, 0 at h = 1; G_1^2 - 1 is below 7e-4, so this is G_h^2 / G_1^2 - 1 to
    within 7e-4 of itself). The mean square the filter let through, times 1 + t[2..3] / (t[0..1] 2**15), is the
    one before it (orders above 1 relative to the fundamental).
    mix: 2 bits per channel 0..5 (bits 2c, 2c+1): 1 adds channel c, 3 subtracts it, 0 leaves it out (at most
    three channels); each term enters as a quarter (three 31-bit sums stay below 2**31)."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    n = 0  # the mix as up to three (offset, sign) terms
    o0 = 0
    o1 = 0
    o2 = 0
    g0 = 0
    g1 = 0
    g2 = 0
    c = 0
    while c < 6:
        s = (mix >> (2 * c)) & 3
        if s != 0:
            if n == 0:
                o0 = 4 * c
                g0 = s
            elif n == 1:
                o1 = 4 * c
                g1 = s
            else:
                o2 = 4 * c
                g2 = s
            n += 1
        c += 1
    if n == 0:
        t[0] = 0
        t[1] = 0
        t[2] = 0
        t[3] = 0
        return
    big = 0  # pass 1: the largest |C|, |S| of the mix over the orders (one shift for all)
    k = 0
    while k < 62:  # 31 orders x (C, S)
        a = 24 * (k >> 1) + 2 * (k & 1)
        v = ((res[a + o0] ^ h) - h) >> 2
        if g0 == 3:
            v = 0 - v
        if n > 1:
            x = ((res[a + o1] ^ h) - h) >> 2
            if g1 == 1:
                v += x
            else:
                v -= x
        if n > 2:
            x = ((res[a + o2] ^ h) - h) >> 2
            if g2 == 1:
                v += x
            else:
                v -= x
        if v < 0:
            v = 0 - v
        if v > big:
            big = v
        k += 1
    sh = 0
    while (big >> sh) >= 16384:  # |C|, |S| < 2**14: p = C^2 + S^2 < 2**29
        sh += 1
    lo = 0
    hi = 0
    lo2 = 0
    hi2 = 0
    p = 0
    k = 0
    while k < 62:
        a = 24 * (k >> 1) + 2 * (k & 1)
        v = ((res[a + o0] ^ h) - h) >> 2
        if g0 == 3:
            v = 0 - v
        if n > 1:
            x = ((res[a + o1] ^ h) - h) >> 2
            if g1 == 1:
                v += x
            else:
                v -= x
        if n > 2:
            x = ((res[a + o2] ^ h) - h) >> 2
            if g2 == 1:
                v += x
            else:
                v -= x
        if sh > 0:
            v = (v + (1 << (sh - 1))) >> sh
        if (k & 1) == 0:
            p = v * v
        else:  # the order's C^2 + S^2 is complete
            p += v * v
            s = (lo + p) & m
            if uint(s) < uint(lo):
                hi += 1
            lo = s
            dk = int(d[k >> 1])  # below 1.4 in Q15: the partial products stay below 2**31
            e = (p & 16383) * dk  # p d = (p >> 14) d 2**14 + (p & 16383) d
            s = (lo2 + e) & m
            if uint(s) < uint(lo2):
                hi2 += 1
            lo2 = s
            e = (p >> 14) * dk
            s = (lo2 + ((e << 14) & m)) & m
            if uint(s) < uint(lo2):
                hi2 += 1
            lo2 = s
            hi2 += e >> 18
        k += 1
    t[0] = lo
    t[1] = hi
    t[2] = lo2
    t[3] = hi2


@micropython.viper
def cross(res: ptr32, cu: int, ci: int, d: ptr16, t: ptr32):
    """Active power of channels cu (voltage) and ci (current) per order, for the front end's excess over the
    fundamental: sum_{h >= 2} (C_u C_i + S_u S_i)_h d_h * 2**15 into t[0..1] (signed 64-bit pair), and the
    fundamental's C_u, S_u, C_i, S_i in t[2..5], each channel shifted alike at every order so that |C|, |S| < 2**14
    (d: firmware/droop.py gains, Q15 G_h^2 - G_1^2). P of order h is (C_u C_i + S_u S_i) / 2 in these units."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    su = 0
    si = 0
    j = 0
    while j < 2:  # the largest |C|, |S| of each channel over the orders: its shift
        c = cu if j == 0 else ci
        big = 0
        k = 0
        while k < 62:
            v = (res[24 * (k >> 1) + 2 * (k & 1) + 4 * c] ^ h) - h
            if v < 0:
                v = 0 - v
            if v > big:
                big = v
            k += 1
        sh = 0
        while (big >> sh) >= 16384:
            sh += 1
        if j == 0:
            su = sh
        else:
            si = sh
        j += 1
    lo = 0
    hi = 0
    k = 0
    while k < 31:
        a = 24 * k
        uc = (res[a + 4 * cu] ^ h) - h
        us = (res[a + 4 * cu + 2] ^ h) - h
        ic = (res[a + 4 * ci] ^ h) - h
        is_ = (res[a + 4 * ci + 2] ^ h) - h
        if su > 0:
            r = 1 << (su - 1)
            uc = (uc + r) >> su
            us = (us + r) >> su
        if si > 0:
            r = 1 << (si - 1)
            ic = (ic + r) >> si
            is_ = (is_ + r) >> si
        if k == 0:
            t[2] = uc & m
            t[3] = us & m
            t[4] = ic & m
            t[5] = is_ & m
        else:
            p = uc * ic + us * is_  # |p| < 2**29
            neg = 0
            if p < 0:
                p = 0 - p
                neg = 1
            dk = int(d[k])  # below 1.4 in Q15
            e1 = (p & 16383) * dk
            e2 = (p >> 14) * dk  # p d = e2 2**14 + e1: e1 < 2**30, e2 < 2**30.5
            el = (e1 + ((e2 << 14) & m)) & m
            eh = e2 >> 18
            if uint(el) < uint(e1):
                eh += 1
            if neg:  # two's complement of the 64-bit pair
                el = (0 - el) & m
                eh = 0 - eh
                if el != 0:
                    eh -= 1
            s = (lo + el) & m
            if uint(s) < uint(lo):
                hi += 1
            lo = s
            hi += eh
        k += 1
    t[0] = lo
    t[1] = hi


@micropython.viper
def put(dst: ptr32, d: int, src: ptr32, s: int):
    dst[d] = src[s]
