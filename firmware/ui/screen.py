# SPDX-License-Identifier: MIT
# The display model: what the glass should show, independent of the glass (segment LCD, dot matrix, text).
# The menu fills it from its state, `vals` and the I/O; renderers only read it. Allocated once, reused.

KIND_MEAS = 0  # measurement screens: symbol, phase rows, indicators
KIND_SET = 1  # settings: password entry, parameter list, value edit, messages

LOAD_NONE = 0
LOAD_IND = 1  # inductive: total Q > 0 (manual 4.1 item 9)
LOAD_CAP = 2  # capacitive: total Q < 0

N_ROWS = 4  # three phases + total

# Area 12 of the manual's table 4.1: the kind of energy on show
ETYPE_NONE = 0
ETYPE_IMP = 1
ETYPE_EXP = 2
ETYPE_TOTAL = 3
ETYPE_NET = 4

# MAX / MIN mark on History pages (manual 4.2)
EXTREME_NONE = 0
EXTREME_MAX = 1
EXTREME_MIN = 2


# What the menu puts on the measurement pages (menu.fill, pages.py), for renderers:
# - real time: symbol U I P Q S PF F T, up to 4 rows labelled A B C / AB BC CA / tot / N Nm / avg Lav; T in whole
#   degrees (unit "C"); avg True on the average pages.
# - energy pages 1-20 (manual 5): etype != ETYPE_NONE, one row (label "" for totals, "A" "B" "C" per phase),
#   digits up to 10 characters ("99999999.9" or 8 hexadecimal digits), unit kWh / kvarh: drawn large.
# - calendar periods (symbol "T Mon" .. "B Day"): rows P+ P- Q+ Q- of text digits, message "kWh / kvarh".
# - RTime / LTime: one row of hours ("12.50", unit "h"), the symbol names it.
# - the clock page: clock True, symbol "", two rows: "2026.11.26" and "09:35:20".
# - History: symbol "Max" / "Min" (manual 4.1 item 5) and extreme MAX / MIN; rows: the quantity (label "Ua" ..),
#   D its date (yyyy.mm.dd), T its time (hh:mm:ss).
# Settings: row 0 is the parameter; the cursor covers one digit, a whole choice, or a whole date/time field
# (yyyy, mm, dd / hh, mm, ss), which the glass inverts while blink_on.


class Screen:
    def __init__(self):
        self.kind = KIND_MEAS
        self.name = "Meter"  # function screen: Meter, PQM, History; "Set" in the settings
        self.symbol = ""  # measurement type: U I P Q S PF F (manual 4.1 item 5)
        self.n = 0  # rows in use
        self.label = [""] * N_ROWS  # A B C / AB BC CA / tot; the parameter name in the settings
        self.neg = [False] * N_ROWS  # negative sign segment (item 7)
        self.digits = [""] * N_ROWS  # value text without sign: "220.0", "0100", "3Ln3CT"
        self.unit = [""] * N_ROWS  # V kV A kA W kW MW var ... Hz
        # The blinking field being edited: row, and [start, end) in digits[row]; row -1 = none.
        self.cursor_row = -1
        self.cursor_start = 0
        self.cursor_end = 0
        self.blink_on = True  # phase of the blink: renderers that can blink hide/invert the field when False/True
        self.message = ""  # a line of text: placeholders, "Err", "Err PASS"
        self.position = ""  # "3/8" in the parameter list
        # Indicators (manual 4.1 items 8, 9, 10, 13, 15, 16)
        self.load = LOAD_NONE
        self.quadrant = 0  # 1..4, 0 = no power flow
        self.comm = False
        self.di = [0, 0]
        self.do = [0, 0]
        self.alarm = False
        # More indicators of table 4.1, by area: 6 load nature per phase (LOAD_*, from the signs of
        # Qa Qb Qc), 11 average, 12 energy type (ETYPE_*), 14 clock (the page shows date/time), 19 per-phase load
        # bars: current as integer % of the rated primary current (In x Ct_I), -1 = no bar. extreme: MAX/MIN mark.
        self.load_ph = [LOAD_NONE, LOAD_NONE, LOAD_NONE]
        self.avg = False
        self.etype = ETYPE_NONE
        self.clock = False
        self.bars = [-1, -1, -1]
        self.extreme = EXTREME_NONE
        # Backlight (BLt): False after BLt minutes without a key. The text view says so; on a board the LCD
        # driver reads it and switches the backlight pin (framebuf rendering draws regardless).
        self.backlight = True
        # The inputs (firmware/inputflags.py): a mark in the top strip of the measurement pages, "OVR" (a channel
        # over range), "NO U" (current without voltage) or "ACB" (reversed sequence), first of them; "" none.
        # warn_text lists every active one for the text view ("OVR Ia Ib noU B").
        self.warn = ""
        self.warn_text = ""

    def clear(self, kind, name):
        self.kind = kind
        self.name = name
        self.symbol = ""
        self.n = 0
        self.cursor_row = -1
        self.message = ""
        self.position = ""
        self.avg = False
        self.etype = ETYPE_NONE
        self.clock = False
        self.extreme = EXTREME_NONE

    def row(self, i, label, neg, digits, unit):
        self.label[i] = label
        self.neg[i] = neg
        self.digits[i] = digits
        self.unit[i] = unit
        if self.n <= i:
            self.n = i + 1

    def value_text(self, i):
        """Row i's value as read off the glass: sign, digits, unit ("-1.235 MW")."""
        s = "-" + self.digits[i] if self.neg[i] else self.digits[i]
        return s + " " + self.unit[i] if self.unit[i] else s


def quadrant(p, q):
    """Load quadrant from total P and Q signs (manual 4.1 item 10); 0 when both are zero (or NaN)."""
    if p != p or q != q or (p == 0 and q == 0):
        return 0
    # On an axis the quadrant with the non-negative side wins (P = 0, Q > 0 -> 1; Q = 0, P < 0 -> 2).
    if q >= 0:
        return 1 if p >= 0 else 2
    return 4 if p >= 0 else 3


def quadrant_of(pd, qd):
    """Quadrant (manual 4.1 item 10) from the directions of total P and Q (firmware/deadband.py: 0 none, 1 +,
    2 -): 0 while either has no direction, as metering's Quad register."""
    if pd == 0 or qd == 0:
        return 0
    if qd == 1:
        return 1 if pd == 1 else 2
    return 4 if pd == 1 else 3


def load_nature(q):
    if q > 0:
        return LOAD_IND
    if q < 0:
        return LOAD_CAP
    return LOAD_NONE
