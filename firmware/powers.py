# SPDX-License-Identifier: MIT
# Per-window powers on the metering workspace (firmware/workspace.py), soft float32, no allocation:
# the star method (3Ln3CT, three elements) and the two-element method (2LL3CT/2LL2CT), with phase correction.
from firmware import sf32, sf32conv
from firmware import workspace as ws
from firmware.kernel import P_C, P_S, P_UI, P_X


def element(w, p, dft, e):
    """Element p: voltage channel p with current channel 3 + p. EP = time-domain P (all harmonics, DC removed);
    with a locked DFT the fundamental P1, Q1 are rotated by the phase correction and P takes the corrected P1
    in place of the measured one (harmonic orders keep their small skew error). Q stays as it was when the DFT
    is not locked."""
    fmul = sf32.fmul
    fsub = sf32.fsub
    fadd = sf32.fadd
    m = ws.MEANS
    p1 = ws.TMP  # the DC product, then the measured fundamental P1, then |P1 + jQ1| x PX
    q1 = ws.TMP + 1  # the measured fundamental Q1
    x = ws.TMP + 2  # products
    y = ws.TMP + 3
    fmul(w, p1, m + P_X + p, m + P_X + 3 + p)
    # EC: what P adds to the raw mean u*i (energy integrates the sums exactly and this term apart): - the DC product
    fmul(w, ws.EC + p, p1, ws.KP + p)
    sf32.fmul2(w, ws.EC + p, ws.EC + p, e)
    fsub(w, p1, m + P_UI + p, p1)
    fmul(w, ws.EP + p, p1, ws.KP + p)
    sf32.fmul2(w, ws.EP + p, ws.EP + p, e)
    if not dft:
        sf32.fcopy(w, ws.EDP + p, ws.ZERO)
        fsub(w, ws.EC + p, ws.ZERO, ws.EC + p)
        _droop(w, p)
        return
    # X = S + jC (mean x sin, mean x cos): U I* = (Su Si + Cu Ci) + j (Cu Si - Su Ci), + when the current lags
    fmul(w, p1, m + P_S + p, m + P_S + 3 + p)
    fmul(w, q1, m + P_C + p, m + P_C + 3 + p)
    fadd(w, p1, p1, q1)
    fmul(w, p1, p1, ws.KQ + p)
    sf32.fmul2(w, p1, p1, e)  # p1: measured P1
    fmul(w, q1, m + P_C + p, m + P_S + 3 + p)
    fmul(w, x, m + P_S + p, m + P_C + 3 + p)
    fsub(w, q1, q1, x)
    fmul(w, q1, q1, ws.KQ + p)
    sf32.fmul2(w, q1, q1, e)  # q1: measured Q1
    # rotate: P1' = P1 cos - Q1 sin, Q1' = Q1 cos + P1 sin
    fmul(w, x, p1, ws.COS + p)
    fmul(w, y, q1, ws.SIN + p)
    fsub(w, ws.EP1 + p, x, y)
    fmul(w, x, q1, ws.COS + p)
    fmul(w, y, p1, ws.SIN + p)
    fadd(w, ws.EQ1 + p, x, y)
    fsub(w, ws.EDP + p, ws.EP1 + p, p1)
    fadd(w, ws.EP + p, ws.EP + p, ws.EDP + p)
    fsub(w, ws.EC + p, ws.EDP + p, ws.EC + p)
    # the harmonic orders' droop beyond the fundamental's: PX (from the harmonic analysis) x |U1 I1| measured
    fmul(w, p1, p1, p1)
    fmul(w, q1, q1, q1)
    fadd(w, p1, p1, q1)
    sf32.fsqrt(w, p1, p1)
    fmul(w, p1, p1, ws.PX + p)
    fadd(w, ws.EP + p, ws.EP + p, p1)
    fadd(w, ws.EC + p, ws.EC + p, p1)
    fmul(w, ws.EP1 + p, ws.EP1 + p, ws.GG)
    fmul(w, ws.EQ1 + p, ws.EQ1 + p, ws.GG)
    _droop(w, p)


def _droop(w, p):
    """The front end's filter divided out at the fundamental: P x G_1^2, and energy's correction term takes the
    difference (the u*i sums it integrates passed the same filter)."""
    d = ws.TMP  # what the droop adds to P
    sf32.fmul(w, d, ws.EP + p, ws.GGM)
    sf32.fadd(w, ws.EC + p, ws.EC + p, d)
    sf32.fadd(w, ws.EP + p, ws.EP + p, d)


def clear_element(w, p):
    z = ws.ZERO
    sf32.fcopy(w, ws.EP + p, z)
    sf32.fcopy(w, ws.EP1 + p, z)
    sf32.fcopy(w, ws.EQ1 + p, z)
    sf32.fcopy(w, ws.EDP + p, z)
    sf32.fcopy(w, ws.EC + p, z)


def _pf(w, d, p, s):
    if sf32conv.fsign(w, s) > 0:
        sf32.fdiv(w, d, p, s)
    else:
        sf32.fcopy(w, d, ws.ZERO)


def star(w, gate, dft, e):
    """3Ln3CT: per-phase P Q, S = U I, PF = P / S; totals as sums, PF = P / S. A gated phase reads 0."""
    fadd = sf32.fadd
    fcopy = sf32.fcopy
    for p in range(3):
        if gate[p]:
            element(w, p, dft, e)
            sf32.fmul(w, ws.O_S + p, ws.O_U + p, ws.O_I + p)
        else:
            clear_element(w, p)
            fcopy(w, ws.O_S + p, ws.ZERO)
        fcopy(w, ws.O_P + p, ws.EP + p)
        fcopy(w, ws.O_Q + p, ws.EQ1 + p)
        _pf(w, ws.O_PF + p, ws.O_P + p, ws.O_S + p)
    for k in range(3):  # totals of P, Q, S (slots 4 apart)
        base = ws.O_P + 4 * k
        fadd(w, base + 3, base, base + 1)
        fadd(w, base + 3, base + 3, base + 2)
    _pf(w, ws.O_PF + 3, ws.O_P + 3, ws.O_S + 3)


def two_element(w, gate, dft, e):
    """2LL3CT/2LL2CT: P = Uab Ia + Ucb Ic (channels a and c carry Uab and Ucb), Q likewise from the
    fundamentals; per-phase P Q S PF read 0. S is the effective apparent power of IEEE 1459 for three wires,
    S = sqrt((Uab^2 + Ubc^2 + Uca^2) (Ia^2 + Ib^2 + Ic^2) / 3) (3 U I when balanced); PF = P / S."""
    fmul = sf32.fmul
    fadd = sf32.fadd
    fcopy = sf32.fcopy
    z = ws.ZERO
    for p in (0, 2):
        if gate[p]:
            element(w, p, dft, e)
        else:
            clear_element(w, p)
    clear_element(w, 1)
    for k in range(3):
        fcopy(w, ws.O_P + k, z)
        fcopy(w, ws.O_Q + k, z)
        fcopy(w, ws.O_S + k, z)
        fcopy(w, ws.O_PF + k, z)
    fadd(w, ws.O_P + 3, ws.EP, ws.EP + 2)
    fadd(w, ws.O_Q + 3, ws.EQ1, ws.EQ1 + 2)
    u2 = ws.TMP  # the sum of the line voltages squared
    i2 = ws.TMP + 1  # the sum of the currents squared
    x = ws.TMP + 2  # a square
    fcopy(w, u2, z)
    fcopy(w, i2, z)
    for k in range(3):
        fmul(w, x, ws.O_UL + k, ws.O_UL + k)
        fadd(w, u2, u2, x)
        fmul(w, x, ws.O_I + k, ws.O_I + k)
        fadd(w, i2, i2, x)
    fmul(w, u2, u2, i2)
    fmul(w, u2, u2, ws.THIRD)
    sf32.fsqrt(w, ws.O_S + 3, u2)
    if not (gate[0] or gate[2]):
        fcopy(w, ws.O_S + 3, z)
    _pf(w, ws.O_PF + 3, ws.O_P + 3, ws.O_S + 3)
