# SPDX-License-Identifier: MIT
# The temperature input (PTCA/PTCB, PT100 on ADC channel 7): the front end's code-to-ohms scale and the
# Callendar-Van Dusen curve (IEC 60751) as a table of codes at half-degree boundaries, searched with integers.
import micropython
from micropython import const

# Front end: a 1 mA current source drives the PT100 and the ADC channel's gain is set so that full scale
# (code 2**23) is 400 ohm (850 degC is 390.5 ohm): code = R * 2**23 / 400, 20971.52 codes per ohm, one
# degree is ~0.385 ohm = ~8000 codes. Open sensor: the channel saturates (above the table): T reads 0.
OHMS_FULL = 400.0
CODES_PER_OHM = 8388608 / OHMS_FULL
R0 = 100.0
A = 3.9083e-3
B = -5.775e-7
C = -4.183e-12
T_LO = const(-100)  # table range, degC (the scenario range; operating range -25..70)
T_HI = const(300)
_N = const(402)  # entries in tables.PT100: T_HI - T_LO + 2


def ohms(t):
    """PT100 resistance at t degC (Callendar-Van Dusen; the C term below 0 degC)."""
    r = 1.0 + A * t + B * t * t
    if t < 0:
        r += C * (t - 100.0) * t * t * t
    return R0 * r


def code(t):
    """The ADC code the front end gives at t degC (what tools/generator.py plays on channel 7)."""
    return int(round(ohms(t) * CODES_PER_OHM))


@micropython.viper
def degrees(tab: ptr16, x: int) -> int:
    """Index k with tab[k] <= x < tab[k + 1] (T = T_LO + k, rounded to whole degrees), -1 outside the table.
    tab: tables.PT100 (codes at the half degrees, uint32 as two uint16, low first: in flash, computed on the host,
    so every runtime reads the same codes)."""
    n = _N
    if x < (int(tab[0]) | (int(tab[1]) << 16)) or x >= (int(tab[2 * n - 2]) | (int(tab[2 * n - 1]) << 16)):
        return -1
    lo = 0
    hi = n - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if (int(tab[2 * mid]) | (int(tab[2 * mid + 1]) << 16)) <= x:
            lo = mid
        else:
            hi = mid
    return lo
