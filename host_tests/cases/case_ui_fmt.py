# SPDX-License-Identifier: MIT
# Front panel number formatting (firmware/ui/fmt.py): exact texts per unit and prefix, and the four-significant-
# digit rule checked as a property against its own written-out definition.
from firmware.ui import fmt

# The manual's unit ladders (4.1 item 20), smallest first, one step = x1000: written out here, not taken from the
# firmware (firmware/ui/pages.py keeps its own as compile-time constants).
UNITS_V = ("V", "kV")
UNITS_A = ("A", "kA")
UNITS_W = ("W", "kW", "MW")
UNITS_VAR = ("var", "kvar", "Mvar")
UNITS_VA = ("VA", "kVA", "MVA")
UNITS_HZ = ("Hz",)
UNITS_PF = ("",)


def test_fmt_ranges():
    cases = (
        (219.96, UNITS_V, "220.0 V"),
        (0.0, UNITS_V, "0.000 V"),
        (9.9996, UNITS_V, "10.00 V"),
        (999.96, UNITS_V, "1.000 kV"),
        (10500.0, UNITS_V, "10.50 kV"),
        (1234567.0, UNITS_W, "1.235 MW"),
        (-1234567.0, UNITS_W, "-1.235 MW"),
        (-1500.0, UNITS_W, "-1.500 kW"),
        (-0.0001, UNITS_W, "0.000 W"),  # rounds to zero: no sign
        (12.3456, UNITS_A, "12.35 A"),
        (0.05, UNITS_A, "0.050 A"),
        (250000.0, UNITS_A, "250.0 kA"),
        (5e9, UNITS_W, "5000 MW"),  # the top prefix grows to 5 digits ...
        (5e10, UNITS_W, "50000 MW"),
        (2e11, UNITS_W, "OL MW"),  # ... then overflows
        (-330.0, UNITS_VAR, "-330.0 var"),
        (4567.0, UNITS_VA, "4.567 kVA"),
        (49.987, UNITS_HZ, "49.99 Hz"),
        (0.866, UNITS_PF, "0.866"),
        (-1.0, UNITS_PF, "-1.000"),
        (float("inf"), UNITS_W, "OL MW"),
        (float("nan"), UNITS_V, "---- V"),
    )
    for v, units, want in cases:
        got = fmt.quantity(v, units)
        assert got == want, (v, got, want)


def test_fmt_four_significant_digits():
    # Property against the rule written out independently: the text read back is within half a unit of the
    # 4th significant digit, has 4 significant digits and a mantissa below 1000 (values >= 1 in the base unit).
    scale = {"": 1.0, "k": 1e3, "M": 1e6}
    x = 12345
    for _ in range(400):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF  # deterministic LCG, same on both runtimes
        e = x % 9  # 1 .. 1e9
        v = (1.0 + (x >> 8) % 9000 / 1000.0) * 10.0 ** e
        v = v * (-1 if x & 1 else 1)
        neg, digits, unit = fmt.number(v, UNITS_W)
        assert neg == (v < 0)
        got = float(digits) * scale[unit[:-1]]
        a = abs(v)
        p = 1.0
        while p * 10 <= a:
            p *= 10
        assert abs(got - a) <= 0.5e-3 * p * 1.0001 + 1e-9 * a, (v, digits, unit)
        sig = len(digits.replace(".", "").lstrip("0"))
        assert sig == 4 or (unit == "MW" and float(digits) >= 1000), (v, digits, unit)
        assert float(digits) < 1000 or unit == "MW", (v, digits, unit)
