# The front panel's page tables (data only, manual 4.2-4.3 and 5): the pages of each screen and group, the
# settings list's parameter order, names shown for enumerations, and the panel-only rows; menu.py walks them.
from micropython import const

from firmware import regmap, version
from firmware.rows import Rows

# The unit ladders of fmt.py (UNITS_V ...) as compile-time constants, so the page tables below are constants
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

# A page: (measurement symbol, ((row label, measurement name), ...), unit ladder, message)
METER_PAGES = (
    ("U", (("A", "Ua"), ("B", "Ub"), ("C", "Uc")), _V, ""),
    ("U", (("AB", "Uab"), ("BC", "Ubc"), ("CA", "Uca")), _V, ""),
    ("I", (("A", "Ia"), ("B", "Ib"), ("C", "Ic")), _A, ""),
    ("P", (("A", "Pa"), ("B", "Pb"), ("C", "Pc"), ("tot", "P")), _W, ""),
    ("Q", (("A", "Qa"), ("B", "Qb"), ("C", "Qc"), ("tot", "Q")), _VAR, ""),
    ("S", (("A", "Sa"), ("B", "Sb"), ("C", "Sc"), ("tot", "S")), _VA, ""),
    ("PF", (("A", "PFa"), ("B", "PFb"), ("C", "PFc"), ("tot", "PF")), _PF, ""),
    ("F", (("", "F"),), _HZ, ""),
    # issue 3: neutral (vector sum, measured channel), averages, temperature
    ("I", (("N", "I_N"), ("Nm", "I_N_m")), _A, ""),
    ("U", (("avg", "U_avg"), ("Lav", "UL_avg")), _V, ""),
    ("I", (("avg", "I_avg"),), _A, ""),
    ("T", (("", "T"),), _DEGC, ""),
)
# RIGHT cycles the groups of a screen (manual 4.2): Meter -> real-time, energy and time; PQM -> demand,
# harmonics, unbalance; History -> maximum, minimum. Rows name a measurement slot or a source in Ui's `extra`.
# The regular groups are made a page at a time (firmware/rows.py).
# issue 4: energy (manual 5 items 1-20): totals, per phase, the calendar periods, run/load time and the clock;
# values are strings from firmware/ledger.py (kWh with one decimal, or the float32 in hexadecimal above
# 99999999.9)
_E_FIRST = (
    ("EP", (("Imp", "EP_imp"), ("Exp", "EP_exp"), ("Tot", "EP_total"), ("Net", "EP_net")), None, "kWh"),
    ("EQ", (("Imp", "EQ_imp"), ("Exp", "EQ_exp"), ("Tot", "EQ_total"), ("Net", "EQ_net")), None, "kvarh"),
)
_E_LAST = (
    ("Time", (("RT", "RTime"), ("LT", "LTime")), None, "RTime LTime h"),
    ("CLK", (("", "dATE"), ("", "tinE")), None, ""),
)
_PQ = (("P+", "EP%s_imp"), ("P-", "EP%s_exp"), ("Q+", "EQ%s_imp"), ("Q-", "EQ%s_exp"))
_PER = (("T Mon", "TMon"), ("L Mon", "LMon"), ("B Mon", "BMon"), ("T Day", "TDay"), ("L Day", "LDay"),
        ("B Day", "BDay"))


def _energy(k):
    if k < 2:
        return _E_FIRST[k]
    if k < 5:  # phases a b c
        ph = "abc"[k - 2]
        return ("E " + ph.upper(), tuple((lab, f % ph) for lab, f in _PQ), None, "kWh / kvarh")
    if k < 11:  # calendar periods
        sym, key = _PER[k - 5]
        return (sym, tuple((lab, f.replace("%s", "") + "_" + key) for lab, f in _PQ), None, "kWh / kvarh")
    return _E_LAST[k - 11]


ENERGY_PAGES = Rows(13, _energy)
# PQM and History groups (docs/quality.md); rows other than slots come from Meter's `extra`
_DMD_UNITS = (("P", _W), ("Q", _VAR), ("S", _VA), ("Ia", _A), ("Ib", _A), ("Ic", _A))


def _demand(k):
    # per quantity: present demand, maximum demand, its date and time; the message names the quantity
    q, u = _DMD_UNITS[k]
    return ("DM", (("", "Dmd_" + q), ("Max", "MaxDmd_" + q), ("D", "MaxDmd_%s_D" % q), ("T", "MaxDmd_%s_T" % q)),
            u, q)


def _harmonic(k):
    # manual 4.2: "U" or "I" in the corner, three phases, the fourth line says THd or HR n (UP/DOWN step through)
    c, h = "UI"[k // 31], 1 + k % 31
    return (c, tuple((p.upper(), ("THD_%s%s" % (c, p)) if h == 1 else ("HR_%s%s_%d" % (c, p, h))) for p in "abc"),
            _PCT, "THd" if h == 1 else "HR %d" % h)


DEMAND_PAGES = Rows(6, _demand)
HARMONIC_PAGES = Rows(62, _harmonic)
UNBALANCE_PAGES = (("UNB", (("U", "UNB_U"), ("I", "UNB_I")), _PCT, "neg. sequence"),)
_MM_UNITS = (("U", _V), ("I", _A), ("P", _W), ("Q", _VAR), ("S", _VA), ("F", _HZ))


def _extreme(k, x):
    # one page per quantity (Ua .. F, the first 26 measurements): the extreme value, its date and time
    q = regmap.MEASUREMENTS[k][0]
    u = _PF
    if not q.startswith("PF"):
        for c, u in _MM_UNITS:
            if c == q[0]:
                break
    return ("Max" if x == "max" else "Min", ((q, "%s_%s" % (q, x)), ("D", "%s_%s_D" % (q, x)),
                                           ("T", "%s_%s_T" % (q, x))), u, "")


MAX_PAGES = Rows(26, lambda k: _extreme(k, "max"))
MIN_PAGES = Rows(26, lambda k: _extreme(k, "min"))
PQM_PAGES = DEMAND_PAGES  # kept for callers that name the first group
HISTORY_PAGES = MAX_PAGES
# The three function screens LEFT cycles through (manual 4.2), each a tuple of page groups
SCREENS = (("Meter", (METER_PAGES, ENERGY_PAGES)), ("PQM", (DEMAND_PAGES, HARMONIC_PAGES, UNBALANCE_PAGES)),
           ("History", (MAX_PAGES, MIN_PAGES)))

# Parameter order of the manual's factory-default table; CONFIG rows not named here follow in register order.
MANUAL_ORDER = ("PASS", "SYSS", "Un", "In", "Pt_U", "Ct_I", "Adr", "baud", "dATA", "BLt", "An", "dATE", "tinE",
                "Pulse", "IST")
# Parameters shown by name rather than number (register value = index)
NAMES = {"SYSS": regmap.SYSS_NAMES, "dATA": regmap.DATA_NAMES, "An": regmap.AN_NAMES}


# Panel-only entries after the CONFIG rows (issue 4: clock and energy clear), shaped like CONFIG rows; the
# Menu's cfg answers get/set for them (firmware/ledger.py Panel). Index len(CONFIG) + j.
PANEL_ROWS = (
    ("dATE", 20260101, 20000101, 20991231, None, 1, "", "Date YYYYMMDD"),
    ("tinE", 0, 0, 235959, None, 1, "", "Time hhmmss"),
    ("cLr_Eny", 0, 0, 1, (0, 1), 1, "", "1 + ENTER clears all energy"),
    # manual 4.3 "Ver": firmware version and date (firmware/version.py); the menu itself serves it, read-only,
    # so it is listed with any cfg, last in the list
    ("Ver", version.VERSION, version.VERSION, version.VERSION, None, 0.01, "", "Firmware version and date"),
)
READ_ONLY = ("Ver",)  # ENTER does nothing on these rows; the menu answers them, not cfg
