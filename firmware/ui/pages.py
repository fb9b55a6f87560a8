# SPDX-License-Identifier: MIT
# The front panel's page tables (data only, manual 4.2-4.3 and 5): the pages of each screen and group, the
# settings list's parameter order, names shown for enumerations, and the panel-only rows; menu.py walks them.
from micropython import const

from firmware import regmap, version
from firmware.rows import Rows

# The five front-panel keys by name (manual 4.2), in the column order of menu.py's key map; Meter.key(name), the
# sim's K message, the terminal and the boards' key drivers use these names.
KEYS = ("left", "up", "down", "right", "enter")

# The unit ladders fmt.number() takes (manual 4.1 item 20; smallest first, x1000 a step) as compile-time constants, so the page tables below are constants
# too (a frozen module keeps them in flash; a table built by code at import would live in RAM).
_V = const(("V", "kV"))
_A = const(("A", "kA"))
_W = const(("W", "kW", "MW"))
_VAR = const(("var", "kvar", "Mvar"))
_VA = const(("VA", "kVA", "MVA"))
_HZ = const(("Hz",))
_PF = const(("",))
_PCT = const(("%",))
_DEGC = const(("C",))

# Page flags, the 5th element of a page: bits 0-2 the energy type (screen.ETYPE_*), bits 3-4 the MAX/MIN mark
# (screen.EXTREME_*), then indicators and formats; menu.fill copies them into the display model.
F_ETYPE = const(7)
F_EXTREME_SHIFT = const(3)
F_AVG = const(32)  # an average page: the AVG indicator (manual 4.1 item 11)
F_CLOCK = const(64)  # the date/time page: the clock indicator (item 14)
F_WHOLE = const(128)  # whole numbers: the temperature in 1 degC (manual 1.2 resolution table)
F_TEXT_UNIT = const(256)  # rows whose value is text (energy, hours) carry the ladder's first unit
_MAX = const(8)  # screen.EXTREME_MAX << F_EXTREME_SHIFT
_MIN = const(16)
_KWH = const(("kWh",))
_KVARH = const(("kvarh",))
_HOURS = const(("h",))
_NONE = const(("",))

# A page: (measurement symbol, ((row label, measurement name), ...), unit ladder, message, flags)
METER_PAGES = (
    ("U", (("A", "Ua"), ("B", "Ub"), ("C", "Uc")), _V, "", 0),
    ("U", (("AB", "Uab"), ("BC", "Ubc"), ("CA", "Uca")), _V, "", 0),
    ("I", (("A", "Ia"), ("B", "Ib"), ("C", "Ic")), _A, "", 0),
    ("P", (("A", "Pa"), ("B", "Pb"), ("C", "Pc"), ("tot", "P")), _W, "", 0),
    ("Q", (("A", "Qa"), ("B", "Qb"), ("C", "Qc"), ("tot", "Q")), _VAR, "", 0),
    ("S", (("A", "Sa"), ("B", "Sb"), ("C", "Sc"), ("tot", "S")), _VA, "", 0),
    ("PF", (("A", "PFa"), ("B", "PFb"), ("C", "PFc"), ("tot", "PF")), _PF, "", 0),
    ("F", (("", "F"),), _HZ, "", 0),
    # neutral (vector sum, measured channel), averages, temperature
    ("I", (("N", "I_N"), ("Nm", "I_N_m")), _A, "", 0),
    ("U", (("avg", "U_avg"), ("Lav", "UL_avg")), _V, "", F_AVG),
    ("I", (("avg", "I_avg"),), _A, "", F_AVG),
    ("T", (("", "T"),), _DEGC, "", F_WHOLE),
)
# RIGHT (manual 4.2): on Meter it walks the energy and time pages below one by one, then returns to the real-time
# page left; on PQM it cycles demand, harmonics, unbalance, alarms, on History maximum, minimum, events. Rows name a measurement
# slot or a source in Ui's `extra`. The regular groups are made a page at a time (firmware/rows.py).
# Energy and time (manual 5, pages 1-20, then the calendar periods, run/load time and the clock): one energy
# quantity per page, the value a string from firmware/ledger.py (kWh / kvarh with one decimal, or the float32 in
# hexadecimal above 99999999.9).
_E_SUFFIX = ("_imp", "_exp", "_total", "_net")
_PER = (("T Mon", "TMon"), ("L Mon", "LMon"), ("B Mon", "BMon"), ("T Day", "TDay"), ("L Day", "LDay"),
        ("B Day", "BDay"))
_PQ = (("P+", "EP_imp_"), ("P-", "EP_exp_"), ("Q+", "EQ_imp_"), ("Q-", "EQ_exp_"))
N_ENERGY = const(20)  # the manual's energy pages 1-20 come first


def _energy(k):
    if k < 8:  # 1-4 EP Imp Exp Total Net, 5-8 EQ likewise
        q = "EP" if k < 4 else "EQ"
        return (q, (("", q + _E_SUFFIX[k % 4]),), _KWH if k < 4 else _KVARH, "", F_TEXT_UNIT | (1 + k % 4))
    if k < N_ENERGY:  # 9-20: per phase A B C: P+ P- Q+ Q- (import / export active, then reactive)
        ph = "abc"[(k - 8) // 4]
        j = (k - 8) % 4
        q = "EP" if j < 2 else "EQ"
        return (q, ((ph.upper(), q + ph + _E_SUFFIX[j % 2]),), _KWH if j < 2 else _KVARH, "",
                F_TEXT_UNIT | (1 + j % 2))
    k -= N_ENERGY
    if k < 6:  # calendar periods: this / last / the month before; today, yesterday, the day before
        sym, key = _PER[k]
        return (sym, tuple((lab, f + key) for lab, f in _PQ), _NONE, "kWh / kvarh", 0)
    if k < 8:  # run time, load time (manual 4.1 item 5 symbols RTime, LTime), hours
        sym = "RTime" if k == 6 else "LTime"
        return (sym, (("", sym),), _HOURS, "", F_TEXT_UNIT)
    return ("", (("", "dATE"), ("", "tinE")), _NONE, "", F_CLOCK)  # the clock: yyyy.mm.dd, hh:mm:ss


ENERGY_PAGES = Rows(N_ENERGY + 9, _energy)
# PQM and History groups (docs/quality.md); rows other than slots come from Meter's `extra`
_DMD_UNITS = (("P", _W), ("Q", _VAR), ("S", _VA), ("Ia", _A), ("Ib", _A), ("Ic", _A))


def _demand(k):
    # per quantity: present demand ("now"), maximum demand, its date and time; the message names the quantity
    q, u = _DMD_UNITS[k]
    return ("DM", (("now", "Dmd_" + q), ("Max", "MaxDmd_" + q), ("D", "MaxDmd_%s_D" % q), ("T", "MaxDmd_%s_T" % q)),
            u, q, 0)


def _harmonic(k):
    # manual 4.2: "U" or "I" in the corner, three phases, the fourth line says THd or HR n (UP/DOWN step through)
    c, h = "UI"[k // 31], 1 + k % 31
    return (c, tuple((p.upper(), ("THD_%s%s" % (c, p)) if h == 1 else ("HR_%s%s_%d" % (c, p, h))) for p in "abc"),
            _PCT, "THd" if h == 1 else "HR %d" % h, 0)


DEMAND_PAGES = Rows(6, _demand)
HARMONIC_PAGES = Rows(62, _harmonic)
UNBALANCE_PAGES = (("UNB", (("U", "UNB_U"), ("I", "UNB_I")), _PCT, "neg. sequence", 0),)
# Which alarm rules are active (the mark in area 8 says only that one is): their numbers, "1,3"
ALARM_PAGES = (("AL", (("on", "AL_act"),), _NONE, "alarm rules", 0),)
_MM_UNITS = (("U", _V), ("I", _A), ("P", _W), ("Q", _VAR), ("S", _VA), ("F", _HZ))


def _extreme(k, x):
    # one page per quantity (Ua .. F, the first 26 measurements): the extreme value, its date and time
    q = regmap.MEASUREMENTS[k][regmap.M_NAME]
    u = _PF
    if not q.startswith("PF"):
        for c, u in _MM_UNITS:
            if c == q[0]:
                break
    return ("Max" if x == "max" else "Min", ((q, "%s_%s" % (q, x)), ("D", "%s_%s_D" % (q, x)),
                                           ("T", "%s_%s_T" % (q, x))), u, "", _MAX if x == "max" else _MIN)


def _event(k):
    # the k-th newest event (docs/events.md): what, its date and time, its value
    return ("EV", (("", "EV_%d_K" % k), ("D", "EV_%d_D" % k), ("T", "EV_%d_T" % k), ("", "EV_%d_V" % k)), _NONE,
            "event %d" % (k + 1), 0)


EVENT_PAGES = Rows(128, _event)
MAX_PAGES = Rows(26, lambda k: _extreme(k, "max"))
MIN_PAGES = Rows(26, lambda k: _extreme(k, "min"))
# The three function screens LEFT cycles through (manual 4.2): (name, page groups, RIGHT style)
RIGHT_WALK = const(0)  # RIGHT steps through the second group's pages, then back to the first group
RIGHT_GROUPS = const(1)  # RIGHT cycles the groups
SCREENS = (("Meter", (METER_PAGES, ENERGY_PAGES), RIGHT_WALK),
           ("PQM", (DEMAND_PAGES, HARMONIC_PAGES, UNBALANCE_PAGES, ALARM_PAGES), RIGHT_GROUPS),
           ("History", (MAX_PAGES, MIN_PAGES, EVENT_PAGES), RIGHT_GROUPS))

# The settings list (manual 4.3): the rows of the factory-default table in its order, then cLr_DM (clear the
# maximum demands) and the CONFIG rows the table does not name, in register order.
MANUAL_ORDER = ("PASS", "SYSS", "Un", "In", "Pt_U", "Ct_I", "Adr", "baud", "dATA", "BLt", "An", "dATE", "tinE",
                "cLr_Eny", "cLr_MaxMin", "Ver", "Pulse", "IST", "cLr_DM")
_NO_YES = const(("no", "YES"))
# Parameters shown by name rather than number (register value = index)
NAMES = {"SYSS": regmap.SYSS_NAMES, "dATA": regmap.DATA_NAMES, "An": regmap.AN_NAMES, "cLr_Eny": _NO_YES,
         "cLr_MaxMin": _NO_YES, "cLr_DM": _NO_YES, "DO1_M": const(("remote", "alarm")),
         "DO2_M": const(("remote", "alarm")),
         "AL_Q": Rows(regmap.N_MEAS, lambda k: regmap.MEASUREMENTS[k][regmap.M_NAME]),
         "AL_M": const(("off", "over", "under")), "AL_r": const(("none", "DO1", "DO2", "both"))}


# Panel-only entries after the CONFIG rows (clock and clears), shaped like CONFIG rows; the Menu's cfg
# answers get/set for the ones it lists in cfg.panel_rows (firmware/ledger.py Panel). Index len(CONFIG) + j.
PANEL_ROWS = (
    ("dATE", 20260101, 20000101, 20991231, None, 1, "", "Date yyyy.mm.dd, edited field by field"),
    ("tinE", 0, 0, 235959, None, 1, "", "Time hh:mm:ss, edited field by field"),
    ("cLr_Eny", 0, 0, 1, (0, 1), 1, "", "YES + ENTER clears all energy, periods, RTime and LTime"),
    ("cLr_MaxMin", 0, 0, 1, (0, 1), 1, "", "YES + ENTER clears the maximum and minimum values"),
    ("cLr_DM", 0, 0, 1, (0, 1), 1, "", "YES + ENTER clears the maximum demands"),
    # manual 4.3 "Ver": firmware version and date (firmware/version.py); the menu itself serves it, read-only,
    # so it is listed with any cfg
    ("Ver", version.VERSION, version.VERSION, version.VERSION, None, 0.01, "", "Firmware version and date"),
    # alarm rules (docs/alarms.md). AL_n picks the rule (1-8) the rows after it show and set; the
    # threshold and hysteresis are whole numbers of the quantity's panel step (alarms.panel_scale: V A W var VA
    # in units, PF in thousandths, Hz in hundredths, % in tenths)
    ("AL_n", 1, 1, 8, None, 1, "", "Alarm rule shown and set by the rows below"),
    ("AL_Q", 0, 0, 47, None, 1, "", "Quantity of the rule (a measurement, by name)"),
    ("AL_M", 0, 0, 2, None, 1, "", "off / over / under"),
    ("AL_t", 0, 0, 99999999, None, 1, "", "Threshold, primary units in panel steps"),
    ("AL_h", 0, 0, 99999999, None, 1, "", "Return hysteresis, same steps"),
    ("AL_on", 0, 0, 9999, None, 1, "s", "On-delay"),
    ("AL_oF", 0, 0, 9999, None, 1, "s", "Off-delay"),
    ("AL_r", 0, 0, 3, None, 1, "", "Relays: none / DO1 / DO2 / both"),
)
READ_ONLY = ("Ver",)  # ENTER does nothing on these rows; the menu answers them, not cfg
CLEARS = ("cLr_Eny", "cLr_MaxMin", "cLr_DM")  # YES + ENTER clears, then "cLEAr donE"
FIELDS = ("dATE", "tinE")  # edited field by field (year month day / hour minute second)
