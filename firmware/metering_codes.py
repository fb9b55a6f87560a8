# SPDX-License-Identifier: MIT
# The codes metering derives from a window's float32 outputs (firmware/metering.py calls these once per window):
# which quantities the window measured or knows (Metering.mask: MEAS, KNOWN; statistics take only these) and the
# directions of P and Q with the dead band, the quadrant and load nature (STATUS). Viper, no allocation.
import micropython
from micropython import const

from firmware import workspace as ws
from firmware.words import SIGN_BIT

STATUS = ("Quad", "NAT_a", "NAT_b", "NAT_c", "NAT")  # uint16 codes per window (regmap STATUS order)
NAT_NONE = const(0)  # no load, or Q exactly 0
NAT_L = const(1)  # inductive: quadrants 1 and 3 (P and Q of the same sign)
NAT_C = const(2)  # capacitive: quadrants 2 and 4
# Metering.mask[slot] per window (docs/metering.md, "What a window measured"): statistics take only these.
MEAS = const(1)  # measured: a complete window, the quantity above its threshold (max/min take these)
KNOWN = const(2)  # known: a complete window, the quantity defined in the wiring (below its threshold it is ~0:
#                   averages over time, as demand, take it; energy counts nothing then either)

# Which condition (a bit of measured()'s `bits`) makes each OUT quantity measured (first 32 bytes) and known (last 32):
# bits 0-2 Ua Ub Uc, 3-5 Uab Ubc Uca, 6-8 Ia Ib Ic read above their thresholds (currents: not clipped); 9-11 element
# a b c counts (3Ln3CT, its current not clipped); 12 an element counts, no phase current clipped (totals); 13 I_N,
# 14 I_N_m above IST, not clipped; 15-17 any phase U, line U, I measured (I: none clipped); 18 F (synchronised);
# 19 T (sensor in range); 20 complete window; 21 complete in 3Ln3CT (phase quantities exist); 22-24 Ia Ib Ic not
# clipped; 25 no phase current clipped; 26 I_N exists (3Ln3CT) and is not clipped; 27 In not clipped; 28-30
# element a b c exists (3Ln3CT), its current not clipped. Bits 20-30 are set in complete windows only.
_BITS = (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x09\x0a\x0b\x0c\x09\x0a\x0b\x0c"
         b"\x09\x0a\x0b\x0c\x12\x0d\x0e\x0f\x10\x11\x13"
         b"\x15\x15\x15\x14\x14\x14\x16\x17\x18\x1c\x1d\x1e\x19\x1c\x1d\x1e\x19\x1c\x1d\x1e\x19"
         b"\x09\x0a\x0b\x0c\x12\x1a\x1b\x15\x14\x19\x13")


@micropython.viper
def measured(w: ptr32, gate: ptr8, mask: ptr8, slots: ptr8, flags: int, clip: int):
    """mask[slots[k]] = MEAS | KNOWN bits of OUT quantity k (firmware/metering_config.py) for this window, from
    the outputs in the workspace w and the element gates. flags: 1 a complete window, 2 star wiring (3Ln3CT),
    4 synchronised, 8 temperature sensor in range; clip: the current channels not measured (done[D_CLIP] with
    D_SAT's bits 3-6). A value below its threshold reads exactly 0, so `measured` is `nonzero` in a complete
    window."""
    tab = ptr8(_BITS)
    h = int(SIGN_BIT)
    bits = 0
    if flags & 1:
        o = int(ws.O_U)  # Ua Ub Uc Uab Ubc Uca Ia Ib Ic: nine slots in a row
        k = 0
        while k < 9:
            x = w[o + k]
            if (x ^ (x & h)) != 0:
                bits |= 1 << k
            k += 1
        o = int(ws.O_IN)
        k = 0
        while k < 2:
            x = w[o + k]
            if (x ^ (x & h)) != 0:
                bits |= 1 << (13 + k)
            k += 1
        ok = (0 - 1) ^ (clip & 7)  # phases whose current did not clip
        star = flags & 2
        if clip & 23:
            bits &= (0 - 1) ^ (1 << 13)  # I_N: the vector sum, its fundamental from the phase currents
        if clip & 8:
            bits &= (0 - 1) ^ (1 << 14)
        bits &= (0 - 1) ^ ((clip & 7) << 6)
        g = int(gate[0]) | (int(gate[1]) << 1) | (int(gate[2]) << 2)
        if g and not (clip & 7):
            bits |= 1 << 12
        if star:
            bits |= ((g & ok & 7) << 9) | (1 << 21) | ((ok & 7) << 28)
            if not (clip & 23):
                bits |= 1 << 26
        if bits & 7:
            bits |= 1 << 15
        if bits & 0x38:
            bits |= 1 << 16
        if (bits & 0x1C0) and not (clip & 7):
            bits |= 1 << 17
        if flags & 4:
            bits |= 1 << 18
        bits |= (1 << 20) | ((ok & 7) << 22)
        if not (clip & 7):
            bits |= 1 << 25
        if not (clip & 8):
            bits |= 1 << 27
    if flags & 8:
        bits |= 1 << 19
    k = 0
    while k < 32:
        mask[slots[k]] = ((bits >> int(tab[k])) & 1) | (((bits >> int(tab[32 + k])) & 1) << 1)
        k += 1


@micropython.viper
def directions(w: ptr32, dirs: ptr8, st: ptr16):
    """Direction of P (dirs 0..3: a b c total) and Q (4..7) with the dead band of firmware/deadband.py (on: the
    larger of DB + j and DBF, off: on / 2, compared as float32 bits), then the STATUS codes Quad NAT_a .. NAT."""
    h = int(SIGN_BIT)
    op = int(ws.O_P)
    oq = int(ws.O_Q)
    db = int(ws.DB)
    fl = w[int(ws.DBF)]
    fl = fl ^ (fl & h)
    k = 0
    while k < 8:
        j = k & 3
        if k < 4:
            x = w[op + j]
        else:
            x = w[oq + j]
        s = x & h
        v = x ^ s
        on = w[db + j]
        on = on ^ (on & h)
        if on < fl:
            on = fl
        off = on - (1 << 23)  # on / 2: one off the exponent (on >= the floor, a normal number)
        d = int(dirs[k])
        if d == 1:
            if s != 0 or v < off:
                d = 0
        elif d == 2:
            if s == 0 or v < off:
                d = 0
        if d == 0 and v > on:
            d = 2 if s else 1
        dirs[k] = d
        k += 1
    j = 0
    while j < 4:
        pd = int(dirs[j])
        qd = int(dirs[4 + j])
        nat = 0
        if qd != 0:
            nat = 1  # inductive: P and Q of the same sign (a P within its band counts as import)
            if pd == 2:
                if qd == 1:
                    nat = 2
            elif qd == 2:
                nat = 2
        st[1 + j] = nat
        j += 1
    pd = int(dirs[3])
    qd = int(dirs[7])
    if pd == 0 or qd == 0:
        st[0] = 0  # no load, or on an axis
    elif pd == 1:
        st[0] = 1 if qd == 1 else 4
    else:
        st[0] = 2 if qd == 1 else 3


@micropython.viper
def fold(w: ptr32, a: int, dirs: ptr8):
    """Phase angles w[a..a+3] (elements a b c, total): where Q has no direction (the dead band) the sign of the
    angle is noise, about 0 or +-180: it reads positive (0.001, not -0.001; 179.999, not -179.999)."""
    h = int(SIGN_BIT)
    k = 0
    while k < 4:
        if int(dirs[4 + k]) == 0:
            x = w[a + k]
            w[a + k] = x ^ (x & h)
        k += 1
