# SPDX-License-Identifier: MIT
# The front panel's menu (manual 4.2-4.3): the state object over the page tables of pages.py (Menu: page on
# show, settings list, editors, timers), tick() that lets time pass, and fill() that turns the state plus `vals`
# and the I/O into the display model; nothing here knows about the glass. What keys do is keymap.py's.
from firmware import deadband, regmap, version
from firmware.clock import hms_text, ymd_text
from firmware.ui import fmt, screen
from firmware.ui.pages import (F_AVG, F_CLOCK, F_ETYPE, F_EXTREME_SHIFT, F_TEXT_UNIT, F_WHOLE, MANUAL_ORDER, NAMES,
                               PANEL_ROWS, READ_ONLY, SCREENS)

# Modes of the state machine
MEAS = 0  # measurement display (Meter / PQM / History)
PASS = 1  # password entry
LIST = 2  # parameter list
EDIT = 3  # editing one parameter: digit by digit, or cycling its allowed values
MSG = 4  # a short message ("Err PASS", "cLEAr donE") before going back (msg_back)
FIELD = 5  # editing dATE / tinE field by field (year month day, hour minute second)

TIMEOUT_MS = 60000  # no key for 60 s in the settings -> measurement display (manual 4.3)
MSG_MS = 2000  # how long "Err PASS" / "Err" / "cLEAr donE" stay up
BLINK_MS = 500  # half period of the blinking field
_MIN_MS = 60000  # BLt is in minutes
_IDLE_CAP = 1 << 29  # idle_ms stops here: a small int forever (BLt <= 99 min is far below)
_BAR_CAP = 999  # load bars stop at 999 % (a small int whatever the reading)


def prow(k):
    """Settings-list row k: a CONFIG row, or a PANEL_ROWS row after them."""
    n = len(regmap.CONFIG)
    return regmap.CONFIG[k] if k < n else PANEL_ROWS[k - n]


def _served(cfg, name):
    # Ver: the menu serves it for any cfg; the other panel rows when cfg lists them (ledger.Panel.panel_rows)
    return name in READ_ONLY or name in cfg.panel_rows


def param_order(cfg):
    """Row indices (prow) in the order the settings list shows them: the manual's factory-default table, then
    cLr_DM, then the CONFIG rows the manual does not name in register order, then the other served panel rows
    (the alarm rules AL_n .. AL_r); panel rows only when served."""
    nc = len(regmap.CONFIG)
    n = nc + len(PANEL_ROWS)
    names = [prow(k)[regmap.CF_NAME] for k in range(n)]
    out = []
    for name in MANUAL_ORDER:
        for k in range(n):
            if names[k] == name and (k < nc or _served(cfg, name)):
                out.append(k)
    for k in range(n):  # the CONFIG rows the manual does not name, then the served panel rows it does not name
        if k not in out and (k < nc or _served(cfg, names[k])):
            out.append(k)
    return out


def show_param(k, v):
    """A parameter value as the settings display shows it: 3Ln3CT, 9600 (baud), 220, 2026.11.26, 09:35:20."""
    row = prow(k)
    name = row[regmap.CF_NAME]
    if name == "dATE":
        return ymd_text(v)
    if name == "tinE":
        return hms_text(v)
    names = NAMES.get(name)
    lo = row[regmap.CF_MIN]
    if names is not None and 0 <= v - lo < len(names):
        return names[v - lo]
    return str(v * row[regmap.CF_SCALE])


class Menu:
    """The front panel's state (manual 4.1-4.3): which page is shown, or the password, the parameter list and the
    value being edited. Functions drive it: keymap.step(m, key) for a key (pages.KEYS), tick(m, ms) here for the
    timers (blink, the 60 s timeout, the backlight), fill(m, scr, ...) here to draw it into a screen.Screen. The
    settings go through cfg (firmware.config.Config, or the meter's panel view of it: ledger.Panel), so the
    panel obeys the same ranges as Modbus. firmware/ui/__init__.py (Ui) is what the meter holds."""

    def __init__(self, cfg, slot, extra=None):
        """slot(name): index of a measurement in vals, KeyError when it is none; extra(name): a callable for a
        page row that is no measurement (energy, clock, demand, max/min, harmonic ratios) or None."""
        self.cfg = cfg
        self.mode = MEAS
        self.screen = 0
        self.group = 0  # page group within the screen (RIGHT)
        self.page = 0
        # The page left in each group and the group left on each screen (manual 4.2: coming back shows them)
        g0 = bytearray(len(SCREENS))
        n = 0
        for s in range(len(SCREENS)):
            title, groups, right = SCREENS[s]
            g0[s] = n
            n += len(groups)
        self.g0 = bytes(g0)  # first group's index into at_page, per screen
        self.at_group = bytearray(len(SCREENS))
        self.at_page = bytearray(n)
        self.param = 0  # position in self.params
        self.params = param_order(cfg)
        self.idle_ms = 0  # since the last key (settings timeout, backlight timer BLt), capped at _IDLE_CAP
        self.backlight = True  # off after BLt minutes without a key (BLt 0: always on)
        self.msg_ms = 0
        self.msg_back = MEAS  # where a message goes when it ends or a key dismisses it
        self.blink_ms = 0
        self.blink_on = True
        self.err = False  # the parameter list shows "Err" after a refused value
        self.message = ""
        # Digit editor (password and numeric parameters): most significant digit first
        self.digits = bytearray(8)
        self.width = 0
        self.pos = 0
        self.choices = None  # allowed values when the parameter cycles instead of taking digits
        self.choice = 0
        # Field editor (dATE, tinE): three fields, the one being changed, date or time
        self.fv = [0, 0, 0]
        self.field = 0
        self.fdate = True
        # The page on show with its row names resolved (a source is a slot index into vals, or a callable from
        # `extra` returning a number or a ready-made string): resolved when the page changes, not all at once.
        self.slot = slot
        self.extra = extra
        self.shown = -1  # key() of the resolved page
        self.srcs = ()
        self.rdir = b""  # per row of the page on show: index into dirs whose sign the row shows, or _NO_DIR
        self.rmask = b""  # per row: 1 when metering's mask says whether its slot is known (Ui's meas.slots)
        self.mslots = b""
        self.pg = None
        self.slot_p = slot("P")
        self.slot_q = slot("Q")
        self.slot_ph = bytes((slot("Ia"), slot("Ib"), slot("Ic"), slot("Qa"), slot("Qb"), slot("Qc")))
        self.rated = 0  # rated primary current In x Ct_I (A) for the load bars, 0 = unknown
        self.rated_ver = -2  # cfg.version it was read at

    def group_len(self):
        title, groups, right = SCREENS[self.screen]
        return len(groups[self.group])

    def current(self):
        """The current page (symbol, rows, units, message, flags) and its row sources, kept until the page
        changes: pages made on demand (pages.Rows) and name look-ups cost milliseconds on the RP2040."""
        at = (self.screen << 16) | (self.group << 8) | self.page
        if at != self.shown:
            title, groups, right = SCREENS[self.screen]
            self.pg = groups[self.group][self.page]
            sym, rows, units, msg, flags = self.pg
            self.srcs = tuple(self._source(name) for label, name in rows)
            self.rdir = bytes(_dir_index(name) for label, name in rows)
            ms = self.mslots
            self.rmask = bytes(1 if isinstance(x, int) and x in ms else 0 for x in self.srcs)
            self.shown = at
        return self.pg, self.srcs

    def _source(self, name):
        try:
            return self.slot(name)
        except KeyError:
            pass
        fn = self.extra(name) if self.extra is not None else None
        return _absent if fn is None else fn

    # -- digit editor --
    def set_digits(self, v, width):
        self.width = width
        self.pos = 0
        for i in range(width - 1, -1, -1):
            self.digits[i] = v % 10
            v //= 10

    def digits_value(self):
        v = 0
        for i in range(self.width):
            v = v * 10 + self.digits[i]
        return v

    def digits_text(self):
        return "".join(str(self.digits[i]) for i in range(self.width))

    # -- field editor --
    def field_value(self):
        f = self.fv
        return f[0] * 10000 + f[1] * 100 + f[2]

    def field_text(self):
        v = self.field_value()
        return ymd_text(v) if self.fdate else hms_text(v)

    def field_span(self):
        """[start, end) of the edited field in field_text(): yyyy.mm.dd / hh:mm:ss."""
        f = self.field
        if self.fdate:
            return (0, 4) if f == 0 else (3 * f + 2, 3 * f + 4)
        return 3 * f, 3 * f + 2

    def password(self):
        return self.cfg.get("PASS")

    def param_name(self):
        return prow(self.params[self.param])[regmap.CF_NAME]

    def blt_ms(self):
        """Backlight time in ms, 0 = always on."""
        return self.cfg.get("BLt") * _MIN_MS

    def rated_current(self):
        """In x Ct_I: the rated primary current the load bars compare with (A). Read again only when
        cfg.version moves."""
        cfg = self.cfg
        ver = cfg.version
        if ver != self.rated_ver:
            self.rated = cfg.get("In") * cfg.get("Ct_I")
            self.rated_ver = ver
        return self.rated


def _absent():
    return "----"  # a page row whose source the meter did not hand in (UI tests without the energy side)


def tick(m, ms):
    """Let ms milliseconds pass: settings timeout, backlight, message duration, blink phase."""
    if m.idle_ms < _IDLE_CAP:
        m.idle_ms += ms
        if m.idle_ms > _IDLE_CAP:
            m.idle_ms = _IDLE_CAP
    blt = m.blt_ms()
    if blt == 0:
        m.backlight = True
    elif m.idle_ms >= blt:
        m.backlight = False
    if m.mode != MEAS and m.idle_ms >= TIMEOUT_MS:
        m.mode = MEAS
    if m.mode == MSG or m.err:
        m.msg_ms += ms
        if m.msg_ms >= MSG_MS:
            m.err = False
            if m.mode == MSG:
                m.mode = m.msg_back
    m.blink_ms += ms
    flips = m.blink_ms // BLINK_MS
    m.blink_ms -= flips * BLINK_MS
    if flips & 1:
        m.blink_on = not m.blink_on


_NO_DIR = 255
_KNOWN = 2  # firmware/metering_codes.py KNOWN: a complete window, the quantity defined in the wiring
_DIR_NAMES = ("P", "Q", "PF")  # P and PF rows carry the direction of P (dirs 0..3), Q rows of Q (dirs 4..7)


def _dir_index(name):
    """dirs index (a b c total) whose direction a live P / Q / PF row's minus sign follows, or _NO_DIR."""
    for base in _DIR_NAMES:
        if name.startswith(base):
            rest = name[len(base):]
            k = 3 if rest == "" else "abc".find(rest) if len(rest) == 1 else -1
            if k >= 0:
                return k + (4 if base == "Q" else 0)
    return _NO_DIR


def _nature(d):
    return screen.LOAD_IND if d == deadband.POS else screen.LOAD_CAP if d == deadband.NEG else screen.LOAD_NONE


def fill(m, scr, vals, io, meas=None):
    """Write the display model for state m from the measurements and the I/O. meas: metering's view of the
    last window (firmware/metering.py Metering: .dirs, .mask, .slots) or None (panel tests: raw signs, every
    value shown). dirs (bytearray 8: P of a b c total, then Q; firmware/deadband.py NONE POS NEG, with its dead
    band and hysteresis) give the quadrant, the load natures and the minus sign of P, Q and PF rows, so none of
    them flickers on a steady load near zero (docs/metering.md); a metering quantity whose mask has no KNOWN
    bit (not in this wiring, as per-phase powers in 2LL, or no complete window yet) shows ----, not 0."""
    dirs = None if meas is None else meas.dirs
    scr.comm = bool(io.comm)
    for i in range(2):
        scr.di[i] = 1 if io.inputs[i] else 0
        scr.do[i] = 1 if io.relays[i] else 0
    scr.alarm = bool(io.alarm)
    scr.blink_on = m.blink_on
    scr.backlight = m.backlight
    if dirs is not None:
        scr.quadrant = screen.quadrant_of(dirs[3], dirs[7])
        scr.load = _nature(dirs[7])
        for i in range(3):
            scr.load_ph[i] = _nature(dirs[4 + i])
    else:
        p = vals[m.slot_p]
        q = vals[m.slot_q]
        scr.quadrant = screen.quadrant(p, q)
        scr.load = screen.load_nature(q)
        ph = m.slot_ph
        for i in range(3):
            scr.load_ph[i] = screen.load_nature(vals[ph[3 + i]])
    mode = m.mode
    if mode == MEAS:
        _bars(m, scr, vals)
        pg, srcs = m.current()
        sym, rows, units, msg, flags = pg
        title, groups, right = SCREENS[m.screen]
        scr.clear(screen.KIND_MEAS, title)
        scr.symbol = sym
        scr.etype = flags & F_ETYPE
        scr.extreme = (flags >> F_EXTREME_SHIFT) & 3
        scr.avg = (flags & F_AVG) != 0
        scr.clock = (flags & F_CLOCK) != 0
        tunit = units[0] if flags & F_TEXT_UNIT else ""
        for i in range(len(srcs)):
            src = srcs[i]
            label, name = rows[i]
            v = vals[src] if isinstance(src, int) else src()
            if m.rmask and m.rmask[i] and not (meas.mask[src] & _KNOWN):
                scr.row(i, label, False, fmt.NAN_TEXT, units[0])
            elif isinstance(v, str):
                scr.row(i, label, False, v, tunit)
            elif flags & F_WHOLE:
                neg, digits = fmt.whole(v)
                scr.row(i, label, neg, digits, units[0])
            else:
                neg, digits, unit = fmt.number(v, units)
                d = m.rdir[i]
                if neg and dirs is not None and d != _NO_DIR and dirs[d] != deadband.NEG:
                    neg = False  # inside the dead band, or still on the positive side by the hysteresis
                scr.row(i, label, neg, digits, unit)
        scr.message = msg
        return
    for i in range(3):
        scr.bars[i] = -1  # no load bars in the settings
    scr.clear(screen.KIND_SET, "Set")
    if mode == PASS:
        scr.row(0, "PASS", False, m.digits_text(), "")
        _cursor(scr, m.pos, m.pos + 1)
        return
    if mode == MSG and m.msg_back == MEAS:
        scr.message = m.message
        return
    k = m.params[m.param]
    name = prow(k)[regmap.CF_NAME]
    scr.position = "%d/%d" % (m.param + 1, len(m.params))
    if mode == MSG:  # a message inside the settings (cLEAr donE) under the row it is about
        scr.row(0, name, False, "", "")
        scr.message = m.message
    elif mode == LIST and name == "Ver":
        d = version.DATE
        scr.row(0, name, False, version.TEXT, "")
        scr.row(1, "", False, ymd_text(d), "")
    elif mode == LIST:
        scr.row(0, name, False, show_param(k, m.cfg.get(name)), "")
        if m.err:
            scr.message = "Err"
    elif mode == FIELD:
        scr.row(0, name, False, m.field_text(), "")
        a, b = m.field_span()
        _cursor(scr, a, b)
    elif m.choices is not None:
        s = show_param(k, m.choices[m.choice])
        scr.row(0, name, False, s, "")
        _cursor(scr, 0, len(s))
    else:
        scr.row(0, name, False, m.digits_text(), "")
        _cursor(scr, m.pos, m.pos + 1)


def _bars(m, scr, vals):
    # Area 19: per-phase current as an integer % of the rated primary current; -1 = unknown (NaN, no rating)
    r = m.rated_current()
    ph = m.slot_ph
    for i in range(3):
        b = -1
        if r > 0:
            a = vals[ph[i]]
            if a == a and a >= 0:
                x = a * 100.0 / r
                b = _BAR_CAP if x >= _BAR_CAP else int(x + 0.5)
        scr.bars[i] = b


def _cursor(scr, start, end):
    scr.cursor_row = 0
    scr.cursor_start = start
    scr.cursor_end = end
