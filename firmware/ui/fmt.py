# SPDX-License-Identifier: MIT
# Number formatting for the LCD: 4 significant digits with an auto-ranged unit prefix, sign kept apart.
# Rule: pick the smallest prefix whose rounded mantissa is below 1000; the top prefix may grow to 5 digits, then "OL".

# `units` below is a unit ladder, smallest first, one step = x1000 (manual 4.1 item 20): the pages' _V, _W ...
# in firmware/ui/pages.py. A ladder may have up to len(_SCALE) steps; a longer one needs a larger _SCALE.
_SCALE = (1.0, 1000.0, 1000000.0)
# Decimals by integer digits: 1 digit -> 3 decimals, 2 -> 2, 3 -> 1 (always 4 significant digits).
_FMTS = ("%.3f", "%.2f", "%.1f")
_BIG = 1e30  # beyond any real reading; also catches inf ("%f" of huge values prints "1e+60" in MicroPython)
NAN_TEXT = "----"
OVER_TEXT = "OL"


def number(v, units):
    """(negative, digits, unit) for value v in the base unit of `units`; digits carry no sign."""
    if v != v:
        return False, NAN_TEXT, units[0]
    neg = v < 0
    a = abs(v)  # also turns -0.0 into 0.0
    if a >= _BIG:
        return neg, OVER_TEXT, units[-1]
    top = len(units) - 1
    for p in range(top + 1):
        m = a / _SCALE[p]
        # below 10**k the integer part has at most k digits, so the first k-1 formats cannot fit: skip them
        # (float formatting costs ~1 ms on the RP2040; the result is the same as trying them all)
        first = 0 if m < 10.0 else 1 if m < 100.0 else 2 if m < 1000.0 else 3
        for d in range(first, 3):
            s = _FMTS[d] % m
            if s.find(".") <= d + 1:
                # A reading that rounds to zero shows no sign (no "-0.000").
                return neg and _nonzero(s), s, units[p]
        if p == top:
            s = "%.0f" % m
            if len(s) > 5:
                return neg, OVER_TEXT, units[p]
            return neg, s, units[p]
    return neg, OVER_TEXT, units[top]  # not reached


def whole(v):
    """(negative, digits) of v rounded to a whole number (half away from zero): the temperature's 1 degC
    resolution (manual 1.2). NaN -> ----, beyond 4 digits -> OL (a PT100 reads -200 .. 850 C)."""
    if v != v:
        return False, NAN_TEXT
    a = abs(v)
    if a >= 9999.5:
        return v < 0, OVER_TEXT
    n = int(a + 0.5)
    return v < 0 and n != 0, str(n)


def _nonzero(s):
    for c in s:
        if c != "0" and c != ".":
            return True
    return False


def quantity(v, units):
    """One string as a person would read it off the glass: '-1.235 MW', '220.0 V', '0.866'."""
    neg, s, u = number(v, units)
    if neg:
        s = "-" + s
    return s + " " + u if u else s
