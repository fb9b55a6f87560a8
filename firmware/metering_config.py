# SPDX-License-Identifier: MIT
# Metering's configuration: the quantities it outputs (OUT, ANGLES: the workspace's order), its thresholds, and the
# workspace constants derived from the settings (ratios, wiring, calibration gains and lags, IST), written when the
# settings change (Metering.configure). Per-window arithmetic: firmware/metering.py.
import math

from firmware import deadband, frontend
from firmware import workspace as ws

# Outputs in this order are computed into the workspace (ws.OUTPUTS, ws.O_x), then copied to their regmap slots.
OUT = ("Ua", "Ub", "Uc", "Uab", "Ubc", "Uca", "Ia", "Ib", "Ic", "Pa", "Pb", "Pc", "P", "Qa", "Qb", "Qc", "Q",
       "Sa", "Sb", "Sc", "S", "PFa", "PFb", "PFc", "PF", "F", "I_N", "I_N_m", "U_avg", "UL_avg", "I_avg", "T")
ANGLES = ("Phi_a", "Phi_b", "Phi_c", "Phi")  # phase angles, degrees (firmware/angle.py), into vals directly
U_TH = 0.5  # volts, secondary side: a voltage below reads 0 (and its phase counts no power): ADC noise at 0 V
U_REF = 10.0  # volts rms, secondary: a voltage the sampler can synchronise to (sampler._PRESENT_MS)
_U_CODE = frontend.U_FULL_SCALE / 32768  # a reduced code (24-bit code >> 8) in volts
_I_CODE = frontend.I_FULL_SCALE / 32768
_Q15 = 32767  # amplitude of the kernel's sine table

PAIRS = ((0, 1), (1, 2), (2, 0))  # Uab Ubc Uca: channels a, b of each, P_UU + j the cross sum of the pair


def precompute(w, cal, lag, pt, ct, syss, ist):
    """Write the workspace constants (array('f') w, slots ws.KU .. ws.UREF) for ratios pt (Pt_U) and ct (Ct_I),
    wiring syss (0 3Ln3CT, 1 2LL3CT, 2 2LL2CT), the 7 channel gain factors cal and lags lag (degrees at the
    fundamental; Ua Ub Uc Ia Ib Ic In) and the starting current ist (mA, secondary). Allocates (runs when
    settings change)."""
    for p in range(3):
        ci = cal[3 + p]
        if syss == 2 and p == 1:
            ci = (cal[3] + cal[5]) / 2  # the derived ib = -(ia + ic) carries the mean gain of the two CTs
        ku = _U_CODE * cal[p] * pt
        ki = _I_CODE * ci * ct
        w[ws.KU + p] = ku
        w[ws.KI + p] = ki
        w[ws.KP + p] = ku * _I_CODE * cal[3 + p] * ct
        w[ws.KQ + p] = w[ws.KP + p] * 2 / (_Q15 * _Q15)
        w[ws.G2 + p] = cal[p] * cal[p]
        a, b = PAIRS[p]
        w[ws.GX + p] = 2 * cal[a] * cal[b]
        r = math.radians(lag[p] - lag[3 + p])  # true U I* = measured x exp(j (lag_u - lag_i))
        w[ws.COS + p] = math.cos(r)
        w[ws.SIN + p] = math.sin(r)
    w[ws.KUL] = _U_CODE * pt
    w[ws.KIN] = _I_CODE * cal[6] * ct
    w[ws.KIS] = _I_CODE * (cal[3] + cal[4] + cal[5]) / 3 * ct
    for k in range(3):
        r = math.radians(lag[3 + k])  # a lagging channel's phasor turns back by its lag
        w[ws.CG + k] = cal[3 + k] * math.cos(r)
        w[ws.SG + k] = cal[3 + k] * math.sin(r)
    w[ws.KIU] = _I_CODE * ct
    w[ws.K2] = 2.0 / (_Q15 * _Q15)
    w[ws.GAV2] = ((cal[3] + cal[4] + cal[5]) / 3) ** 2
    w[ws.IST] = ist / 1000.0 * ct
    w[ws.UTH] = U_TH * pt
    w[ws.ZERO] = 0.0
    w[ws.THIRD] = 1.0 / 3.0
    w[ws.DBK] = deadband.K_ON
    w[ws.DBF] = deadband.FLOOR * pt * ct
    w[ws.UREF] = U_REF * pt
