# SPDX-License-Identifier: MIT
# The front end's frequency response divided out: 1 / |H(f)| of the ADC's sinc3 decimator and the anti-alias RC,
# read from the flash table tables.DROOP at an order's actual frequency h * f1 (docs/metering.md).
# Viper, integers only, no allocation; the same words on 32- and 64-bit ports (every value below 2**31).
import micropython
from micropython import const

_SH = const(23)  # tables.DROOP entry k is at the frequency whose phase step (2**32 per cycle) is k << 23
_FR = const(11)  # the 12 bits below the index: the interpolation weight (Q12)
_N = const(145)  # entries in tables.DROOP


@micropython.viper
def gain(tab: ptr16, hs: int) -> int:
    """(1 / |H| - 1) in Q24 at the frequency of phase step hs (h * step for order h; 2**32 = one cycle per
    sample): quadratic interpolation (Newton, entries k, k + 1, k + 2) between the table's Q24 entries (uint32
    as two uint16, low first); hs <= 0 gives 0, beyond the table the last entry. hs < 2**31."""
    if hs <= 0:
        return 0
    k = hs >> _SH
    if k >= _N - 1:
        k = _N - 1
        return int(tab[2 * k]) | (int(tab[2 * k + 1]) << 16)
    fr = (hs >> _FR) & 4095  # Q12
    if k > _N - 3:
        k = _N - 3  # the last step: the parabola through the last three entries, fr past 1
        fr += 4096
    a = int(tab[2 * k]) | (int(tab[2 * k + 1]) << 16)
    b = int(tab[2 * k + 2]) | (int(tab[2 * k + 3]) << 16)
    c = int(tab[2 * k + 4]) | (int(tab[2 * k + 5]) << 16)
    # a + t (b - a) + t (t - 1) / 2 (c - 2 b + a): |b - a| < 2**18, |c - 2b + a| < 2**13, t (t - 1) in Q12 > -2**11
    return a + (((b - a) * fr) >> 12) + ((((fr * (fr - 4096)) >> 12) * (c - 2 * b + a)) >> 13)


@micropython.viper
def gains(tab: ptr16, step: int, g: ptr16, d: ptr16, n: int):
    """For orders h = 1..n at h * f1, f1 the frequency of the phase step `step` (the harmonic capture's):
    g[h - 1] = 1 / |H| in Q15 (uint16, rounded: below 1.544 for the table's range), what the magnitude of order h
    is multiplied by; d[h - 1] = G_h^2 - G_1^2 in Q15 (0 for h = 1, below 1.4), the excess of the order's power
    over the fundamental's correction (firmware/harmonics_ratio.py: power). h * step < 2**31 up to n f1 = 268 kHz."""
    a1 = int(gain(tab, step))
    h = 1
    while h <= n:
        a = int(gain(tab, h * step))
        g[h - 1] = 32768 + ((a + 256) >> 9)
        x = a - a1
        if x < 0:
            x = 0
        # (G_h - G_1)(G_h + G_1) with G = 1 + a 2**-24: x in Q16 (< 36000) times the sum in Q14 (< 42000), rounded:
        # the product stays below 2**30.5
        d[h - 1] = (((x + 128) >> 8) * ((33554432 + a + a1 + 512) >> 10) + 16384) >> 15
        h += 1
