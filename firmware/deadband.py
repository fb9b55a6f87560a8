# SPDX-License-Identifier: MIT
# Direction dead band with hysteresis: the sign of P or Q (import/export, inductive/capacitive, quadrant, the
# LCD's minus sign) only where the meter can know it, and no flicker on a steady load near zero (docs/metering.md).
from micropython import const

NONE = const(0)  # no direction: |x| within the dead band
POS = const(1)
NEG = const(2)
# Enter a direction when |x| > on = max(FLOOR x Pt_U x Ct_I, K_ON x S); keep it while x stays on its side at
# least off = on / 2 (Schmitt trigger). K_ON: a class 0.5 meter may be 0.2 deg off in angle (0.35 % of S in Q
# near unity PF, 0.35 % of S in P near PF 0), so a sign below 0.5 % of S is not known. FLOOR: the manual's
# display resolution of P and Q (0.1 W, 0.1 var), secondary side.
K_ON = 0.005
FLOOR = 0.1


def direction(x, s, prev, floor=FLOOR):
    """Direction (NONE, POS, NEG) of a signed value x (P, Q; W or var) against the apparent power s of the same
    element (VA), given the direction shown before (prev): the same rule as metering's STATUS. floor: the
    absolute floor in the units of x (FLOOR x Pt_U x Ct_I on the primary side). Pure; for the panel's minus
    sign of P, Q and PF rows (PF carries the direction of P)."""
    on = K_ON * abs(s)
    if on < floor:
        on = floor
    off = on / 2
    if prev == POS and x >= off:
        return POS
    if prev == NEG and -x >= off:
        return NEG
    if x > on:
        return POS
    if x < -on:
        return NEG
    return NONE
