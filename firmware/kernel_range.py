# SPDX-License-Identifier: MIT
# Current range widening inside a window (viper, called by firmware/kernel.py for the rare sample that needs it).
# The currents are reduced to 16 bits by a right shift chosen per window (firmware/sampler.py: auto range). When
# a sample would not fit at the window's shift, the window moves to the narrowest wider shift that holds it and
# the sums it has so far are rescaled to that shift: no sample inside the ADC's range is ever clipped by the
# reduction, so a load step after quiet windows loses no energy (docs/metering.md, "Current range").
import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

_ES = const(66)  # kernel._ES: the products of the window's first sample
_WIDEST = const(8)  # 24-bit codes >> 8 always fit 16 bits
# products that depend on the currents (kernel.P_*): linear in a current (ia..in, u*i, i*cos, i*sin) ...
_LIN = b"\x03\x04\x05\x06\x0e\x0f\x10\x17\x18\x19\x1d\x1e\x1f"
# ... and quadratic (ia*ia .. in*in, the vector sum squared)
_QUAD = b"\x0a\x0b\x0c\x0d\x20"


@micropython.viper
def fits(blk: ptr32, b: int, ish: int, derive: int) -> int:
    """1 when the currents of the sample at word b of blk (ia ib ic in; ib = -(ia + ic) when derive; and the
    vector sum ia + ib + ic) all lie within +-32767 after the reduction (x + 2**(ish-1)) >> ish, else 0."""
    h = int(SIGN_BIT)
    rnd = 1 << (ish - 1)
    ia = ((((blk[b + 3] ^ h) - h) + rnd) >> ish)
    ib = ((((blk[b + 4] ^ h) - h) + rnd) >> ish)
    ic = ((((blk[b + 5] ^ h) - h) + rnd) >> ish)
    xn = ((((blk[b + 6] ^ h) - h) + rnd) >> ish)
    if derive:
        ib = 0 - ia - ic
    sn = ia + ib + ic
    if ia > 32767 or ia < -32767 or ib > 32767 or ib < -32767 or ic > 32767 or ic < -32767:
        return 0
    if xn > 32767 or xn < -32767 or sn > 32767 or sn < -32767:
        return 0
    return 1


@micropython.viper
def _shift(st: ptr32, a: int, d: int):
    # the 64-bit pair st[a] (low word), st[a + 1] (high, signed) shifted right by d (1..30), rounding down
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    hi = (st[a + 1] ^ h) - h
    lo = int((uint(st[a]) & uint(m)) >> d) | ((hi << (32 - d)) & m)
    st[a] = lo
    st[a + 1] = hi >> d


@micropython.viper
def widen(blk: ptr32, b: int, st: ptr32, ish: int, derive: int) -> int:
    """The narrowest shift above ish (at most 8) at which the sample at word b of blk fits (see fits); the
    window's current sums (state words 0..65) and first-sample products (_ES) are rescaled from ish to it, rounding
    down: the dropped bits lie below the new shift's resolution. Returns the new shift. No allocation."""
    h = int(SIGN_BIT)
    w = ish + 1
    while w < _WIDEST:
        if int(fits(blk, b, w, derive)):
            break
        w += 1
    d = w - ish
    lin = ptr8(_LIN)
    quad = ptr8(_QUAD)
    j = 0
    while j < 13:
        k = lin[j]
        _shift(st, k << 1, d)
        st[_ES + k] = ((st[_ES + k] ^ h) - h) >> d
        j += 1
    j = 0
    while j < 5:
        k = quad[j]
        _shift(st, k << 1, d + d)
        st[_ES + k] = ((st[_ES + k] ^ h) - h) >> (d + d)
        j += 1
    return w
