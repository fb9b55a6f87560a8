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
    m = ws.M
    t = ws.T
    fmul(w, t, m + P_X + p, m + P_X + 3 + p)
    # EC: what P adds to the raw mean u*i (energy integrates the sums exactly and this term apart): - the DC product
    fmul(w, ws.EC + p, t, ws.KP + p)
    sf32.fmul2(w, ws.EC + p, ws.EC + p, e)
    fsub(w, t, m + P_UI + p, t)
    fmul(w, ws.EP + p, t, ws.KP + p)
    sf32.fmul2(w, ws.EP + p, ws.EP + p, e)
    if not dft:
        sf32.fcopy(w, ws.EDP + p, ws.ZERO)
        fsub(w, ws.EC + p, ws.ZERO, ws.EC + p)
        _droop(w, p)
        return
    # X = S + jC (mean x sin, mean x cos): U I* = (Su Si + Cu Ci) + j (Cu Si - Su Ci), + when the current lags
    fmul(w, t, m + P_S + p, m + P_S + 3 + p)
    fmul(w, t + 1, m + P_C + p, m + P_C + 3 + p)
    fadd(w, t, t, t + 1)
    fmul(w, t, t, ws.KQ + p)
    sf32.fmul2(w, t, t, e)  # t: measured P1
    fmul(w, t + 1, m + P_C + p, m + P_S + 3 + p)
    fmul(w, t + 2, m + P_S + p, m + P_C + 3 + p)
    fsub(w, t + 1, t + 1, t + 2)
    fmul(w, t + 1, t + 1, ws.KQ + p)
    sf32.fmul2(w, t + 1, t + 1, e)  # t + 1: measured Q1
    # rotate: P1' = P1 cos - Q1 sin, Q1' = Q1 cos + P1 sin
    fmul(w, t + 2, t, ws.COS + p)
    fmul(w, t + 3, t + 1, ws.SIN + p)
    fsub(w, ws.EP1 + p, t + 2, t + 3)
    fmul(w, t + 2, t + 1, ws.COS + p)
    fmul(w, t + 3, t, ws.SIN + p)
    fadd(w, ws.EQ1 + p, t + 2, t + 3)
    fsub(w, ws.EDP + p, ws.EP1 + p, t)
    fadd(w, ws.EP + p, ws.EP + p, ws.EDP + p)
    fsub(w, ws.EC + p, ws.EDP + p, ws.EC + p)
    # the harmonic orders' droop beyond the fundamental's: PX (from the harmonic analysis) x |U1 I1| measured
    fmul(w, t, t, t)
    fmul(w, t + 1, t + 1, t + 1)
    fadd(w, t, t, t + 1)
    sf32.fsqrt(w, t, t)
    fmul(w, t, t, ws.PX + p)
    fadd(w, ws.EP + p, ws.EP + p, t)
    fadd(w, ws.EC + p, ws.EC + p, t)
    fmul(w, ws.EP1 + p, ws.EP1 + p, ws.GG)
    fmul(w, ws.EQ1 + p, ws.EQ1 + p, ws.GG)
    _droop(w, p)


def _droop(w, p):
    """The front end's filter divided out at the fundamental: P x G_1^2, and energy's correction term takes the
    difference (the u*i sums it integrates passed the same filter)."""
    t = ws.T
    sf32.fmul(w, t, ws.EP + p, ws.GGM)
    sf32.fadd(w, ws.EC + p, ws.EC + p, t)
    sf32.fadd(w, ws.EP + p, ws.EP + p, t)


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
    t = ws.T
    fcopy(w, t, z)
    fcopy(w, t + 1, z)
    for k in range(3):
        fmul(w, t + 2, ws.O_UL + k, ws.O_UL + k)
        fadd(w, t, t, t + 2)
        fmul(w, t + 2, ws.O_I + k, ws.O_I + k)
        fadd(w, t + 1, t + 1, t + 2)
    fmul(w, t, t, t + 1)
    fmul(w, t, t, ws.THIRD)
    sf32.fsqrt(w, ws.O_S + 3, t)
    if not (gate[0] or gate[2]):
        fcopy(w, ws.O_S + 3, z)
    _pf(w, ws.O_PF + 3, ws.O_P + 3, ws.O_S + 3)
