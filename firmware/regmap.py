# The register map: the single declarative source for Modbus addresses, parameter ranges and value slots.
# Metering, the Modbus slave, the UI and tools/regmap.py all read these tables; nothing else defines an address.
from micropython import const

from firmware.rows import Rows

MEAS_BASE = const(0x0100)  # first holding register of the float32 measurement block
CONFIG_BASE = const(0x0000)  # first holding register of the configuration block

# Measurements: float32, 2 registers each, high word first, read-only (FC03). Slot k is at MEAS_BASE + 2*k.
# Append new quantities at the end: existing addresses never move.
# (name, unit, description)
MEASUREMENTS = (
    ("Ua", "V", "Phase A voltage, phase to neutral"),
    ("Ub", "V", "Phase B voltage, phase to neutral"),
    ("Uc", "V", "Phase C voltage, phase to neutral"),
    ("Uab", "V", "Line voltage A-B"),
    ("Ubc", "V", "Line voltage B-C"),
    ("Uca", "V", "Line voltage C-A"),
    ("Ia", "A", "Phase A current"),
    ("Ib", "A", "Phase B current"),
    ("Ic", "A", "Phase C current"),
    ("Pa", "W", "Phase A active power (+ import, - export)"),
    ("Pb", "W", "Phase B active power"),
    ("Pc", "W", "Phase C active power"),
    ("P", "W", "Total active power"),
    ("Qa", "var", "Phase A fundamental reactive power (+ inductive, - capacitive)"),
    ("Qb", "var", "Phase B fundamental reactive power"),
    ("Qc", "var", "Phase C fundamental reactive power"),
    ("Q", "var", "Total fundamental reactive power"),
    ("Sa", "VA", "Phase A apparent power (Urms x Irms)"),
    ("Sb", "VA", "Phase B apparent power"),
    ("Sc", "VA", "Phase C apparent power"),
    ("S", "VA", "Total apparent power (arithmetic sum)"),
    ("PFa", "", "Phase A power factor P/S, sign of P"),
    ("PFb", "", "Phase B power factor"),
    ("PFc", "", "Phase C power factor"),
    ("PF", "", "Total power factor P/S, sign of P"),
    ("F", "Hz", "Frequency"),
    # issue 3: metrology
    ("I_N", "A", "Neutral current: vector sum of Ia Ib Ic (3Ln3CT), 0 in three-wire modes"),
    ("I_N_m", "A", "Neutral current measured on the In channel (0 when no CT is fitted)"),
    ("U_avg", "V", "Average of Ua Ub Uc"),
    ("UL_avg", "V", "Average of Uab Ubc Uca"),
    ("I_avg", "A", "Average of Ia Ib Ic"),
    ("T", "degC", "Temperature (PT100 on PTCA/PTCB), resolution 1"),
    ("THD_Ua", "%", "Total harmonic distortion of Ua, relative to the fundamental"),
    ("THD_Ub", "%", "THD of Ub"),
    ("THD_Uc", "%", "THD of Uc"),
    ("THD_Ia", "%", "THD of Ia"),
    ("THD_Ib", "%", "THD of Ib"),
    ("THD_Ic", "%", "THD of Ic"),
    ("UNB_U", "%", "Voltage unbalance: negative-sequence ratio |U2|/|U1| (IEC 61000-4-30)"),
    ("UNB_I", "%", "Current unbalance: negative-sequence ratio |I2|/|I1|"),
    ("AO", "mA", "Analog output current: the quantity An on 4-20 mA (docs/analog.md)"),
    # SDM630 phase angles (docs/modbus.md): how far the fundamental current lags its voltage, atan2(Q1, P1) in
    # (-180, 180]: + inductive, - capacitive, beyond +-90 export
    ("Phi_a", "deg", "Phase A angle of the current behind its voltage (fundamental): +30 for PF 0.866 inductive; "
     "0 without load and in three-wire modes"),
    ("Phi_b", "deg", "Phase B angle of the current behind its voltage"),
    ("Phi_c", "deg", "Phase C angle of the current behind its voltage"),
    ("Phi", "deg", "Total phase angle: atan2 of the total fundamental Q and P (every wiring)"),
    ("THD_Uab", "%", "THD of the line voltage Uab, relative to its fundamental"),
    ("THD_Ubc", "%", "THD of Ubc"),
    ("THD_Uca", "%", "THD of Uca"),
)

# Configuration: uint16, read/write (FC03, FC06, FC16). Register CONFIG_BASE + k.
# (name, default, lowest, highest, allowed values or None for the whole range, scale, unit, description)
CONFIG = (
    ("Adr", 1, 1, 247, None, 1, "", "Modbus address"),
    ("baud", 96, 12, 1152, (12, 24, 48, 96, 192, 384, 576, 1152), 100, "bit/s",
     "Baud rate / 100: 1200 2400 4800 9600 19200 38400 57600 115200"),
    ("dATA", 0, 0, 5, None, 1, "", "Data format: 0 8N1, 1 8E1, 2 8O1, 3 8N2, 4 8E2, 5 8O2"),
    ("SYSS", 0, 0, 2, None, 1, "", "Wiring: 0 3Ln3CT, 1 2LL3CT, 2 2LL2CT"),
    ("Un", 220, 100, 400, (100, 220, 400), 1, "V", "Rated voltage (phase voltage in 3Ln3CT, line voltage in 2LL)"),
    ("In", 5, 1, 10, (1, 5, 10), 1, "A", "Rated current"),
    ("Pt_U", 1, 1, 9999, None, 1, "", "Voltage transformer ratio"),
    ("Ct_I", 1, 1, 9999, None, 1, "", "Current transformer ratio"),
    ("BLt", 1, 0, 99, None, 1, "min", "Backlight time after the last key; 0 = always on"),
    ("PASS", 6666, 0, 9999, None, 1, "", "Panel password (reads 0 over Modbus while write protection is on)"),
    ("IST", 10, 1, 9999, None, 1, "mA", "Starting current: below it current reads 0 and no energy counts"),
    ("Pulse", 3200, 400, 9999, None, 1, "imp/kWh", "Active energy pulse constant (secondary side)"),
    ("Pulse_Q", 0, 0, 1, None, 1, "", "Terminals 29/30: 0 second RS485, 1 reactive energy pulses (imp/kvarh)"),
    ("DM_P", 15, 1, 60, None, 1, "min", "Demand period (sliding window)"),
    ("DM_S", 1, 1, 60, None, 1, "min", "Demand subinterval; must divide DM_P"),
    ("Wp", 0, 0, 1, None, 1, "", "Modbus write protection: 1 = writes need the password in Key first"),
    ("An", 0, 0, 25, None, 1, "", "Analog output quantity, index into AN_NAMES: 0 Ua 1 Ub 2 Uc 3 Ia 4 Ib 5 Ic 6 Uab "
     "7 Ubc 8 Uca 9 Pa 10 Pb 11 Pc 12 P 13 Qa 14 Qb 15 Qc 16 Q 17 Sa 18 Sb 19 Sc 20 S 21 PFa 22 PFb 23 PFc 24 PF "
     "25 F; 3Ln3CT allows 0-24, 2LL modes 3-8 12 16 20 25 (others: exception 03)"),
    ("Prot", 0, 0, 1, None, 1, "", "Modbus profile of FC03/06/16: 0 this register map, 1 the Eastron SDM630 holding "
     "registers (float32 parameters; Prot itself at 0x0100 there). FC04 is the SDM630 input map in both"),
    # issue 12: relay modes (manual 3.4)
    ("DO1_M", 0, 0, 1, None, 1, "", "Relay DO1 mode: 0 remote (FC05/FC15, open after power-up), 1 alarm (closed while "
     "an alarm rule bound to it is active; FC05/FC15 get exception 04)"),
    ("DO2_M", 0, 0, 1, None, 1, "", "Relay DO2 mode: 0 remote, 1 alarm"),
    # voltage events per phase from the window RMS (docs/events.md): thresholds in % of Un x Pt_U
    ("dIP", 90, 50, 99, None, 1, "%", "Dip threshold: a phase below it is in a dip (interruption if below Int)"),
    ("SWEL", 110, 101, 150, None, 1, "%", "Swell threshold: a phase above it is in a swell"),
    ("Int", 5, 1, 49, None, 1, "%", "Interruption threshold: a dip whose residual fell below it is an interruption"),
    ("HYSt", 2, 1, 10, None, 1, "%", "Hysteresis: a dip ends above dIP + HYSt, a swell below SWEL - HYSt"),
)

# Bits (FC01 coils, FC02 discrete inputs), listed with type uint16 holding 0 or 1. (name, address, description)
COILS = (
    ("DO1", 0, "Relay output 1 (terminals 37/38): 1 closed"),
    ("DO2", 1, "Relay output 2 (terminals 39/40): 1 closed"),
)
INPUTS = (
    ("DI1", 0, "Switch input 1 (terminal 31): 1 closed"),
    ("DI2", 1, "Switch input 2 (terminal 32): 1 closed"),
)

N_MEAS = const(48)
N_CONFIG = const(24)
MEAS_END = const(0x0100 + 2 * 48)  # one past the last measurement register
# The real-time block is readable as a whole, so masters may fetch up to 125 registers in one request;
# registers past MEAS_END are reserved for quantities still to come and read as 0.
BLOCK_END = const(0x0180)

# Slots measured in the three-wire (2LL) wirings, "1" per slot in MEASUREMENTS order (an alarm rule on another
# slot is refused there): no phase voltages, phase powers, phase angles, neutral or phase-voltage THD.
MEAS_3W = const(b"000111111000100010001000110001110001111110001111")

# Further blocks, each filled by the issue that owns it (address ranges: docs/ARCHITECTURE.md).
# (name, unit, scale, description); the address follows the row order with the block type's size.
SIZES = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2, "uint64": 4, "float64": 4}
CLOCK = (  # 0x0020 uint32 rw (issue 4); an invalid date or time gets exception 03
    ("dATE", "", 1, "Date YYYYMMDD (2000-01-01 .. 2099-12-31, leap years checked)"),
    ("tinE", "", 1, "Time hhmmss (00:00:00 .. 23:59:59)"),
)
COMMANDS = (  # 0x0030 uint16 write-only (reads 0); a wrong password or code gets exception 03
    ("Key", "", 1, "Write the password (PASS) to unlock Modbus writes for 5 minutes while Wp = 1"),
    ("cLr_Eny", "", 1, "Write the password (PASS) to clear all energy, period energy, RTime and LTime"),
    ("cLr_MaxMin", "", 1, "Write the password (PASS) to clear the maximum and minimum values"),
    ("cLr_DM", "", 1, "Write the password (PASS) to clear the maximum demands"),
    # issue 3: calibration (docs/metering.md): 0x0034 and 0x0035, one FC16 may write both
    ("CAL_Pass", "", 1, "Password (PASS) for CAL_Cmd, unless Key was written within 5 minutes"),
    ("CAL_Cmd", "", 1, "Calibration command: 1 measure the reference (CALIBRATION Ref_*) and correct, 2 reset; "
     "exception 03 when not unlocked or an unknown code, 04 busy or wiring not 3Ln3CT"),
)
INFO = (  # 0x0040 uint32 read-only
    ("Ver", "", 0.01, "Firmware version x 100 (100 = 1.00)"),
    ("Ver_D", "", 1, "Firmware date YYYYMMDD"),
    ("Writes", "", 1, "Records written to flash since manufacture (wear)"),
    ("Gaps", "", 1, "Sample blocks the ADC did not deliver whole since power-up (a frame with a bad CRC, a missed "
     "conversion, a DMA ring overrun): each drops its metering window"),
)
STATUS = (  # 0x0180 uint16 read-only, per metering window (docs/metering.md: sign conventions)
    ("Quad", "", 1, "Quadrant of the total: 1 P+Q+, 2 P-Q+, 3 P-Q-, 4 P+Q-; 0 no load or on an axis (P or Q "
     "within its dead band: 0.5 % of S, at least 0.1 W / var x Pt_U x Ct_I; docs/metering.md)"),
    ("NAT_a", "", 1, "Load nature of phase A: 0 none (Q within its dead band), 1 inductive (quadrants 1, 3), "
     "2 capacitive"),
    ("NAT_b", "", 1, "Load nature of phase B (0 in three-wire modes)"),
    ("NAT_c", "", 1, "Load nature of phase C (0 in three-wire modes)"),
    ("NAT", "", 1, "Load nature of the total"),
)
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


def _dmd_q(k):
    # row k of DEMAND: (quantity index, maximum?): rows 0-5 demands, 6-11 maxima, 12-14 demands, 15-17 maxima
    if k < 12:
        return k % 6, k >= 6
    return 6 + (k - 12) % 3, k >= 15


def _dmd(k):
    j, mx = _dmd_q(k)
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


_DMD_Q = ("P", "Q", "S", "Ia", "Ib", "Ic", "P_imp", "P_exp", "I_N")  # _DMD's quantities


def _dmd_guess(s):
    # Dmd_P, MaxDmd_P (rows as in _dmd_q)
    mx = s.startswith("MaxDmd_")
    k = _pos(_DMD_Q, s[7:]) if mx else (_pos(_DMD_Q, s[4:]) if s.startswith("Dmd_") else -1)
    if k < 0:
        return -1
    if k < 6:
        return k + 6 if mx else k
    return k + 9 if mx else k + 6


def _dmd_t_guess(s):
    # MaxDmd_P_D, MaxDmd_P_T
    if not s.startswith("MaxDmd_") or len(s) < 10:
        return -1
    k = _pos(_DMD_Q, s[7:-2])
    return 2 * k + (s[-1] == "T") if k >= 0 else -1


DEMAND = Rows(18, _dmd, None, _dmd_guess)
DEMAND_T = Rows(18, _dmd_t, _dmd_t_name, _dmd_t_guess)
# 0x0500 float32 read-only: maximum and minimum of the real-time quantities since cLr_MaxMin (Ua .. F, the first
# 26 measurements); their dates and times are the uint32 block "maxmin_t" (docs/demand.md)
_NMM = const(26)


def _mm(k):
    q, u = MEASUREMENTS[k % _NMM][0], MEASUREMENTS[k % _NMM][1]
    if k < _NMM:
        return (q + "_max", u, 1, "Maximum of " + q)
    return (q + "_min", u, 1, "Minimum of " + q)


def _mm_t_name(k):
    return "%s_%s_%s" % (MEASUREMENTS[k % (2 * _NMM) // 2][0], "max" if k < 2 * _NMM else "min", "DT"[k % 2])


def _mm_t(k):
    x = "max" if k < 2 * _NMM else "min"
    q = MEASUREMENTS[k % (2 * _NMM) // 2][0]
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
        if MEASUREMENTS[k][0] == q:
            return k if x == "_max" else k + _NMM
    return -1


def _mm_t_guess(s):
    # Ua_max_D, Ua_max_T: the date and time of extreme row i are rows 2i, 2i + 1
    i = _mm_guess(s[:-2])
    return 2 * i + (s[-1] == "T") if i >= 0 else -1


MAXMIN = Rows(2 * _NMM, _mm, None, _mm_guess)
MAXMIN_T = Rows(4 * _NMM, _mm_t, _mm_t_name, _mm_t_guess)
# 0x0800 uint64 read-only (issue 4): energy on the primary side in Wh / varh (scale 0.001 kWh), exact integer
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
    ("LTime", "s", 1, "Load time: seconds with current above IST on any phase since the last energy clear"),
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


ENERGY = Rows(48, _energy)
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
# 0x0B00..0x0C6F (issue 12): alarm rules, switch inputs, voltage events, the event log (firmware/regmap_events.py)
from firmware.regmap_events import (ALARM_LIM, ALARM_N, ALARM_ST, ALARMS, DI_LOG, EV_HEAD, EV_REC,  # noqa: E402
                                    EV_SEL, PQ_N)
# (block name, first address, type, access, rows); access "r", "rw" or "w" (write-only: reads 0)
BLOCKS = (
    ("clock", 0x0020, "uint32", "rw", CLOCK),
    ("commands", 0x0030, "uint16", "w", COMMANDS),
    ("info", 0x0040, "uint32", "r", INFO),
    ("status", 0x0180, "uint16", "r", STATUS),
    ("harmonics", 0x0200, "float32", "r", HARMONICS),
    ("demand", 0x0400, "float32", "r", DEMAND),
    ("demand_t", 0x0440, "uint32", "r", DEMAND_T),
    ("maxmin", 0x0500, "float32", "r", MAXMIN),
    ("maxmin_t", 0x0580, "uint32", "r", MAXMIN_T),
    ("energy", 0x0800, "uint64", "r", ENERGY),
    ("calibration", 0x0A00, "float32", "rw", CALIBRATION),
    ("alarms", 0x0B00, "uint16", "rw", ALARMS),
    ("alarm_lim", 0x0B40, "float32", "rw", ALARM_LIM),
    ("alarm_st", 0x0B60, "uint16", "r", ALARM_ST),
    ("alarm_n", 0x0B70, "uint32", "r", ALARM_N),
    ("di_log", 0x0B80, "uint32", "r", DI_LOG),
    ("pq_n", 0x0B90, "uint32", "r", PQ_N),
    ("ev_head", 0x0C00, "uint32", "r", EV_HEAD),
    ("ev_sel", 0x0C08, "uint16", "rw", EV_SEL),
    ("ev_rec", 0x0C10, "uint32", "r", EV_REC),
)

SYSS_NAMES = ("3Ln3CT", "2LL3CT", "2LL2CT")
DATA_NAMES = ("8N1", "8E1", "8O1", "8N2", "8E2", "8O2")
# Analog output quantities (CONFIG An = index; manual 4.3 writes Pfa.. Pff for PFa.. PF) and the codes each
# wiring may transmit (manual 4.3: 3Ln3CT everything but F; the 2LL modes line quantities, totals and F)
AN_NAMES = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "Uab", "Ubc", "Uca", "Pa", "Pb", "Pc", "P", "Qa", "Qb", "Qc", "Q",
            "Sa", "Sb", "Sc", "S", "PFa", "PFb", "PFc", "PF", "F")
AN_3LN = tuple(range(25))
AN_2LL = (3, 4, 5, 6, 7, 8, 12, 16, 20, 25)


def slot(name):
    """Index of a measurement in `vals` (not for hot paths: a linear search)."""
    for k in range(len(MEASUREMENTS)):
        if MEASUREMENTS[k][0] == name:
            return k
    raise KeyError(name)


def config_index(name):
    for k in range(len(CONFIG)):
        if CONFIG[k][0] == name:
            return k
    raise KeyError(name)


def valid(k, value):
    """True when `value` is allowed for configuration parameter k."""
    row = CONFIG[k]
    if value < row[2] or value > row[3]:
        return False
    allowed = row[4]
    if allowed is not None:
        for a in allowed:
            if a == value:
                return True
        return False
    return True


def block(name):
    """(first address, type, access, rows) of a block, by name."""
    for b in BLOCKS:
        if b[0] == name:
            return b[1], b[2], b[3], b[4]
    raise KeyError(name)


def locate(names):
    """{name: (type, address, scale, unit)} for those of `names` (a set) that name a row of a block: one pass
    over the blocks (set-up only: it allocates, and makes each row's name)."""
    out = {}
    for bname, base, typ, access, rws in BLOCKS:
        size = SIZES[typ]
        lazy = isinstance(rws, Rows)
        for k in range(len(rws)):
            n = rws.name(k) if lazy else rws[k][0]
            if n in names and n not in out:  # the first row of a name wins, as in a search
                r = rws[k]
                out[n] = (typ, base + size * k, r[2], r[1])
    return out


def block_end():
    """One past the highest register of any block (the size of the register image)."""
    end = BLOCK_END
    for name, base, typ, access, rws in BLOCKS:
        end = max(end, base + SIZES[typ] * len(rws))
    return end


def rows():
    """Every register as a dict, for tools and docs (allocates: never on a hot path)."""
    out = []
    for k in range(len(CONFIG)):
        name, default, lo, hi, allowed, scale, unit, desc = CONFIG[k]
        rng = "allowed " + " ".join(str(a) for a in allowed) if allowed else "range %d..%d" % (lo, hi)
        out.append({"name": name, "address": CONFIG_BASE + k, "function": 3, "type": "uint16",
                    "scale": scale, "unit": unit, "access": "rw",
                    "description": "%s; %s; default %d" % (desc, rng, default)})
    for k in range(len(MEASUREMENTS)):
        name, unit, desc = MEASUREMENTS[k]
        out.append({"name": name, "address": MEAS_BASE + 2 * k, "function": 3, "type": "float32",
                    "scale": 1, "unit": unit, "access": "r", "description": desc})
    for bname, base, typ, access, rws in BLOCKS:
        size = SIZES[typ]
        for k in range(len(rws)):
            name, unit, scale, desc = rws[k]
            out.append({"name": name, "address": base + size * k, "function": 3, "type": typ, "scale": scale,
                        "unit": unit, "access": access, "description": desc})
    out.sort(key=lambda r: (r["function"], r["address"]))
    for name, addr, desc in COILS:
        out.append({"name": name, "address": addr, "function": 1, "type": "uint16", "scale": 1, "unit": "",
                    "access": "rw", "description": desc})
    for name, addr, desc in INPUTS:
        out.append({"name": name, "address": addr, "function": 2, "type": "uint16", "scale": 1, "unit": "",
                    "access": "r", "description": desc})
    return out
