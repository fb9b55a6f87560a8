# SPDX-License-Identifier: MIT
# Front panel: key sequences -> exact LCD text, settings (password, edit, refusal, timeout) and indicators;
# number formatting is in case_ui_fmt.py, the framebuf renderer in case_ui_fb.py (they share make/keys).
from array import array

import micropython

from firmware import regmap
from firmware.ui import Ui, keymap, menu, screen
from firmware.ui.pages import ENERGY_PAGES

NAMES = [m[0] for m in regmap.MEASUREMENTS]
SLOTS = {}
for _n in NAMES:
    SLOTS[_n] = regmap.slot(_n)


class FakeCfg:
    """Holds regmap defaults and enforces regmap ranges like the real config; refuse=True refuses everything.
    The menu's view of the configuration (firmware/ledger.py Panel): get, set, version, panel_rows."""

    panel_rows = ()  # no panel-only rows (clock, clears, alarm rules) served

    def __init__(self, refuse=False, password=None):
        self.values = {}
        for row in regmap.CONFIG:
            self.values[row[0]] = row[1]
        if password is not None:
            self.values["PASS"] = password
        self.refuse = refuse
        self.calls = []
        self._ver = 0

    @property
    def version(self):
        # Config.version moves on every change; tests also write self.values directly, so this one moves on
        # every read: whoever caches on it reads again each time
        self._ver += 1
        return self._ver

    def get(self, name):
        return self.values[name]  # KeyError for an unknown name, like firmware.config

    def set(self, name, value):
        self.calls.append((name, value))
        if self.refuse or not regmap.valid(regmap.config_index(name), value):
            return False
        self.values[name] = value
        return True


class FakeIo:
    def __init__(self):
        self.relays = [0, 0]
        self.inputs = [0, 0]
        self.comm = 0
        self.alarm = 0


def make(cfg=None, **vals):
    v = array("f", [0.0] * len(NAMES))
    for name, x in vals.items():
        v[SLOTS[name]] = x
    io = FakeIo()
    ui = Ui(v, regmap.slot, cfg if cfg is not None else FakeCfg(), io)
    return ui, v, io


def keys(ui, seq):
    for k in seq.split():
        assert ui.key(k), k


def lines(ui):
    return ui.text().split("\n")


# -- measurement screens --

def test_meter_pages_exact_text():
    ui, v, io = make(Ua=219.96, Ub=220.04, Uc=-0.0, Uab=381.0, Ubc=380.5, Uca=379.96, Ia=4.9996, Ib=5.0, Ic=0.0,
                     Pa=1000.0, Pb=-1500.0, Pc=12.5, P=-487.5, Qa=10.0, Qb=20.0, Qc=30.0, Q=60.0,
                     Sa=1100.0, Sb=1600.0, Sc=33.0, S=2733.0, PFa=0.909, PFb=-0.9375, PFc=0.3788, PF=-0.1784, F=50.0,
                     I_N=1.5, I_N_m=1.498, U_avg=146.67, UL_avg=380.49, I_avg=3.3332, T=24.6)
    # bars: Ia Ib Ic as % of In x Ct_I = 5 A (4.9996 A -> 100 %); Qa Qb Qc > 0: every phase inductive
    load = "load A IND 100%  B IND 100%  C IND 0%"
    pages = [
        ["Meter U   Q2 IND", "A    220.0 V", "B    220.0 V", "C    0.000 V"],
        ["Meter U   Q2 IND", "AB   381.0 V", "BC   380.5 V", "CA   380.0 V"],
        ["Meter I   Q2 IND", "A    5.000 A", "B    5.000 A", "C    0.000 A"],
        ["Meter P   Q2 IND", "A    1.000 kW", "B   -1.500 kW", "C    12.50 W", "tot -487.5 W"],
        ["Meter Q   Q2 IND", "A    10.00 var", "B    20.00 var", "C    30.00 var", "tot  60.00 var"],
        ["Meter S   Q2 IND", "A    1.100 kVA", "B    1.600 kVA", "C    33.00 VA", "tot  2.733 kVA"],
        ["Meter PF  Q2 IND", "A    0.909", "B   -0.938", "C    0.379", "tot -0.178"],
        ["Meter F   Q2 IND", "     50.00 Hz"],
        ["Meter I   Q2 IND", "N    1.500 A", "Nm   1.498 A"],
        ["Meter U avg Q2 IND", "avg  146.7 V", "Lav  380.5 V"],  # the AVG indicator on the average pages
        ["Meter I avg Q2 IND", "avg  3.333 A"],
        ["Meter T   Q2 IND", "        25 C"],  # 1 degC resolution (manual 1.2)
    ]
    pages = [p + [load, "DI-- DO--"] for p in pages]
    for i in range(len(pages)):
        assert lines(ui) == pages[i], (i, lines(ui))
        keys(ui, "down")
    assert lines(ui) == pages[0]  # DOWN wraps
    keys(ui, "up")
    assert lines(ui) == pages[-1]  # UP wraps the other way
    keys(ui, "up up")
    assert lines(ui) == pages[-3]


def test_left_cycles_screens_and_right_cycles_groups():
    ui, v, io = make(Ua=230.0)
    keys(ui, "down down")
    assert lines(ui)[0] == "Meter I"
    keys(ui, "right")  # Meter -> the energy and time walk, page 1 (EP Imp); no energy source in this Ui
    assert lines(ui)[:2] == ["Meter EP Imp", "      ---- kWh"] and ui.screen().etype == screen.ETYPE_IMP
    for _ in range(len(ENERGY_PAGES) - 1):
        keys(ui, "right")
    assert lines(ui)[0] == "Meter clock" and ui.screen().clock  # the last page: date and time
    keys(ui, "right")  # and back to the real-time page left
    assert lines(ui)[0] == "Meter I" and not ui.screen().clock
    keys(ui, "left")
    # PQM: demand, harmonics, unbalance groups (no demand/harmonic/history sources in this Ui)
    assert lines(ui)[:6] == ["PQM DM", "now   ----", "Max   ----", "D     ----", "T     ----", "P"]
    keys(ui, "right")
    assert lines(ui)[:2] == ["PQM U", "A    0.000 %"] and lines(ui)[4] == "THd"
    keys(ui, "down")
    assert lines(ui)[4] == "HR 2"
    keys(ui, "right")
    assert lines(ui)[:3] == ["PQM UNB", "U    0.000 %", "I    0.000 %"]
    keys(ui, "right")  # the alarm page: no source in this Ui
    assert lines(ui)[0] == "PQM AL"
    keys(ui, "right")  # demand again
    assert lines(ui)[:2] == ["PQM DM", "now   ----"]
    keys(ui, "right")  # harmonics: the page left there
    assert lines(ui)[4] == "HR 2"
    keys(ui, "left")
    assert lines(ui)[:2] == ["History Max", "Ua    ----"] and ui.screen().extreme == screen.EXTREME_MAX
    keys(ui, "right")
    assert lines(ui)[:2] == ["History Min", "Ua    ----"] and ui.screen().extreme == screen.EXTREME_MIN
    keys(ui, "left")
    assert lines(ui)[:2] == ["Meter I", "A    0.000 A"]  # back to Meter: the page left
    keys(ui, "left")
    assert lines(ui)[4] == "HR 2"  # and PQM's group and page
    assert not ui.key("middle") and lines(ui)[4] == "HR 2"


def test_values_refresh_from_vals():
    ui, v, io = make(Ua=100.0)
    assert lines(ui)[1] == "A    100.0 V"
    v[SLOTS["Ua"]] = 10000.0
    assert lines(ui)[1] == "A    10.00 kV"
    assert ui.screen().value_text(0) == "10.00 kV" and ui.screen().symbol == "U"


def test_quadrant_and_load_indicators():
    want = (
        ((100.0, 50.0), 1, screen.LOAD_IND, "Meter U   Q1 IND"),
        ((-100.0, 50.0), 2, screen.LOAD_IND, "Meter U   Q2 IND"),
        ((-100.0, -50.0), 3, screen.LOAD_CAP, "Meter U   Q3 CAP"),
        ((100.0, -50.0), 4, screen.LOAD_CAP, "Meter U   Q4 CAP"),
        ((100.0, 0.0), 1, screen.LOAD_NONE, "Meter U       Q1"),
        ((0.0, 0.0), 0, screen.LOAD_NONE, "Meter U"),
    )
    for (p, q), quad, load, head in want:
        ui, v, io = make(P=p, Q=q)
        s = ui.screen()
        assert s.quadrant == quad and s.load == load, (p, q, s.quadrant, s.load)
        assert lines(ui)[0] == head, (p, q, lines(ui)[0])
    assert screen.quadrant(float("nan"), 1.0) == 0


class FakeMeas:
    """Metering's per-window view as the panel reads it: directions, mask (every quantity known), slots."""

    def __init__(self, dirs, mask=None):
        self.dirs = dirs
        self.slots = bytes(SLOTS[n] for n in ("Ua", "Ub", "Uc", "Pa", "P", "PFa", "Ia"))
        self.mask = mask if mask is not None else bytearray([3] * len(NAMES))


def test_quantities_not_known_show_dashes():
    # 2LL: metering's mask has no KNOWN bit for the phase voltages and per-phase powers: ---- instead of 0.000
    # (an electrician would read 0 V as a dead input); the line voltages are known and shown.
    v = array("f", [0.0] * len(NAMES))
    v[SLOTS["Uab"]] = 380.0
    mask = bytearray([3] * len(NAMES))
    for n in ("Ua", "Ub", "Uc", "Pa"):
        mask[SLOTS[n]] = 0
    ui = Ui(v, regmap.slot, FakeCfg(), FakeIo(), None, FakeMeas(bytearray(8), mask))
    assert lines(ui)[1:4] == ["A     ---- V", "B     ---- V", "C     ---- V"], lines(ui)
    keys(ui, "down")
    assert lines(ui)[1] == "AB   380.0 V"
    keys(ui, "down")  # I: Ia is metering's and known (0.000 A), Ib not in FakeMeas.slots: shown as is
    assert lines(ui)[1:3] == ["A    0.000 A", "B    0.000 A"], lines(ui)
    keys(ui, "down")
    assert lines(ui)[1] == "A     ---- W" and lines(ui)[4] == "tot  0.000 W", lines(ui)


def test_directions_follow_metering_dead_band():
    # With metering's directions (Metering.dirs: P a b c total, then Q; deadband NONE 0 POS 1 NEG 2) the header
    # and the minus signs of P, Q and PF rows follow them, not the raw signs: noise around 0 shows no direction.
    from firmware import deadband
    v = array("f", [0.0] * len(NAMES))
    for name, x in (("P", 3300.0), ("Q", -0.04), ("Qa", -0.02), ("Qb", 0.01), ("Qc", -0.03), ("PF", 1.0),
                    ("Pa", 1100.0), ("Pb", 1100.0), ("Pc", 1100.0)):
        v[SLOTS[name]] = x
    dirs = bytearray([deadband.POS] * 4 + [deadband.NONE] * 4)
    ui = Ui(v, regmap.slot, FakeCfg(), FakeIo(), None, FakeMeas(dirs))
    s = ui.screen()
    assert s.quadrant == 0 and s.load == screen.LOAD_NONE and list(s.load_ph) == [0, 0, 0]
    keys(ui, "down down down down")  # U, U line, I, P, Q
    assert lines(ui)[:5] == ["Meter Q", "A    0.020 var", "B    0.010 var", "C    0.030 var", "tot  0.040 var"]
    dirs[4] = dirs[7] = deadband.NEG  # a real capacitive Q on phase A and the total
    dirs[3] = deadband.POS
    assert lines(ui)[:5] == ["Meter Q   Q4 CAP", "A   -0.020 var", "B    0.010 var", "C   -0.030 var"][:2] + \
        ["B    0.010 var", "C    0.030 var", "tot -0.040 var"]
    s = ui.screen()
    assert s.quadrant == 4 and s.load == screen.LOAD_CAP and list(s.load_ph) == [screen.LOAD_CAP, 0, 0]


def test_status_indicators():
    ui, v, io = make()
    io.inputs[1] = 1
    io.relays[0] = 1
    io.comm = 1
    assert lines(ui)[-1] == "DI-2 DO1- COM"
    io.alarm = 1
    s = ui.screen()
    assert s.di == [0, 1] and s.do == [1, 0] and s.comm and s.alarm
    assert lines(ui)[-1] == "DI-2 DO1- COM AL"


# -- settings --

def enter_password(ui, digits):
    keys(ui, "enter")
    for d in digits:
        # DOWN from 0 wraps through 9: press DOWN (10 - d) % 10 times, UP d times; mix both to test both
        n = int(d)
        keys(ui, " ".join(["up"] * n) if n <= 5 else " ".join(["down"] * (10 - n)))
        keys(ui, "right")
    keys(ui, "enter")


def test_password_entry_and_list():
    ui, v, io = make()
    keys(ui, "enter")
    assert lines(ui) == ["Set", "PASS      [0]000", "DI-- DO--"]
    keys(ui, "down down down down right up")
    assert lines(ui) == ["Set", "PASS      6[1]00", "DI-- DO--"]
    keys(ui, "up up up up up right right right")
    assert lines(ui) == ["Set", "PASS      [6]600", "DI-- DO--"]  # RIGHT wraps to the first digit
    keys(ui, "right right down down down down right down down down down enter")
    assert lines(ui) == ["Set         1/25", "PASS        6666", "DI-- DO--"]
    seen = []
    for _ in range(len(regmap.CONFIG) + 1):
        seen.append(ui.screen().label[0])
        keys(ui, "down")
    # The manual's order (factory-default table; this cfg serves no panel rows, so no dATE tinE cLr_*; the
    # menu serves Ver itself), then the parameters the table does not name, in register order
    assert seen == ["PASS", "SYSS", "Un", "In", "Pt_U", "Ct_I", "Adr", "baud", "dATA", "BLt", "An", "Ver", "Pulse",
                    "IST", "Pulse_Q", "DM_P", "DM_S", "Wp", "Prot", "DO1_M", "DO2_M", "dIP", "SWEL",
                    "Int", "HYSt"]
    assert ui.screen().label[0] == "PASS"  # wraps
    keys(ui, "up")
    assert lines(ui) == ["Set        25/25", "HYSt           2", "DI-- DO--"]
    keys(ui, "up up up up up up")
    assert lines(ui) == ["Set        19/25", "Prot           0", "DI-- DO--"]
    keys(ui, "up")
    assert lines(ui) == ["Set        18/25", "Wp             0", "DI-- DO--"]
    keys(ui, "up")
    assert lines(ui)[1] == "DM_S           1"
    keys(ui, "up up up up up")
    assert lines(ui) == ["Set        12/25", "Ver         1.00", "      2026.11.26", "DI-- DO--"]
    keys(ui, "left")  # leaves the settings
    assert lines(ui)[0] == "Meter U"


def test_wrong_password():
    ui, v, io = make()
    keys(ui, "down")  # the line voltage page, to check we come back to it
    enter_password(ui, "6665")
    assert lines(ui) == ["Set", "Err PASS", "DI-- DO--"]
    ui.tick(1999)
    assert lines(ui)[1] == "Err PASS"
    ui.tick(1)
    assert lines(ui)[:2] == ["Meter U", "AB   0.000 V"]
    enter_password(ui, "1234")
    keys(ui, "up")  # any key dismisses the message
    assert lines(ui)[:2] == ["Meter U", "AB   0.000 V"]


def test_password_from_cfg():
    ui, v, io = make(FakeCfg(password=1234))
    enter_password(ui, "6666")
    assert lines(ui)[1] == "Err PASS"
    keys(ui, "left")
    enter_password(ui, "1234")
    assert lines(ui)[1] == "PASS        1234"


def test_edit_pt_u_digit_by_digit():
    cfg = FakeCfg()
    ui, v, io = make(cfg)
    enter_password(ui, "6666")
    keys(ui, "down down down down")
    assert lines(ui)[:2] == ["Set         5/25", "Pt_U           1"]
    keys(ui, "enter")
    assert lines(ui)[1] == "Pt_U      [0]001"
    keys(ui, "right up")
    assert lines(ui)[1] == "Pt_U      0[1]01"
    keys(ui, "right right down")
    assert lines(ui)[1] == "Pt_U      010[0]"
    assert cfg.values["Pt_U"] == 1  # nothing written before ENTER
    keys(ui, "enter")
    assert cfg.calls == [("Pt_U", 100)] and cfg.values["Pt_U"] == 100
    assert lines(ui) == ["Set         5/25", "Pt_U         100", "DI-- DO--"]
    keys(ui, "down enter")  # Ct_I: 4 digits, the cursor starts on the first
    assert lines(ui)[1] == "Ct_I      [0]001"
    keys(ui, "down")  # 0 -> 9
    keys(ui, "enter")
    assert cfg.values["Ct_I"] == 9001


def test_edit_enumerations_cycle():
    cfg = FakeCfg()
    ui, v, io = make(cfg)
    enter_password(ui, "6666")
    keys(ui, "down enter")
    assert lines(ui)[1] == "SYSS    [3Ln3CT]"
    keys(ui, "up")
    assert lines(ui)[1] == "SYSS    [2LL3CT]"
    keys(ui, "up up")
    assert lines(ui)[1] == "SYSS    [3Ln3CT]"  # wraps
    keys(ui, "down enter")
    assert cfg.values["SYSS"] == 2 and lines(ui)[1] == "SYSS      2LL2CT"
    keys(ui, "down enter up")  # Un 220 -> 400
    assert lines(ui)[1] == "Un         [400]"
    keys(ui, "up enter")  # -> 100 (wrap)
    assert cfg.values["Un"] == 100
    keys(ui, "down enter down enter")  # In 5 -> 1
    assert cfg.values["In"] == 1
    keys(ui, "down down down down enter")  # baud
    assert lines(ui)[1] == "baud      [9600]"
    keys(ui, "right up up up up")  # RIGHT does nothing on an enumeration
    assert lines(ui)[1] == "baud    [115200]"
    keys(ui, "up enter")
    assert cfg.values["baud"] == 12 and lines(ui)[1] == "baud        1200"
    keys(ui, "down enter down")  # dATA 8N1 -> 8O2 (wrap downwards)
    assert lines(ui)[1] == "dATA       [8O2]"
    keys(ui, "enter")
    assert cfg.values["dATA"] == 5


def test_refused_value_shows_err_and_old_value():
    cfg = FakeCfg(refuse=True)
    ui, v, io = make(cfg)
    enter_password(ui, "6666")
    keys(ui, "down down down down down down")
    assert lines(ui)[1] == "Adr            1"
    keys(ui, "enter")
    assert lines(ui)[1] == "Adr        [0]01"  # Adr goes to 247: 3 digits
    keys(ui, "right right up enter")
    assert cfg.calls == [("Adr", 2)] and cfg.values["Adr"] == 1
    assert lines(ui) == ["Set         7/25", "Adr            1", "Err", "DI-- DO--"]
    keys(ui, "down")  # the next key clears it
    assert lines(ui) == ["Set         8/25", "baud        9600", "DI-- DO--"]


def test_out_of_range_refused_by_cfg_and_cancel():
    cfg = FakeCfg()
    ui, v, io = make(cfg)
    enter_password(ui, "6666")
    keys(ui, "down down down down down down enter up up")  # Adr 001 -> 201
    keys(ui, "right up up up up right up up up up up up up enter")  # 241 -> 248 > 247
    assert cfg.calls == [("Adr", 248)] and cfg.values["Adr"] == 1
    assert lines(ui)[1:3] == ["Adr            1", "Err"]
    ui.tick(2000)
    assert lines(ui)[1:3] == ["Adr            1", "DI-- DO--"]  # Err times out too
    keys(ui, "enter up left")  # LEFT cancels the edit
    assert lines(ui)[1] == "Adr            1" and len(cfg.calls) == 1
    keys(ui, "left")
    assert lines(ui)[0] == "Meter U"


def test_settings_timeout():
    cfg = FakeCfg()
    cfg.values["BLt"] = 0  # backlight always on: the first key after 60 s acts (case_ui_panel.py: BLt)
    ui, v, io = make(cfg)
    keys(ui, "enter")
    ui.tick(59999)
    assert lines(ui)[0] == "Set"
    ui.tick(1)
    assert lines(ui)[0] == "Meter U"
    enter_password(ui, "6666")
    keys(ui, "down down down down enter up")
    for _ in range(5):
        ui.tick(50000)
        keys(ui, "right")  # keys keep it alive
    assert lines(ui)[1].startswith("Pt_U")
    for _ in range(60):
        ui.tick(1000)
    assert lines(ui)[0] == "Meter U" and cfg.calls == []  # the unconfirmed edit is dropped


def test_blink_phase():
    ui, v, io = make()
    keys(ui, "enter")
    assert ui.screen().blink_on
    ui.tick(499)
    assert ui.screen().blink_on
    ui.tick(1)
    assert not ui.screen().blink_on
    ui.tick(1000)
    assert not ui.screen().blink_on
    ui.tick(500)
    assert ui.screen().blink_on
    ui.tick(500)
    keys(ui, "up")
    assert ui.screen().blink_on  # a key shows the field at once


def test_navigation_keys_allocate_nothing():
    ui, v, io = make()
    m = ui.menu
    micropython.heap_lock()
    try:
        for k in ("down", "up", "left", "right", "left", "left"):
            keymap.step(m, k)
        menu.tick(m, 250)
    finally:
        micropython.heap_unlock()
    assert m.screen == 0 and m.page == 0


def test_with_the_real_config():
    from firmware.config import Config
    cfg = Config()
    ui, v, io = make(cfg)
    enter_password(ui, "6666")  # the factory-default password
    keys(ui, "down down down down enter right up right right down enter")
    assert cfg.get("Pt_U") == 100 and lines(ui)[1] == "Pt_U         100"
    keys(ui, "down down enter up up up enter")  # Adr 301: out of range
    assert cfg.get("Adr") == 1 and lines(ui)[1:3] == ["Adr            1", "Err"]
