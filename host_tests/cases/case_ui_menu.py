# SPDX-License-Identifier: MIT
# Front panel navigation and settings of manual 4.2-4.3 on the real Meter where it matters: RIGHT walks the energy
# pages 1-20 (values fed into the accumulators, expected from the manual's definitions), the calendar periods,
# run/load time and the clock; pages kept per group and screen over LEFT round trips; the indicators menu.fill
# sets; dATE / tinE edited field by field; cLr_MaxMin and cLr_DM clearing a spoiled history as Modbus sees it.
import struct

import micropython

from firmware import regmap
from firmware.config import Config
from firmware.meter import Meter
from firmware.ui import keymap, menu, pages, screen
from case_energy import _add
from case_ui import enter_password, keys, lines, make
from rtu_ref import frame
from signals import balanced_block

_N = 400  # samples per block: 50 ms


def _dump(m):
    return m.lcd_text().split("\n")


def _keys(m, seq):
    for k in seq.split():
        assert m.key(k), k


def _goto(m, name):
    for _ in range(len(m.ui.menu.params)):
        if m.ui.menu.param_name() == name:
            return
        m.key("down")
    raise AssertionError(name)


def _read(m, block, name):
    """A float32 / uint32 of a named register read with FC03, as a Modbus master sees it."""
    base, typ, acc, rows = regmap.block(block)
    a = base + 2 * [r[0] for r in rows].index(name)
    req = bytearray(frame(bytes((1, 3, a >> 8, a & 0xFF, 0, 2))))
    r = m.modbus(req, len(req))
    assert r == 9 and m.tx[1] == 3, bytes(m.tx[:r])
    return struct.unpack(">f" if typ == "float32" else ">I", bytes(m.tx[3:7]))[0]


def _feed(m, u, seconds):
    blocks = [balanced_block(j * _N, _N, u=u) for j in range(4)]  # 0.2 s = 10 cycles: phase-continuous loop
    for j in range(int(seconds * 8000) // _N):
        m.feed(blocks[j % 4], _N)


# -- Meter: the energy and time walk (RIGHT) --

# The manual's energy pages 1-20 (section 5): (symbol, phase label, energy type, unit)
_MANUAL_PAGES = [("EP", "", screen.ETYPE_IMP, "kWh"), ("EP", "", screen.ETYPE_EXP, "kWh"),
                 ("EP", "", screen.ETYPE_TOTAL, "kWh"), ("EP", "", screen.ETYPE_NET, "kWh"),
                 ("EQ", "", screen.ETYPE_IMP, "kvarh"), ("EQ", "", screen.ETYPE_EXP, "kvarh"),
                 ("EQ", "", screen.ETYPE_TOTAL, "kvarh"), ("EQ", "", screen.ETYPE_NET, "kvarh")]
for _ph in "ABC":  # per phase: import active, export active, import reactive, export reactive
    _MANUAL_PAGES += [("EP", _ph, screen.ETYPE_IMP, "kWh"), ("EP", _ph, screen.ETYPE_EXP, "kWh"),
                      ("EQ", _ph, screen.ETYPE_IMP, "kvarh"), ("EQ", _ph, screen.ETYPE_EXP, "kvarh")]
# Wh fed into the accumulators (firmware/energy.py: 0 EP imp, 1 EP exp, 2 EQ imp, 3 EQ exp, 4 + 4 p + j per
# phase p: P imp, P exp, Q imp, Q exp) and the kWh the glass must show (0.1 kWh resolution, manual 1.2: tenths
# not yet complete are not shown). Total = imp + exp, Net = |imp - exp| (manual 4.1 item 12).
_FED = ((0, 1234567), (1, 2000049), (2, 50), (3, 999), (4, 100000), (5, 1100), (6, 2200), (7, 3300),
        (8, 4400), (9, 5500), (10, 6600), (11, 7700), (12, 8800), (13, 9900), (14, 11000), (15, 12100))
_SHOWN = ("1234.5", "2000.0", "3234.6", "765.4",  # 1234567 + 2000049 = 3234616; 2000049 - 1234567 = 765482
          "0.0", "0.9", "1.0", "0.9",  # 50, 999, 1049, 949 varh
          "100.0", "1.1", "2.2", "3.3", "4.4", "5.5", "6.6", "7.7", "8.8", "9.9", "11.0", "12.1")


def test_right_walks_the_manuals_energy_pages_then_time_and_back():
    m = Meter(None)
    for q, wh in _FED:
        _add(m.ledger.energy, q, wh)
    m.clock.set_ymd(20261126)
    m.clock.set_hms(93520)
    _keys(m, "down down down")  # Meter P: the real-time page to come back to
    assert _dump(m)[0].startswith("Meter P")
    for k in range(20):
        _keys(m, "right")
        s = m.ui.screen()
        sym, label, etype, unit = _MANUAL_PAGES[k]
        assert (s.symbol, s.n, s.label[0], s.digits[0], s.unit[0], s.etype, s.clock) == \
            (sym, 1, label, _SHOWN[k], unit, etype, False), (k + 1, s.symbol, s.label[0], s.digits[0], s.unit[0])
    assert _dump(m)[:2] == ["Meter EQ Exp", "C     12.1 kvarh"]
    for sym in ("T Mon", "L Mon", "B Mon", "T Day", "L Day", "B Day"):  # the calendar periods
        _keys(m, "right")
        s = m.ui.screen()
        assert s.symbol == sym and s.label[:4] == ["P+", "P-", "Q+", "Q-"] and s.etype == screen.ETYPE_NONE
    # this month and today hold everything fed since the periods started (nothing rolled over)
    assert _dump(m)[0] == "Meter B Day" and m.ui.screen().digits[0] == "0.0"
    _keys(m, "up up up up up")
    assert m.ui.screen().digits[:4] == ["1234.5", "2000.0", "0.0", "0.9"]  # T Mon: P+ P- Q+ Q-
    _keys(m, "down down down down down")
    for sym in ("RTime", "LTime"):
        _keys(m, "right")
        assert _dump(m)[:2] == ["Meter " + sym, "      0.00 h"]
    _keys(m, "right")  # the date/time page: clock indicator, yyyy.mm.dd and hh:mm:ss
    s = m.ui.screen()
    assert s.clock and s.digits[:2] == ["2026.11.26", "09:35:20"] and _dump(m)[0] == "Meter clock"
    _keys(m, "right")  # back to the real-time page left
    assert _dump(m)[0].startswith("Meter P") and not m.ui.screen().clock
    _keys(m, "right")  # a new walk starts at page 1
    assert m.ui.screen().digits[0] == "1234.5" and m.ui.screen().etype == screen.ETYPE_IMP


def test_up_down_step_the_energy_walk_and_wrap_inside_it():
    ui, v, io = make()
    keys(ui, "right down")
    assert lines(ui)[0] == "Meter EP Exp"
    keys(ui, "up up")  # UP from page 1 wraps to the last page of the walk, the clock
    assert lines(ui)[0] == "Meter clock"
    keys(ui, "down")  # DOWN from the clock wraps to page 1 (UP/DOWN stay inside the walk)
    assert lines(ui)[0] == "Meter EP Imp"
    keys(ui, "up right")  # RIGHT on the clock page leaves the walk
    assert lines(ui)[0] == "Meter U"


def test_pages_are_kept_per_group_and_screen():
    ui, v, io = make()
    keys(ui, "down down down down down")  # Meter S
    keys(ui, "left right down down down down")  # PQM harmonics, HR 5
    assert lines(ui)[0] == "PQM U" and lines(ui)[4] == "HR 5"
    keys(ui, "left down down")  # History Max Uc
    keys(ui, "right down")  # History Min Ub
    assert lines(ui)[:2] == ["History Min", "Ub    ----"]
    keys(ui, "left")
    assert lines(ui)[0] == "Meter S"  # LEFT round trip: the same page
    keys(ui, "left")
    assert lines(ui)[0] == "PQM U" and lines(ui)[4] == "HR 5"
    keys(ui, "right right right")  # unbalance, alarms, demand (its first page), then harmonics again: HR 5
    assert lines(ui)[:6] == ["PQM DM", "now   ----", "Max   ----", "D     ----", "T     ----", "P"]
    keys(ui, "right")
    assert lines(ui)[4] == "HR 5"
    keys(ui, "left")
    assert lines(ui)[:2] == ["History Min", "Ub    ----"]
    keys(ui, "right")  # the event group: no source in this Ui
    assert lines(ui)[0] == "History EV"
    keys(ui, "right")
    assert lines(ui)[:2] == ["History Max", "Uc    ----"]
    keys(ui, "left right down down")  # Meter energy walk, page 3 (EP Total)
    assert lines(ui)[0] == "Meter EP Total"
    keys(ui, "left left left")
    assert lines(ui)[0] == "Meter EP Total"  # the walk's page is kept too
    keys(ui, "enter left")  # into the password entry and out: the same page
    assert lines(ui)[0] == "Meter EP Total"


def test_page_keys_allocate_nothing():
    ui, v, io = make()
    m = ui.menu
    seq = ("down", "right", "right", "up", "left", "right", "down", "right", "up", "left", "right", "down", "left",
           "right", "left", "left", "left")
    micropython.heap_lock()
    try:
        for k in seq:
            keymap.step(m, k)
        menu.tick(m, 250)
    finally:
        micropython.heap_unlock()
    assert (m.screen, m.group, m.page) == (0, 1, 1)


# -- indicators --

def test_indicators_load_nature_bars_average_extreme():
    cfg = Config()
    assert cfg.set("Ct_I", 100)  # rated primary current In x Ct_I = 5 A x 100 = 500 A
    ui, v, io = make(cfg, Ia=250.0, Ib=500.0, Ic=float("nan"), Qa=5.0, Qb=-5.0, Qc=0.0, Q=0.0)
    s = ui.screen()
    assert s.bars == [50, 100, -1] and s.load_ph == [screen.LOAD_IND, screen.LOAD_CAP, screen.LOAD_NONE]
    assert s.load == screen.LOAD_NONE and not s.avg and s.etype == screen.ETYPE_NONE
    assert lines(ui)[-2] == "load A IND 50%  B CAP 100%"
    for ia, bar in ((2.5, 1), (2.4, 0), (0.0, 0), (6000.0, 999), (float("inf"), 999)):
        v[regmap.slot("Ia")] = ia  # 2.5 A = 0.5 % rounds up, 2.4 A = 0.48 % down; beyond 999 % capped
        assert ui.screen().bars[0] == bar, (ia, ui.screen().bars)
    assert cfg.set("In", 1)  # 100 A rated: the bars follow the configuration
    v[regmap.slot("Ia")] = 250.0
    assert ui.screen().bars[:2] == [250, 500]
    avg = []
    for k in range(len(pages.METER_PAGES)):
        avg.append(ui.screen().avg)
        assert ui.screen().bars[1] == 500 and ui.screen().extreme == screen.EXTREME_NONE
        keys(ui, "down")
    assert [k for k in range(len(avg)) if avg[k]] == [9, 10]  # U_avg / UL_avg and I_avg pages
    keys(ui, "enter")  # settings: no load bars
    assert ui.screen().bars == [-1, -1, -1] and "load" not in ui.text()
    keys(ui, "left left left")  # History
    assert ui.screen().extreme == screen.EXTREME_MAX and ui.screen().bars[0] == 250
    keys(ui, "right")
    assert ui.screen().extreme == screen.EXTREME_MIN


def test_page_flags_match_the_display_model():
    assert pages.F_ETYPE == 7 and (screen.ETYPE_IMP, screen.ETYPE_EXP, screen.ETYPE_TOTAL, screen.ETYPE_NET) == \
        (1, 2, 3, 4)
    assert pages.MAX_PAGES[0][4] >> pages.F_EXTREME_SHIFT == screen.EXTREME_MAX
    assert pages.MIN_PAGES[25][4] >> pages.F_EXTREME_SHIFT == screen.EXTREME_MIN


def test_temperature_in_whole_degrees():
    ui, v, io = make()
    keys(ui, "up")  # the last real-time page: T
    for t, want in ((24.6, "        25 C"), (24.4, "        24 C"), (-0.4, "         0 C"), (-12.5, "       -13 C"),
                    (float("nan"), "      ---- C")):
        v[regmap.slot("T")] = t
        assert lines(ui)[:2] == ["Meter T", want], (t, lines(ui))


# -- settings --

_ORDER = ["PASS", "SYSS", "Un", "In", "Pt_U", "Ct_I", "Adr", "baud", "dATA", "BLt", "An", "dATE", "tinE", "cLr_Eny",
          "cLr_MaxMin", "Ver", "Pulse", "IST",  # the manual's factory-default table (4.3), in its order
          "cLr_DM",  # clear the maximum demands
          "Pulse_Q", "DM_P", "DM_S", "Wp", "Prot", "DO1_M", "DO2_M", "dIP", "SWEL", "Int",
          "HYSt",  # the ones the manual does not name, in register order
          "AL_n", "AL_Q", "AL_M", "AL_t", "AL_h", "AL_on", "AL_oF", "AL_r"]  # alarm rules, the panel's


def test_every_settings_row_in_the_manuals_order():
    m = Meter(None)
    m.clock.set_ymd(20120508)
    m.clock.set_hms(93520)
    enter_password(m.ui, "6666")
    seen = []
    shown = {}
    for _ in range(len(_ORDER)):
        seen.append(m.ui.screen().label[0])
        shown[seen[-1]] = _dump(m)[1]
        m.key("down")
    assert seen == _ORDER and m.ui.screen().label[0] == "PASS"
    assert shown["dATE"] == "dATE  2012.05.08" and shown["tinE"] == "tinE    09:35:20"  # the manual's examples
    assert shown["SYSS"] == "SYSS      3Ln3CT" and shown["baud"] == "baud        9600"
    assert shown["cLr_MaxMin"] == "cLr_MaxMin    no" and shown["IST"] == "IST           10"


def test_time_set_field_by_field():
    m = Meter(None)
    m.clock.set_hms(93520)  # 09:35:20, the manual's example
    enter_password(m.ui, "6666")
    _goto(m, "tinE")
    m.key("enter")
    s = m.ui.screen()
    assert _dump(m)[1] == "tinE  [09]:35:20" and (s.cursor_row, s.cursor_start, s.cursor_end) == (0, 0, 2)
    _keys(m, "up right")
    assert _dump(m)[1] == "tinE  10:[35]:20" and (s.cursor_start, s.cursor_end) == (3, 5)
    _keys(m, " ".join(["down"] * 12) + " right")
    assert _dump(m)[1] == "tinE  10:23:[20]" and (s.cursor_start, s.cursor_end) == (6, 8)
    _keys(m, " ".join(["up"] * 40))  # 20 -> 59, wraps to 00
    assert _dump(m)[1] == "tinE  10:23:[00]" and m.clock.hms == 93520  # nothing set before ENTER
    m.ui.tick(500)
    assert not m.ui.screen().blink_on  # the field blinks (the glass inverts it while blink_on)
    m.key("enter")
    assert m.clock.hms == 102300 and _dump(m)[:2] == ["Set        13/38", "tinE    10:23:00"]
    _keys(m, "enter up left")  # LEFT cancels
    assert m.clock.hms == 102300 and m.ui.menu.mode == menu.LIST
    _keys(m, "enter down")  # hours wrap 10 -> 09 ... and 00 -> 23
    for _ in range(10):
        m.key("down")
    assert _dump(m)[1] == "tinE  [23]:23:00"
    _keys(m, "right down")
    assert _dump(m)[1] == "tinE  23:[22]:00"
    _keys(m, "right right")  # RIGHT wraps from seconds to hours
    assert _dump(m)[1] == "tinE  [23]:22:00"


def test_field_keys_allocate_nothing():
    m = Meter(None)
    enter_password(m.ui, "6666")
    _goto(m, "dATE")
    m.ui.key("enter")
    mn = m.ui.menu
    micropython.heap_lock()
    try:
        for k in ("up", "right", "down", "down", "right", "up", "up", "right", "left"):
            keymap.step(mn, k)
    finally:
        micropython.heap_unlock()
    assert mn.mode == menu.LIST and m.clock.ymd == 20260101


def test_date_feb29_accepted_in_a_leap_year_refused_otherwise():
    m = Meter(None)
    m.clock.set_ymd(20270131)
    enter_password(m.ui, "6666")
    _goto(m, "dATE")
    m.key("enter")
    s = m.ui.screen()
    assert _dump(m)[1] == "dATE [2027].01.31" and (s.cursor_start, s.cursor_end) == (0, 4)
    _keys(m, "up right up")  # 2028, February: day 31 stays on show until the day is edited
    assert _dump(m)[1] == "dATE 2028.[02].31" and (s.cursor_start, s.cursor_end) == (5, 7)
    _keys(m, "right down")  # DOWN from beyond the month lands on its last day: 29 in 2028
    assert _dump(m)[1] == "dATE 2028.02.[29]" and (s.cursor_start, s.cursor_end) == (8, 10)
    _keys(m, "up")
    assert _dump(m)[1] == "dATE 2028.02.[01]"  # days wrap within February 2028
    _keys(m, "down enter")
    assert m.clock.ymd == 20280229 and _dump(m)[1] == "dATE  2028.02.29"
    _keys(m, "enter down")  # 2027.02.29 does not exist
    assert _dump(m)[1] == "dATE [2027].02.29"
    m.key("enter")
    assert _dump(m)[1:3] == ["dATE  2028.02.29", "Err"] and m.clock.ymd == 20280229  # refused, nothing changed
    _keys(m, "enter down right right up")  # in 2027 February has 28 days: 29 -> 01
    assert _dump(m)[1] == "dATE 2027.02.[01]"
    _keys(m, "left enter")  # cancel; the year wraps 2099 <-> 2000 (the clock's range)
    for _ in range(72):
        m.key("up")
    assert _dump(m)[1] == "dATE [2000].02.29"
    m.key("down")
    assert _dump(m)[1] == "dATE [2099].02.29"
    _keys(m, "right down down")  # months wrap 02 -> 01 -> 12
    assert _dump(m)[1] == "dATE 2099.[12].29"
    m.key("enter")
    assert m.clock.ymd == 20991229


def test_small_ranges_cycle_and_out_of_range_digits_are_refused():
    cfg = Config()
    ui, v, io = make(cfg)
    enter_password(ui, "6666")
    # HYSt Int SWEL dIP DO2_M DO1_M, Prot (0 native map, 1 SDM630 holding registers): 0 / 1 cycle
    keys(ui, "up up up up up up up")
    assert lines(ui)[1] == "Prot           0"
    keys(ui, "up")  # Wp: 0 / 1 cycle instead of a digit that could be 2..9
    keys(ui, "enter")
    assert lines(ui)[1] == "Wp           [0]"
    keys(ui, "up up up enter")
    assert cfg.get("Wp") == 1
    keys(ui, "up enter")  # DM_S: two digits; 07 does not divide DM_P = 15: refused
    assert lines(ui)[1] == "DM_S        [0]1"
    keys(ui, "right " + " ".join(["up"] * 6) + " enter")
    assert lines(ui)[1:3] == ["DM_S           1", "Err"] and cfg.get("DM_S") == 1


def test_clear_maxmin_from_the_panel():
    m = Meter(None)
    _feed(m, 250.0, 1.5)  # an overvoltage spoils the maximum
    _feed(m, 220.0, 1.0)
    assert abs(_read(m, "maxmin", "Ua_max") - 250.0) < 0.1 and _read(m, "maxmin_t", "Ua_max_D") == m.clock.ymd
    enter_password(m.ui, "6666")
    _goto(m, "cLr_MaxMin")
    _keys(m, "enter enter")  # "no" + ENTER: nothing cleared
    assert abs(_read(m, "maxmin", "Ua_max") - 250.0) < 0.1 and _dump(m)[1] == "cLr_MaxMin    no"
    _keys(m, "enter up")
    assert _dump(m)[1] == "cLr_MaxMin [YES]"
    m.key("enter")
    assert _dump(m)[1:3] == ["cLr_MaxMin", "cLEAr donE"]
    assert _read(m, "maxmin", "Ua_max") == 0.0 and _read(m, "maxmin", "Ua_min") == 0.0
    assert _read(m, "maxmin_t", "Ua_max_D") == 0 and _read(m, "maxmin_t", "F_min_T") == 0
    m.tick(2000)  # the message stays 2 s, then the list again
    assert _dump(m)[1] == "cLr_MaxMin    no" and m.ui.menu.mode == menu.LIST
    _feed(m, 220.0, 1.0)  # tracking goes on from the clear: the true maximum now
    assert abs(_read(m, "maxmin", "Ua_max") - 220.0) < 0.1 and abs(_read(m, "maxmin", "Ua_min") - 220.0) < 0.1


def test_clear_demand_from_the_panel():
    m = Meter(None)
    m.set("DM_P", 1)  # DM_P = DM_S: one whole subinterval makes a maximum demand (docs/demand.md)
    m.clock.set_hms(120000)
    _feed(m, 220.0, 0.6)  # metered windows of the load in vals
    while m.demand.samples < 60 * 8000 - 2 * 8000:  # ... and more of them, to a whole minute with the 2 s below
        m.demand.window(1600)
    m.clock.set_hms(120058)  # the 1-minute subinterval (DM_S) ends at 12:01:00
    _feed(m, 220.0, 2.5)
    p = 3 * 220.0 * 5.0 * 0.8660254  # balanced 220 V, 5 A, 30 degrees lagging
    assert abs(_read(m, "demand", "MaxDmd_P") / p - 1) < 0.003 and _read(m, "demand_t", "MaxDmd_P_T") == 120100
    enter_password(m.ui, "6666")
    _goto(m, "cLr_DM")
    _keys(m, "enter up enter")
    assert _dump(m)[1:3] == ["cLr_DM", "cLEAr donE"]
    m.key("down")  # a key dismisses the message: the list, where it was
    assert _dump(m)[1] == "cLr_DM        no"
    assert _read(m, "demand", "MaxDmd_P") == 0.0 and _read(m, "demand_t", "MaxDmd_P_D") == 0
    assert abs(_read(m, "demand", "Dmd_P") / p - 1) < 0.003  # the present demand goes on


def test_alarm_rule_set_at_the_panel():
    """An electrician sets rule 2 = Ub over 240 V, back below 235 V, 3 s on, 1 s off, DO2, with the keys alone;
    the rule is what Modbus reads back (docs/alarms.md)."""
    m = Meter(None)
    enter_password(m.ui, "6666")
    _goto(m, "AL_n")
    _keys(m, "enter up enter")  # 1 -> 2
    assert _dump(m)[1].split() == ["AL_n", "2"]
    _keys(m, "down enter up enter")  # AL_Q: Ua -> Ub
    assert _dump(m)[1].split() == ["AL_Q", "Ub"]
    _keys(m, "down enter up enter")  # AL_M: off -> over
    assert _dump(m)[1].split() == ["AL_M", "over"]
    # AL_t: 8 digits, most significant first: 00000240
    _keys(m, "down enter right right right right right up up right up up up up enter")
    assert _dump(m)[1].split() == ["AL_t", "240"]
    _keys(m, "down enter right right right right right right right up up up up up enter")  # AL_h 5
    _keys(m, "down enter right right right up up up enter")  # AL_on 3 (4 digits)
    _keys(m, "down enter right right right up enter")  # AL_oF 1
    _keys(m, "down enter up up enter")  # AL_r: none -> DO1 -> DO2
    assert _dump(m)[1].split() == ["AL_r", "DO2"]
    m.service()
    a = regmap.block("alarms")[0] + 5  # rule 2's Q M On Off R
    img = m.regs.image
    assert [img[2 * (a + i)] << 8 | img[2 * (a + i) + 1] for i in range(5)] == [1, 1, 3, 1, 2]
    al = m.alarms
    assert al.thr[1] == 240.0 and al.hys[1] == 5.0 and al.ret[1] == 235.0 and al.md[0] == 0
