# The front panel's menu: a state object over the page tables of pages.py, and step()/tick() that move it
# (manual 4.2-4.3).
# fill() turns the state plus `vals` and the I/O into the display model; nothing here knows about the glass.
from firmware import regmap, version
from firmware.ui import fmt, screen
# The page tables are data in pages.py; re-exported here for callers that name menu.SCREENS, menu.PANEL_ROWS...
from firmware.ui.pages import (DEMAND_PAGES, ENERGY_PAGES, HARMONIC_PAGES, HISTORY_PAGES,  # noqa: F401
                               MANUAL_ORDER, MAX_PAGES, METER_PAGES, MIN_PAGES, NAMES, PANEL_ROWS, PQM_PAGES,
                               READ_ONLY, SCREENS, UNBALANCE_PAGES)

KEYS = ("left", "up", "down", "right", "enter")

# Modes of the state machine
MEAS = 0  # measurement display (Meter / PQM / History)
PASS = 1  # password entry
LIST = 2  # parameter list
EDIT = 3  # editing one parameter
MSG = 4  # a short message ("Err PASS") before returning to the measurement display

TIMEOUT_MS = 60000  # no key for 60 s in the settings -> measurement display (manual 4.3)
MSG_MS = 2000  # how long "Err PASS" / "Err" stay up
BLINK_MS = 500  # half period of the blinking field
DEFAULT_PASS = 6666
_PASS_DIGITS = 4
_MIN_MS = 60000  # BLt is in minutes
_IDLE_CAP = 1 << 29  # idle_ms stops here: a small int forever (BLt <= 99 min is far below)


def prow(k):
    """Settings-list row k: a CONFIG row, or a PANEL_ROWS row after them."""
    n = len(regmap.CONFIG)
    return regmap.CONFIG[k] if k < n else PANEL_ROWS[k - n]


def param_order(cfg=None):
    """Row indices (prow) in the order the settings list shows them; panel rows only when cfg serves them, the
    read-only rows the menu serves itself (Ver) always, last."""
    nc = len(regmap.CONFIG)
    n = nc + (len(PANEL_ROWS) if getattr(cfg, "panel_rows", False) else 0)
    out = []
    for name in MANUAL_ORDER + ("cLr_Eny",):
        for k in range(n):
            if prow(k)[0] == name:
                out.append(k)
    for k in range(n):
        if k not in out and prow(k)[0] not in READ_ONLY:
            out.append(k)
    for j in range(len(PANEL_ROWS)):
        if PANEL_ROWS[j][0] in READ_ONLY:
            out.append(nc + j)
    return out


def show_param(k, v):
    """A parameter value as the settings display shows it: 3Ln3CT, 9600 (baud), 220."""
    row = prow(k)
    names = NAMES.get(row[0])
    if names is not None and 0 <= v - row[2] < len(names):
        return names[v - row[2]]
    return str(v * row[5])


class Menu:
    def __init__(self, cfg, slot, extra=None):
        """slot(name): index of a measurement in vals, KeyError when it is none; extra(name): a callable for a
        page row that is no measurement (energy, clock, demand, max/min, harmonic ratios) or None."""
        self.cfg = cfg
        self.mode = MEAS
        self.screen = 0
        self.group = 0  # page group within the screen (RIGHT)
        self.page = 0
        self.param = 0  # position in self.params
        self.params = param_order(cfg)
        self.idle_ms = 0  # since the last key (settings timeout, backlight timer BLt), capped at _IDLE_CAP
        self.backlight = True  # off after BLt minutes without a key (BLt 0: always on)
        self.msg_ms = 0
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
        # The page on show with its row names resolved (a source is a slot index into vals, or a callable from
        # `extra` returning a number or a ready-made string): resolved when the page changes, not all at once.
        self.slot = slot
        self.extra = extra
        self.shown = -1  # key() of the resolved page
        self.srcs = ()
        self.pg = None
        self.slot_p = slot("P")
        self.slot_q = slot("Q")

    def group_len(self):
        return len(SCREENS[self.screen][1][self.group])

    def current(self):
        """The current page (symbol, rows, units, message) and its row sources, kept until the page changes:
        pages made on demand (pages.Rows) and name look-ups cost milliseconds on the RP2040."""
        at = (self.screen << 16) | (self.group << 8) | self.page
        if at != self.shown:
            self.pg = SCREENS[self.screen][1][self.group][self.page]
            self.srcs = tuple(self._source(r[1]) for r in self.pg[1])
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

    def password(self):
        # The password lives in cfg as "PASS" when the config has it (it is not a Modbus register today).
        try:
            v = self.cfg.get("PASS")
        except (KeyError, ValueError, IndexError):
            v = None
        return DEFAULT_PASS if v is None else v

    def param_name(self):
        return prow(self.params[self.param])[0]

    def blt_ms(self):
        """Backlight time in ms, 0 = always on (a cfg without BLt: always on)."""
        try:
            return self.cfg.get("BLt") * _MIN_MS
        except (KeyError, ValueError, IndexError, AttributeError):
            return 0


def _absent():
    return "----"  # a page row whose source the meter did not hand in (UI tests without the energy side)


# -- key handlers: fn(m) for each (mode, key); the table below is the whole key map --
def _nop(m):
    pass


def _next_screen(m):
    m.screen = (m.screen + 1) % len(SCREENS)
    m.group = 0
    m.page = 0


def _page_next(m):
    m.page = (m.page + 1) % m.group_len()


def _page_prev(m):
    m.page = (m.page - 1) % m.group_len()


def _meas_right(m):
    # Energy and time on Meter, demand / harmonics / unbalance on PQM, maximum / minimum on History.
    m.group = (m.group + 1) % len(SCREENS[m.screen][1])
    m.page = 0


def _open_pass(m):
    m.mode = PASS
    m.set_digits(0, _PASS_DIGITS)


def _digit_up(m):
    m.digits[m.pos] = (m.digits[m.pos] + 1) % 10


def _digit_down(m):
    m.digits[m.pos] = (m.digits[m.pos] + 9) % 10


def _digit_next(m):
    m.pos = (m.pos + 1) % m.width


def _check_pass(m):
    if m.digits_value() == m.password():
        m.mode = LIST
        m.param = 0
        m.err = False
    else:
        _say(m, "Err PASS")


def _say(m, text):
    m.mode = MSG
    m.message = text
    m.msg_ms = 0


def _leave(m):
    m.mode = MEAS


def _param_next(m):
    m.param = (m.param + 1) % len(m.params)


def _param_prev(m):
    m.param = (m.param - 1) % len(m.params)


def _start_edit(m):
    k = m.params[m.param]
    row = prow(k)
    if row[0] in READ_ONLY:
        return  # Ver: nothing to edit
    v = m.cfg.get(row[0])
    choices = row[4]
    if choices is None and row[0] in NAMES:
        choices = tuple(range(row[2], row[3] + 1))
    m.choices = choices
    if choices is not None:
        m.choice = 0
        for i in range(len(choices)):
            if choices[i] == v:
                m.choice = i
    else:
        m.set_digits(v, len(str(row[3])))
    m.mode = EDIT


def _edit_up(m):
    if m.choices is not None:
        m.choice = (m.choice + 1) % len(m.choices)
    else:
        _digit_up(m)


def _edit_down(m):
    if m.choices is not None:
        m.choice = (m.choice - 1) % len(m.choices)
    else:
        _digit_down(m)


def _edit_right(m):
    if m.choices is None:
        _digit_next(m)


def _edit_cancel(m):
    m.mode = LIST


def _edit_confirm(m):
    v = m.choices[m.choice] if m.choices is not None else m.digits_value()
    # The config is the one judge of ranges (the same rule as Modbus writes); a refusal changes nothing.
    ok = m.cfg.set(m.param_name(), v)
    m.mode = LIST
    m.err = not ok
    m.msg_ms = 0


# Rows: modes; columns: KEYS (left, up, down, right, enter)
TABLE = (
    (_next_screen, _page_prev, _page_next, _meas_right, _open_pass),  # MEAS
    (_leave, _digit_up, _digit_down, _digit_next, _check_pass),  # PASS
    (_leave, _param_prev, _param_next, _nop, _start_edit),  # LIST
    (_edit_cancel, _edit_up, _edit_down, _edit_right, _edit_confirm),  # EDIT
    (_leave, _leave, _leave, _leave, _leave),  # MSG: any key dismisses
)


def step(m, key):
    """Apply one key press to menu state m. Returns False for an unknown key name (ignored)."""
    for i in range(len(KEYS)):
        if KEYS[i] == key:
            if not m.backlight:
                # A key in the dark only lights the panel (the operator cannot see what it would do);
                # the next key acts. docs/ui.md
                m.backlight = True
                m.idle_ms = 0
                return True
            m.idle_ms = 0
            m.blink_ms = 0
            m.blink_on = True  # the edited field shows at once after a key
            m.err = False  # "Err" stays up until the next key
            TABLE[m.mode][i](m)
            return True
    return False


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
                m.mode = MEAS
    m.blink_ms += ms
    flips = m.blink_ms // BLINK_MS
    m.blink_ms -= flips * BLINK_MS
    if flips & 1:
        m.blink_on = not m.blink_on


def fill(m, scr, vals, io):
    """Write the display model for state m from the measurements and the I/O."""
    scr.comm = bool(io.comm)
    for i in range(2):
        scr.di[i] = 1 if io.inputs[i] else 0
        scr.do[i] = 1 if io.relays[i] else 0
    scr.alarm = bool(getattr(io, "alarm", 0))
    scr.blink_on = m.blink_on
    scr.backlight = m.backlight
    p = vals[m.slot_p]
    q = vals[m.slot_q]
    scr.quadrant = screen.quadrant(p, q)
    scr.load = screen.load_nature(q)
    mode = m.mode
    if mode == MEAS:
        pg, srcs = m.current()
        sym, rows, units, msg = pg
        scr.clear(screen.KIND_MEAS, SCREENS[m.screen][0])
        scr.symbol = sym
        for i in range(len(srcs)):
            src = srcs[i]
            v = vals[src] if isinstance(src, int) else src()
            if isinstance(v, str):
                scr.row(i, rows[i][0], False, v, "")
            else:
                neg, digits, unit = fmt.number(v, units)
                scr.row(i, rows[i][0], neg, digits, unit)
        scr.message = msg
        return
    scr.clear(screen.KIND_SET, "Set")
    if mode == MSG:
        scr.message = m.message
    elif mode == PASS:
        scr.row(0, "PASS", False, m.digits_text(), "")
        _cursor(scr, m.pos, m.pos + 1)
    else:
        k = m.params[m.param]
        name = prow(k)[0]
        scr.position = "%d/%d" % (m.param + 1, len(m.params))
        if mode == LIST and name == "Ver":
            d = version.DATE
            scr.row(0, name, False, version.TEXT, "")
            scr.row(1, "", False, "%04d.%02d.%02d" % (d // 10000, d // 100 % 100, d % 100), "")
        elif mode == LIST:
            scr.row(0, name, False, show_param(k, m.cfg.get(name)), "")
            if m.err:
                scr.message = "Err"
        elif m.choices is not None:
            s = show_param(k, m.choices[m.choice])
            scr.row(0, name, False, s, "")
            _cursor(scr, 0, len(s))
        else:
            scr.row(0, name, False, m.digits_text(), "")
            _cursor(scr, m.pos, m.pos + 1)


def _cursor(scr, start, end):
    scr.cursor_row = 0
    scr.cursor_start = start
    scr.cursor_end = end
