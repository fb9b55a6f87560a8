# SPDX-License-Identifier: MIT
# The register map's regular blocks, rows made on demand (firmware/rows.py): harmonic ratios, demand and maximum
# demand with their times, max/min with their times, energy, calibration. firmware/regmap.py lists them in BLOCKS
# and re-exports these names.
from micropython import const

from firmware.regmap_tables import M_NAME, M_UNIT, MEASUREMENTS
from firmware.rows import Rows

# The blocks below are regular: their rows are made on demand (firmware/rows.py) from the pieces here, so
# the device keeps only these constants (in flash when frozen); tools and docs see the same rows as tuples would.
_CH = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")


# 0x0200 float32 read-only: HR 2..31 per channel, % of the fundamental (docs/quality.md)
def _hr_name(k):
    return "HR_%s_%d" % (_CH[k // 30], 2 + k % 30)


def _hr(k):
    return (_hr_name(k), "%", 1,
            "Harmonic ratio of order %d of %s, %% of the fundamental" % (2 + k % 30, _CH[k // 30]))


def _pos(names, s):
    """Position of s in a tuple of names, or -1 (no allocation)."""
    for k in range(len(names)):
        if names[k] == s:
            return k
    return -1


def _hr_guess(s):
    # HR_Ua_7
    if not s.startswith("HR_") or len(s) < 7:
        return -1
    c = _pos(_CH, s[3:5])
    try:
        h = int(s[6:])
    except ValueError:
        return -1
    return 30 * c + h - 2 if c >= 0 else -1


HARMONICS = Rows(180, _hr, _hr_name, _hr_guess)
# 0x0400 float32 read-only: sliding-window demand (DM_P minutes, DM_S subintervals) and maximum demand; the dates
# and times of the maxima are the uint32 block "demand_t" (docs/demand.md). The first six quantities' demands, then
# their maxima; the quantities added for the SDM630 profile (import and export power, the neutral current) follow
# in the same pattern, so no address moved.
_DMD = (("P", "W"), ("Q", "var"), ("S", "VA"), ("Ia", "A"), ("Ib", "A"), ("Ic", "A"), ("P_imp", "W"),
        ("P_exp", "W"), ("I_N", "A"))


def _dmd_what(q):
    if q == "P_imp":
        return "import power (P while P > 0, else 0)"
    if q == "P_exp":
        return "export power (-P while P < 0, else 0)"
    return "the neutral current I_N" if q == "I_N" else q


def dmd_q(k):
    # row k of DEMAND: (quantity index, maximum?): rows 0-5 demands, 6-11 maxima, 12-14 demands, 15-17 maxima
    if k < 12:
        return k % 6, k >= 6
    return 6 + (k - 12) % 3, k >= 15


def _dmd(k):
    j, mx = dmd_q(k)
    q, u = _DMD[j]
    what = _dmd_what(q)
    if not mx:
        return ("Dmd_" + q, u, 1, "Demand of " + what + " (mean over the last DM_P minutes)")
    return ("MaxDmd_" + q, u, 1, "Maximum demand of " + what + " since the last cLr_DM")


def _dmd_t_name(k):
    return "MaxDmd_%s_%s" % (_DMD[k // 2][0], "DT"[k % 2])


def _dmd_t(k):
    q = _DMD[k // 2][0]
    if k % 2 == 0:
        return (_dmd_t_name(k), "", 1, "Date of MaxDmd_%s, YYYYMMDD (0: none yet)" % q)
    return (_dmd_t_name(k), "", 1, "Time of MaxDmd_%s, hhmmss" % q)


DMD_Q = ("P", "Q", "S", "Ia", "Ib", "Ic", "P_imp", "P_exp", "I_N")  # _DMD's quantities


def _dmd_guess(s):
    # Dmd_P, MaxDmd_P (rows as in dmd_q)
    mx = s.startswith("MaxDmd_")
    k = _pos(DMD_Q, s[7:]) if mx else (_pos(DMD_Q, s[4:]) if s.startswith("Dmd_") else -1)
    if k < 0:
        return -1
    if k < 6:
        return k + 6 if mx else k
    return k + 9 if mx else k + 6


def _dmd_t_guess(s):
    # MaxDmd_P_D, MaxDmd_P_T
    if not s.startswith("MaxDmd_") or len(s) < 10:
        return -1
    k = _pos(DMD_Q, s[7:-2])
    return 2 * k + (s[-1] == "T") if k >= 0 else -1


DEMAND = Rows(18, _dmd, None, _dmd_guess)
DEMAND_T = Rows(18, _dmd_t, _dmd_t_name, _dmd_t_guess)
# 0x0500 float32 read-only: maximum and minimum of the real-time quantities since cLr_MaxMin (Ua .. F, the first
# 26 measurements); their dates and times are the uint32 block "maxmin_t" (docs/demand.md)
_NMM = const(26)


def _mm(k):
    q, u = MEASUREMENTS[k % _NMM][M_NAME], MEASUREMENTS[k % _NMM][M_UNIT]
    if k < _NMM:
        return (q + "_max", u, 1, "Maximum of " + q)
    return (q + "_min", u, 1, "Minimum of " + q)


def _mm_t_name(k):
    return "%s_%s_%s" % (MEASUREMENTS[k % (2 * _NMM) // 2][M_NAME], "max" if k < 2 * _NMM else "min", "DT"[k % 2])


def _mm_t(k):
    x = "max" if k < 2 * _NMM else "min"
    q = MEASUREMENTS[k % (2 * _NMM) // 2][M_NAME]
    if k % 2 == 0:
        return (_mm_t_name(k), "", 1, "Date of %s_%s, YYYYMMDD (0: none yet)" % (q, x))
    return (_mm_t_name(k), "", 1, "Time of %s_%s, hhmmss" % (q, x))


def _mm_guess(s):
    # Ua_max (rows 0..25), Ua_min (26..51)
    x = s[-4:]
    if x != "_max" and x != "_min":
        return -1
    q = s[:-4]
    for k in range(_NMM):
        if MEASUREMENTS[k][M_NAME] == q:
            return k if x == "_max" else k + _NMM
    return -1


def _mm_t_guess(s):
    # Ua_max_D, Ua_max_T: the date and time of extreme row i are rows 2i, 2i + 1
    i = _mm_guess(s[:-2])
    return 2 * i + (s[-1] == "T") if i >= 0 else -1


MAXMIN = Rows(2 * _NMM, _mm, None, _mm_guess)
MAXMIN_T = Rows(4 * _NMM, _mm_t, _mm_t_name, _mm_t_guess)
# 0x0800 uint64 read-only: energy on the primary side in Wh / varh (scale 0.001 kWh), exact integer
# accumulators (docs/energy.md); net = |import - export| (manual 4.1 item 12); then per phase (a b c, P then Q,
# imp then exp), the calendar periods, RTime, LTime, apparent energy (VAh) and ampere-hours (mAh)
_E_TOTALS = (
    ("EP_imp", "kWh", 0.001, "Import active energy (windows with total P > 0)"),
    ("EP_exp", "kWh", 0.001, "Export active energy (windows with total P < 0)"),
    ("EP_total", "kWh", 0.001, "Total active energy: EP_imp + EP_exp"),
    ("EP_net", "kWh", 0.001, "Net active energy: |EP_imp - EP_exp|"),
    ("EQ_imp", "kvarh", 0.001, "Positive reactive energy (total fundamental Q > 0)"),
    ("EQ_exp", "kvarh", 0.001, "Negative reactive energy (total fundamental Q < 0)"),
    ("EQ_total", "kvarh", 0.001, "Total reactive energy: EQ_imp + EQ_exp"),
    ("EQ_net", "kvarh", 0.001, "Net reactive energy: |EQ_imp - EQ_exp|"),
)
_E = ("import (+P)", "export (-P)", "positive reactive (+Q: quadrants I, II)", "negative reactive (-Q: III, IV)")
_IE = ("imp", "exp")
_PER = (("TMon", "This month"), ("LMon", "Last month"), ("BMon", "The month before last"), ("TDay", "Today"),
        ("LDay", "Yesterday"), ("BDay", "The day before yesterday"))
_PER_Q = ("EP_imp", "EP_exp", "EQ_imp", "EQ_exp")
_E_TIMES = (
    ("RTime", "s", 1, "Run time: seconds the meter has been running since the last energy clear"),
    ("LTime", "s", 1, "Load time: seconds with any element counting (I >= IST, U >= 0.5 V secondary) since the last energy clear"),
    # SDM630 0x0050 / 0x0052 (docs/modbus.md): integrated like the reactive energy, saved with the energy record
    ("ES", "kVAh", 0.001, "Apparent energy: total S integrated over time (VAh)"),
    ("AH", "Ah", 0.001, "Ampere-hours: Ia + Ib + Ic integrated over time (mAh)"),
)


def _energy(k):
    if k < 8:
        return _E_TOTALS[k]
    if k < 20:  # per phase: a b c, each P imp, P exp, Q imp, Q exp
        j = k - 8
        ph, pq, ie = "abc"[j // 4], "PQ"[j // 2 % 2], j % 2
        return ("E%s%s_%s" % (pq, ph, _IE[ie]), "kWh" if pq == "P" else "kvarh", 0.001,
                "Phase %s %s energy" % (ph.upper(), _E[(2 if pq == "Q" else 0) + ie]))
    if k < 44:  # calendar periods, each EP_imp EP_exp EQ_imp EQ_exp
        per, txt = _PER[(k - 20) // 4]
        q = _PER_Q[(k - 20) % 4]
        return ("%s_%s" % (q, per), "kWh" if q[1] == "P" else "kvarh", 0.001, "%s: %s" % (txt, q))
    return _E_TIMES[k - 44]


def _energy_guess(s):
    # the row a name would be (Rows.find checks it), so a lookup by name (regmap.address at set-up) need not make
    # the rows before it: ~11 ms each for RTime and LTime on the RP2040 otherwise
    for k in range(len(_E_TOTALS)):
        if _E_TOTALS[k][0] == s:
            return k
    for k in range(len(_E_TIMES)):
        if _E_TIMES[k][0] == s:
            return 44 + k
    if len(s) == 7 and s[0] == "E" and s[3] == "_":  # EPa_imp .. EQc_exp
        return 8 + 4 * "abc".find(s[2]) + 2 * "PQ".find(s[1]) + _pos(_IE, s[4:])
    for j in range(len(_PER)):  # EP_imp_TMon .. EQ_exp_BDay
        if s.endswith(_PER[j][0]):
            return 20 + 4 * j + _pos(_PER_Q, s[:-5])
    return -1


ENERGY = Rows(48, _energy, None, _energy_guess)
# 0x0A00 float32 calibration (docs/metering.md); factor writes need the unlock, see CAL_Pass; then per channel
# (Ua Ub Uc Ia Ib Ic In) the gain, the delay and the DC offset
_CAL_REFS = (
    ("Ref_U", "V", 1, "Reference phase voltage applied for CAL_Cmd 1 (secondary side, all three phases)"),
    ("Ref_I", "A", 1, "Reference current applied (secondary side, all three phases)"),
    ("Ref_Phi", "deg", 1, "Reference angle: how far the current lags its voltage (0 resistive, 60 PF 0.5 ind)"),
    ("Cal_State", "", 1, "0 idle, 1 measuring, 2 done, 3 failed (reference missing or wiring not 3Ln3CT)"),
)
_CAL_CH = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "In")


def _cal(k):
    if k < 4:
        return _CAL_REFS[k]
    c = _CAL_CH[(k - 4) % 7]
    if k < 11:
        return ("G_" + c, "", 1, "Gain correction of channel " + c)
    if k < 18:
        return ("Lag_" + c, "deg", 1, "Delay of channel " + c + " at the fundamental (corrected in P and Q)")
    return ("Off_" + c, "V" if c[0] == "U" else "A", 1, "DC offset of channel " + c + " at calibration (the "
            "window sums remove DC: reported only)")


CALIBRATION = Rows(25, _cal)
