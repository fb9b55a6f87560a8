# SPDX-License-Identifier: MIT
# The LCD number format (firmware/ui/fmt.py skips formats that cannot fit) against the rule written out
# straight: try 3, 2, 1 decimals at each prefix and keep the first whose integer part fits (manual 4.1 item 20).
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware.ui import fmt


def reference(v, units):
    if v != v:
        return False, fmt.NAN_TEXT, units[0]
    neg = v < 0
    a = abs(v)
    if a >= fmt._BIG:
        return neg, fmt.OVER_TEXT, units[-1]
    for p in range(len(units)):
        m = a / (1000.0 ** p)
        for d, f in enumerate(("%.3f", "%.2f", "%.1f")):
            s = f % m
            if s.find(".") <= d + 1:
                return neg and any(c not in "0." for c in s), s, units[p]
        if p == len(units) - 1:
            s = "%.0f" % m
            return neg, (fmt.OVER_TEXT if len(s) > 5 else s), units[p]


LADDERS = (("V", "kV"), ("W", "kW", "MW"), ("Hz",), ("",))  # the manual's ladders (4.1 item 20)
EDGES = [9.9995, 9.99949999, 99.995, 99.99499, 999.95, 999.9499, 999949.9, 999950.0, 1e9, 99999.4, 99999.5]


def test_rounding_edges():
    for x in EDGES + [math.nextafter(e, 0) for e in EDGES] + [math.nextafter(e, 2e30) for e in EDGES]:
        for units in LADDERS:
            for v in (x, -x, x / 1000, x * 1000):
                assert fmt.number(v, units) == reference(v, units), (v, units)


@settings(max_examples=3000, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, width=32), st.sampled_from(LADDERS))
def test_same_as_reference(v, units):
    assert fmt.number(v, units) == reference(v, units)
