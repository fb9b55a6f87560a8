# SPDX-License-Identifier: MIT
# The register map's flat tables: measurement slots, configuration parameters with their ranges, coils and inputs,
# the small fixed blocks (clock, commands, info, status) and the code names. firmware/regmap.py lists the blocks
# and looks names up; users import `from firmware import regmap`, which re-exports everything here.
from micropython import const

MEAS_BASE = const(0x0100)  # first holding register of the float32 measurement block
CONFIG_BASE = const(0x0000)  # first holding register of the configuration block

# Measurements: float32, 2 registers each, high word first, read-only (FC03). Slot k is at MEAS_BASE + 2*k.
# Append new quantities at the end: existing addresses never move.
# (name, unit, description): a single field is read as row[M_NAME], row[M_UNIT] (every field index named here
# is a global in RAM, so only those read singly have one; whole rows are unpacked)
M_NAME = const(0)
M_UNIT = const(1)
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
    # metrology: neutral, averages, temperature
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
# (name, default, lowest, highest, allowed values or None for the whole range, scale, unit, description), read
# through these field indexes (ui/pages.PANEL_ROWS has the same fields)
CF_NAME = const(0)
CF_DEFAULT = const(1)
CF_MIN = const(2)
CF_MAX = const(3)
CF_CHOICES = const(4)
CF_SCALE = const(5)
CF_DESC = const(7)  # (6: the unit)
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
    ("Pulse_Q", 0, 0, 1, None, 1, "", "Terminals 29/30: 1 reactive energy pulses (imp/kvarh); 0 off (the manual's optional 2nd RS485: not fitted)"),
    ("DM_P", 15, 1, 60, None, 1, "min", "Demand period (sliding window)"),
    ("DM_S", 1, 1, 60, None, 1, "min", "Demand subinterval; must divide DM_P"),
    ("Wp", 0, 0, 1, None, 1, "", "Modbus write protection: 1 = writes need the password in Key first"),
    ("An", 0, 0, 25, None, 1, "", "Analog output quantity, index into AN_NAMES: 0 Ua 1 Ub 2 Uc 3 Ia 4 Ib 5 Ic 6 Uab "
     "7 Ubc 8 Uca 9 Pa 10 Pb 11 Pc 12 P 13 Qa 14 Qb 15 Qc 16 Q 17 Sa 18 Sb 19 Sc 20 S 21 PFa 22 PFb 23 PFc 24 PF "
     "25 F; 3Ln3CT allows 0-24, 2LL modes 3-8 12 16 20 25 (others: exception 03)"),
    ("Prot", 0, 0, 1, None, 1, "", "Modbus profile of FC03/06/16: 0 this register map, 1 the Eastron SDM630 holding "
     "registers (float32 parameters; Prot itself at 0x0100 there). FC04 is the SDM630 input map in both"),
    # relay modes (manual 3.4)
    ("DO1_M", 0, 0, 1, None, 1, "", "Relay DO1 mode: 0 remote (FC05/FC15, open after power-up), 1 alarm (closed while "
     "an alarm rule bound to it is active; FC05/FC15 get exception 04)"),
    ("DO2_M", 0, 0, 1, None, 1, "", "Relay DO2 mode: 0 remote, 1 alarm"),
    # voltage events per phase from the one-cycle RMS (docs/events.md): thresholds in % of Un x Pt_U
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

# Further blocks, each filled by the module that owns it (address ranges: docs/ARCHITECTURE.md).
# (name, unit, scale, description), fields read singly as row[B_UNIT], row[B_SCALE]; the address follows the row
# order with the block type's size.
B_UNIT = const(1)
B_SCALE = const(2)
SIZES = {"uint16": 1, "int16": 1, "uint32": 2, "int32": 2, "float32": 2, "uint64": 4, "float64": 4}
CLOCK = (  # 0x0020 uint32 rw; an invalid date or time gets exception 03
    ("dATE", "", 1, "Date YYYYMMDD (2000-01-01 .. 2099-12-31, leap years checked)"),
    ("tinE", "", 1, "Time hhmmss (00:00:00 .. 23:59:59)"),
)
COMMANDS = (  # 0x0030 uint16 write-only (reads 0); a wrong password or code gets exception 03
    ("Key", "", 1, "Write the password (PASS) to unlock Modbus writes for 5 minutes while Wp = 1"),
    ("cLr_Eny", "", 1, "Write the password (PASS) to clear all energy, period energy, RTime and LTime"),
    ("cLr_MaxMin", "", 1, "Write the password (PASS) to clear the maximum and minimum values"),
    ("cLr_DM", "", 1, "Write the password (PASS) to clear the maximum demands"),
    # calibration (docs/metering.md): 0x0034 and 0x0035, one FC16 may write both
    ("CAL_Pass", "", 1, "Password (PASS) for CAL_Cmd, unless Key was written within 5 minutes"),
    ("CAL_Cmd", "", 1, "Calibration command: 1 measure the reference (CALIBRATION Ref_*) and correct, 2 reset; "
     "exception 03 when not unlocked or an unknown code, 04 busy or wiring not 3Ln3CT"),
    ("cLr_OVR", "", 1, "Write the password (PASS) to clear OVR_L and the over-range counters OVR_Ua .. OVR_In"),
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
    # the inputs (firmware/inputflags.py, docs/metering.md "When the inputs are wrong")
    ("SEQ", "", 1, "Phase sequence of the voltages (fundamental phasors, harmonic analysis): 0 unknown (no "
     "voltage, a single phase, |U2| within a factor sqrt 2 of |U1|), 1 a-b-c, 2 a-c-b (reversed)"),
    ("OVR", "", 1, "Over range in the last window: bits 0-6 Ua Ub Uc Ia Ib Ic In reached the ADC's full scale "
     "(1000 V / 25 A peak, secondary): their quantities are not measured (read as clipped, marked)"),
    ("OVR_L", "", 1, "OVR latched since power-up or cLr_OVR (bits as OVR)"),
    ("NOV", "", 1, "Current without voltage: bits 0-2 phase A B C carries current (>= IST) while its voltage is "
     "below 0.5 V x Pt_U (in 2LL: bit 0 Uab with Ia, bit 2 Ucb with Ic), held 1 s"),
)
OVR_N = (  # 0x0190 uint32 read-only: per channel (OVR's bits), counted by firmware/inputflags.py
    ("OVR_Ua", "", 1, "Windows with Ua over range since power-up or cLr_OVR (stops at 2**30 - 1)"),
    ("OVR_Ub", "", 1, "Windows with Ub over range since power-up or cLr_OVR"),
    ("OVR_Uc", "", 1, "Windows with Uc over range since power-up or cLr_OVR"),
    ("OVR_Ia", "", 1, "Windows with Ia over range since power-up or cLr_OVR"),
    ("OVR_Ib", "", 1, "Windows with Ib over range since power-up or cLr_OVR"),
    ("OVR_Ic", "", 1, "Windows with Ic over range since power-up or cLr_OVR"),
    ("OVR_In", "", 1, "Windows with In over range since power-up or cLr_OVR"),
)

SYSS_NAMES = ("3Ln3CT", "2LL3CT", "2LL2CT")
DATA_NAMES = ("8N1", "8E1", "8O1", "8N2", "8E2", "8O2")
# Analog output quantities (CONFIG An = index; manual 4.3 writes Pfa.. Pff for PFa.. PF) and the codes each
# wiring may transmit (manual 4.3: 3Ln3CT everything but F; the 2LL modes line quantities, totals and F)
AN_NAMES = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "Uab", "Ubc", "Uca", "Pa", "Pb", "Pc", "P", "Qa", "Qb", "Qc", "Q",
            "Sa", "Sb", "Sc", "S", "PFa", "PFb", "PFc", "PF", "F")
AN_3LN = tuple(range(25))
AN_2LL = (3, 4, 5, 6, 7, 8, 12, 16, 20, 25)
