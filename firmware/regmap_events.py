# SPDX-License-Identifier: MIT
# The register map's alarm and event blocks (imported by firmware/regmap.py, which lists them in BLOCKS): alarm rules,
# their status and counters, the switch inputs' counters, voltage-event counters, the event log's window.
from firmware.rows import Rows

# 0x0B00.. (docs/alarms.md): alarm rules, their status and counters, the switch inputs' counters
_AL_F = (("Q", "Quantity: measurement slot index (0 Ua .. 47 THD_Uca, the float32 at 0x0100 + 2 x Q); one the "
          "wiring does not measure gets exception 03"),
         ("M", "Mode: 0 off, 1 over (active above T), 2 under (active below T)"),
         ("On", "On-delay, s (0..9999): the condition must hold this long"),
         ("Off", "Off-delay, s (0..9999): the return condition must hold this long"),
         ("R", "Relays driven while active: 0 none, 1 DO1, 2 DO2, 3 both (those in alarm mode, DOn_M = 1)"))


def _al(k):
    f, d = _AL_F[k % 5]
    return ("AL%d_%s" % (k // 5 + 1, f), "s" if f[0] == "O" else "", 1, "Rule %d: %s" % (k // 5 + 1, d))


def _al_lim(k):
    if k % 2 == 0:
        return ("AL%d_T" % (k // 2 + 1), "", 1, "Rule %d: threshold, primary units of the quantity" % (k // 2 + 1))
    return ("AL%d_H" % (k // 2 + 1), "", 1, "Rule %d: return hysteresis (>= 0): an over rule clears below T - H, an "
            "under rule above T + H" % (k // 2 + 1))


def _al_st(k):
    return ("AL%d_St" % (k + 1), "", 1, "Rule %d status: 0 inactive, 1 pending (on-delay running), 2 active, 3 "
            "clearing (off-delay running; the relay still closed)" % (k + 1))


def _al_n(k):
    return ("AL%d_N" % (k + 1), "", 1, "Rule %d: activations since power-up" % (k + 1))


ALARMS = Rows(40, _al)
ALARM_LIM = Rows(16, _al_lim)
ALARM_ST = Rows(8, _al_st)
ALARM_N = Rows(8, _al_n)
DI_LOG = (  # 0x0B80 uint32 read-only (manual 3.3)
    ("DI1_N", "", 1, "Switch input 1: debounced changes (40 ms) since the counter was new (kept across power cuts)"),
    ("DI2_N", "", 1, "Switch input 2: debounced changes"),
    ("DI1_D", "", 1, "Date of the last change of DI1, YYYYMMDD (0: none yet)"),
    ("DI1_T", "", 1, "Time of the last change of DI1, hhmmss"),
    ("DI2_D", "", 1, "Date of the last change of DI2, YYYYMMDD (0: none yet)"),
    ("DI2_T", "", 1, "Time of the last change of DI2, hhmmss"),
)
# 0x0C00.. the event log (docs/events.md): totals, the window's selector, a window of 8 records of 6 uint32
EV_HEAD = (
    ("EV_Total", "", 1, "Events logged since the log was new (the sequence number of the newest)"),
    ("EV_Kept", "", 1, "Events readable (at most 128): EV_From selects among them"),
)
EV_SEL = (("EV_From", "", 1, "Age of the first record in the window, 0 = the newest .. 127 (else 03); the window "
           "shows that event and the 7 older ones, refilled after the reply to this write"),)
_EV_F = (("Seq", "Sequence number (0: no event in this slot)"), ("D", "Date YYYYMMDD"), ("T", "Time hhmmss"),
         ("Code", "kind << 16 | argument << 8 | source (0 panel, 1 Modbus); kinds in docs/events.md"),
         ("Val", "Value: the IEEE754 float32 bit pattern (read it as float32)"),
         ("Aux", "Kind-specific: relay/input state, dip duration ms, power-up 0 after a power-down, 1 after a "
          "cut, 2 first, 3 log was empty"))


def _ev(k):
    f, d = _EV_F[k % 6]
    return ("EV%d_%s" % (k // 6 + 1, f), "", 1, "Window record %d: %s" % (k // 6 + 1, d))


EV_REC = Rows(48, _ev)
# 0x0B90 uint32 read-only: voltage events per phase since power-up, then those not logged (docs/events.md)
_PQ_K = (("DIP", "dips"), ("SWL", "swells"), ("INT", "interruptions"))
_PQ_X = (("PQ_Lost", "Voltage events found but not logged since power-up: more ended at once than the queues hold "
          "(16 in one block of samples, 24 waiting for the log); counted, never misdated"),
         ("PQ_Void", "Voltage events not logged since power-up because they began while the one-cycle RMS did not "
          "span a cycle of the line (a window off the NCO's frequency by more than 1/16: a frequency step) and "
          "their extreme is one that makes of a steady sine (a dip to 0.6 x dIP or above, a swell to 1.15 x SWEL "
          "or below); interruptions, deeper dips and higher swells are always logged"))


def _pq(k):
    if k >= 9:
        return (_PQ_X[k - 9][0], "", 1, _PQ_X[k - 9][1])
    c, d = _PQ_K[k // 3]
    return ("%s_%s" % (c, "abc"[k % 3]), "", 1, "Voltage %s on phase %s (3Ln3CT; Uab Ubc Uca in 2LL) since power-up, "
            "as logged" % (d, "ABC"[k % 3]))


PQ_N = Rows(11, _pq)
