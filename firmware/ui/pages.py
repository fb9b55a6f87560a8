# The front panel's page tables (data only, manual 4.2-4.3 and 5): the pages of each screen and group, the
# settings list's parameter order, names shown for enumerations, and the panel-only rows; menu.py walks them.
from firmware import regmap, version
from firmware.ui import fmt

# A page: (measurement symbol, ((row label, measurement name), ...), unit ladder, message)
METER_PAGES = (
    ("U", (("A", "Ua"), ("B", "Ub"), ("C", "Uc")), fmt.UNITS_V, ""),
    ("U", (("AB", "Uab"), ("BC", "Ubc"), ("CA", "Uca")), fmt.UNITS_V, ""),
    ("I", (("A", "Ia"), ("B", "Ib"), ("C", "Ic")), fmt.UNITS_A, ""),
    ("P", (("A", "Pa"), ("B", "Pb"), ("C", "Pc"), ("tot", "P")), fmt.UNITS_W, ""),
    ("Q", (("A", "Qa"), ("B", "Qb"), ("C", "Qc"), ("tot", "Q")), fmt.UNITS_VAR, ""),
    ("S", (("A", "Sa"), ("B", "Sb"), ("C", "Sc"), ("tot", "S")), fmt.UNITS_VA, ""),
    ("PF", (("A", "PFa"), ("B", "PFb"), ("C", "PFc"), ("tot", "PF")), fmt.UNITS_PF, ""),
    ("F", (("", "F"),), fmt.UNITS_HZ, ""),
    # issue 3: neutral (vector sum, measured channel), averages, temperature
    ("I", (("N", "In"), ("Nm", "In_m")), fmt.UNITS_A, ""),
    ("U", (("avg", "U_avg"), ("Lav", "UL_avg")), fmt.UNITS_V, ""),
    ("I", (("avg", "I_avg"),), fmt.UNITS_A, ""),
    ("T", (("", "T"),), fmt.UNITS_DEGC, ""),
)
# RIGHT cycles the groups of a screen (manual 4.2): Meter -> real-time, energy and time; PQM -> demand,
# harmonics, unbalance; History -> maximum, minimum. Rows name a measurement slot or a source in Ui's `extra`.
# issue 4: energy (manual 5 items 1-20), the calendar periods, run/load time and the clock; values are strings
# from firmware/ledger.py (kWh with one decimal, or the float32 in hexadecimal above 99999999.9)
_PQ = (("P+", "EP%s_imp"), ("P-", "EP%s_exp"), ("Q+", "EQ%s_imp"), ("Q-", "EQ%s_exp"))
ENERGY_PAGES = (
    ("EP", (("Imp", "EP_imp"), ("Exp", "EP_exp"), ("Tot", "EP_total"), ("Net", "EP_net")), None, "kWh"),
    ("EQ", (("Imp", "EQ_imp"), ("Exp", "EQ_exp"), ("Tot", "EQ_total"), ("Net", "EQ_net")), None, "kvarh"),
) + tuple(("E " + ph.upper(), tuple((lab, f % ph) for lab, f in _PQ), None, "kWh / kvarh") for ph in "abc") + tuple(
    (sym, tuple((lab, f.replace("%s", "") + "_" + key) for lab, f in _PQ), None, "kWh / kvarh")
    for sym, key in (("T Mon", "TMon"), ("L Mon", "LMon"), ("B Mon", "BMon"), ("T Day", "TDay"), ("L Day", "LDay"),
                     ("B Day", "BDay"))
) + (
    ("Time", (("RT", "RTime"), ("LT", "LTime")), None, "RTime LTime h"),
    ("CLK", (("", "dATE"), ("", "tinE")), None, ""),
)
# PQM and History groups (docs/quality.md); rows other than slots come from Meter's `extra`
_DMD_UNITS = (("P", fmt.UNITS_W), ("Q", fmt.UNITS_VAR), ("S", fmt.UNITS_VA), ("Ia", fmt.UNITS_A),
              ("Ib", fmt.UNITS_A), ("Ic", fmt.UNITS_A))
# per quantity: present demand, maximum demand, its date and time; the message names the quantity
DEMAND_PAGES = tuple(("DM", (("", "Dmd_" + q), ("Max", "MaxDmd_" + q), ("D", "MaxDmd_%s_D" % q),
                             ("T", "MaxDmd_%s_T" % q)), u, q) for q, u in _DMD_UNITS)
# manual 4.2: "U" or "I" in the corner, three phases, the fourth line says THd or HR n (UP/DOWN step through)
HARMONIC_PAGES = tuple(
    (k, tuple((p.upper(), ("THD_%s%s" % (k, p)) if h == 1 else ("HR_%s%s_%d" % (k, p, h))) for p in "abc"),
     fmt.UNITS_PCT, "THd" if h == 1 else "HR %d" % h)
    for k in "UI" for h in range(1, 32))
UNBALANCE_PAGES = (("UNB", (("U", "UNB_U"), ("I", "UNB_I")), fmt.UNITS_PCT, "neg. sequence"),)
_MM_UNITS = {"U": fmt.UNITS_V, "I": fmt.UNITS_A, "P": fmt.UNITS_W, "Q": fmt.UNITS_VAR, "S": fmt.UNITS_VA,
             "F": fmt.UNITS_HZ}
# one page per quantity: the extreme value, its date and time
MAX_PAGES, MIN_PAGES = tuple(
    tuple(("Max" if x == "max" else "Min", ((q, "%s_%s" % (q, x)), ("D", "%s_%s_D" % (q, x)),
                                           ("T", "%s_%s_T" % (q, x))),
           fmt.UNITS_PF if q.startswith("PF") else _MM_UNITS[q[0]], "") for q in
          tuple(m[0] for m in regmap.MEASUREMENTS[:26])) for x in ("max", "min"))
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
