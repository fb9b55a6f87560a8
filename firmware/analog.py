# SPDX-License-Identifier: MIT
# The 4-20 mA analog output (manual 3.6): the quantity An of `vals` mapped linearly to a current, published in
# the AO slot and handed to the board as whole microamps. Per window allocation-free (soft float32 on slots).
from array import array

import micropython
from micropython import const

from firmware import regmap, sf32, sf32conv

# work slots of self.w
_X = const(0)  # the transmitted quantity, copied from vals
_K = const(1)  # mA per unit of the quantity
_B = const(2)  # mA at quantity 0
_LO = const(3)  # output clamp (mA)
_HI = const(4)
_T = const(5)  # the output current (mA)
_KUA = const(6)  # 1000: mA -> uA
_HALF = const(7)  # 0.5: round to the nearest uA
_N = const(8)

OVER = 1.2  # linear up to 120 % of the range (manual 3.6); the hardware's own ceiling is 24 mA
F_LO = 45.0  # frequency range (Hz) on 4..20 mA: the 50 Hz and 60 Hz systems both inside
F_HI = 65.0
SQRT3 = 1.7320508075688772


@micropython.viper
def _get(dst: ptr32, d: int, src: ptr32, s: int):
    dst[d] = src[s]  # raw float32 word: no float object


def span(name, syss, un, rated_i, pt, ct):
    """(lower, upper, bipolar) of a quantity on the primary side. Unipolar: lower -> 4 mA, upper -> 20 mA.
    Bipolar (powers, PF): -upper -> 4 mA, 0 -> 12 mA, +upper -> 20 mA, so P = (Px - 12) x Pe x CT x PT / 8."""
    if name == "F":
        return F_LO, F_HI, False
    if name[:2] == "PF":
        return -1.0, 1.0, True
    if name[0] == "I":
        return 0.0, float(rated_i * ct), False
    if name[0] == "U":
        # Un is the phase voltage in 3Ln3CT (line voltages then reach sqrt(3) Un), the line voltage in 2LL
        k = SQRT3 if syss == 0 and len(name) == 3 else 1.0
        return 0.0, k * un * pt, False
    # P Q S: Pe = 3 Un In for a total (manual: 220 V / 5 A -> 3300 W), Un In for one phase
    pe = (1 if len(name) == 2 else 3) * un * rated_i
    fs = float(pe) * pt * ct
    return -fs, fs, True


def current(x, lower, upper, bipolar):
    """The output current in mA for value x, straight from the formula (allocates: for tools and tests)."""
    if bipolar:
        r = max(-OVER, min(OVER, x / upper))
        return 12.0 + 8.0 * r
    r = max(0.0, min(OVER, (x - lower) / (upper - lower)))
    return 4.0 + 16.0 * r


class Analog:
    def __init__(self, vals, out=None):
        """vals: the meter's array('f'); out(ua): board callback taking the current in whole microamps."""
        self.vals = vals
        self.out = out
        self.w = array("f", [0.0] * _N)
        self.w[_KUA] = 1000.0
        self.w[_HALF] = 0.5
        self.src = 0
        self.ao = regmap.slot("AO")
        self.ua = -1  # the last microamps handed to out (-1: none yet)
        self.configure(0, 0, 220, 5, 1, 1)
        self.update()  # 4 mA (or the value in vals) from power-up

    def configure(self, code, syss, un, rated_i, pt, ct):
        """Settings An, SYSS, Un, In, Pt_U, Ct_I (allocates: runs when settings change). The output follows at
        the next window: vals still hold values metered with the old ratios until then."""
        name = regmap.AN_NAMES[code]
        self.src = regmap.slot(name)
        lower, upper, bipolar = span(name, syss, un, rated_i, pt, ct)
        w = self.w
        if bipolar:
            w[_K] = 8.0 / upper
            w[_B] = 12.0
            w[_LO] = 12.0 - 8.0 * OVER
            w[_HI] = 12.0 + 8.0 * OVER
        else:
            k = 16.0 / (upper - lower)
            w[_K] = k
            w[_B] = 4.0 - k * lower
            w[_LO] = 4.0
            w[_HI] = 4.0 + 16.0 * OVER

    def update(self):
        """AO = clamp(B + K x) from the current vals; out() hears of a change. No allocation."""
        w = self.w
        _get(w, _X, self.vals, self.src)
        sf32.fmul(w, _T, _X, _K)
        sf32.fadd(w, _T, _T, _B)
        if sf32conv.fcmp(w, _T, _LO) < 0:
            sf32.fcopy(w, _T, _LO)
        elif sf32conv.fcmp(w, _T, _HI) > 0:
            sf32.fcopy(w, _T, _HI)
        _get(self.vals, self.ao, w, _T)
        sf32.fmul(w, _X, _T, _KUA)
        sf32.fadd(w, _X, _X, _HALF)
        ua = sf32conv.to_int(w, _X)
        if ua != self.ua:
            self.ua = ua
            if self.out is not None:
                self.out(ua)
