# Harmonic ratios from the spectrum sums (firmware/harmonics.py): |X_h| per order in integers, HR_h in percent
# as float32 bits, the sum for THD; the 2LL line-voltage and 2LL2CT Ib derivations per order.
# Viper, allocation-free, the same words on 32-bit devices and the 64-bit unix port.
import micropython

from firmware.words import SIGN_BIT, WORD_MASK


@micropython.viper
def mags(res: ptr32, c: int, wiring: int, thr: int, hr: ptr32, o: int, t: ptr32) -> int:
    """Channel c: HR 2..31 in percent as float32 bits into hr[o..o+29]; sum of |X_h|^2 (h >= 2) in units of
    |X_1|^2 / 2**32 as a 64-bit pair in t[0..1], |X_1|^2 in t[2..3] (scaled alike). Integer maths: each order's
    (C, S) is shifted by its own sh so the larger is below 2**14.5 (squares fit 30 bits), |X| = isqrt, and
    HR = |X_h| * 25600 / |X_1| (percent in Q8, 14-16 significant bits) times 2**(sh_h - sh_1), written as float32
    bits. Returns 0 (hr zeroed) when max(|C_1|, |S_1|) < thr (no fundamental).
    What slot c reports: 3Ln3CT channel c. 2LL (the channels carry Uab and Ucb): Ua -> Uab, Ub -> Ubc = -Ucb,
    Uc -> Uca = (Ucb - Uab) / 2; 2LL2CT also Ib = -(Ia + Ic) / 2 (halved: the sum of two 31-bit sums; ratios do
    not depend on the scale). res holds C at 24 k + 4 c, S at + 2 (low words: every sum is below 2**31)."""
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    md = 0  # 0: channel c itself, 1: -Ucb, 2: (Ucb - Uab) / 2, 3: -(Ia + Ic) / 2
    if wiring != 0:
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
