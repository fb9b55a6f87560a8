# The front panel's menu: pages as data tables, a state object, and step()/tick() that move it (manual 4.2-4.3).
# fill() turns the state plus `vals` and the I/O into the display model; nothing here knows about the glass.
from firmware import regmap
from firmware.ui import fmt, screen

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
# [issue3-quality] PQM and History groups (docs/quality.md); rows other than slots come from Meter's `extra`
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
NAMES = {"SYSS": regmap.SYSS_NAMES, "dATA": regmap.DATA_NAMES}


# Panel-only entries after the CONFIG rows (issue 4: clock and energy clear), shaped like CONFIG rows; the
# Menu's cfg answers get/set for them (firmware/ledger.py Panel). Index len(CONFIG) + j.
PANEL_ROWS = (
    ("dATE", 20260101, 20000101, 20991231, None, 1, "", "Date YYYYMMDD"),
    ("tinE", 0, 0, 235959, None, 1, "", "Time hhmmss"),
    ("cLr_Eny", 0, 0, 1, (0, 1), 1, "", "1 + ENTER clears all energy"),
)


def prow(k):
    """Settings-list row k: a CONFIG row, or a PANEL_ROWS row after them."""
    n = len(regmap.CONFIG)
    return regmap.CONFIG[k] if k < n else PANEL_ROWS[k - n]


def param_order(cfg=None):
    """Row indices (prow) in the order the settings list shows them; panel rows only when cfg serves them."""
    n = len(regmap.CONFIG) + (len(PANEL_ROWS) if getattr(cfg, "panel_rows", False) else 0)
    out = []
    for name in MANUAL_ORDER + ("cLr_Eny",):
        for k in range(n):
            if prow(k)[0] == name:
                out.append(k)
    for k in range(n):
        if k not in out:
            out.append(k)
    return out


def show_param(k, v):
    """A parameter value as the settings display shows it: 3Ln3CT, 9600 (baud), 220."""
    row = prow(k)
    names = NAMES.get(row[0])
    if names is not None and 0 <= v - row[2] < len(names):
        return names[v - row[2]]
    return str(v * row[5])


class Menu:
    def __init__(self, cfg, slots, extra=None):
        self.cfg = cfg
        self.mode = MEAS
        self.screen = 0
        self.group = 0  # page group within the screen (RIGHT)
        self.page = 0
        self.param = 0  # position in self.params
        self.params = param_order(cfg)
        self.idle_ms = 0  # since the last key (settings timeout; the backlight timer BLt later)
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
        # Pages with row names resolved once: (symbol, labels, sources, units, message); a source is a slot
        # index into vals, or a callable from `extra` returning a number or a ready-made string.
        extra = extra or {}
        self.pages = []
        for name, groups in SCREENS:
            glist = []
            for pages in groups:
                lst = []
                for sym, rows, units, msg in pages:
                    srcs = tuple(slots[r[1]] if r[1] in slots else extra.get(r[1], _absent) for r in rows)
                    lst.append((sym, tuple(r[0] for r in rows), srcs, units, msg))
                glist.append(tuple(lst))
            self.pages.append(tuple(glist))
        self.slot_p = slots["P"]
        self.slot_q = slots["Q"]

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
    m.page = (m.page + 1) % len(m.pages[m.screen][m.group])


def _page_prev(m):
    m.page = (m.page - 1) % len(m.pages[m.screen][m.group])


def _meas_right(m):
    # Energy and time on Meter, demand / harmonics / unbalance on PQM, maximum / minimum on History.
    m.group = (m.group + 1) % len(m.pages[m.screen])
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
            m.idle_ms = 0
            m.blink_ms = 0
            m.blink_on = True  # the edited field shows at once after a key
            m.err = False  # "Err" stays up until the next key
            TABLE[m.mode][i](m)
            return True
    return False


def tick(m, ms):
    """Let ms milliseconds pass: settings timeout, message duration, blink phase."""
    m.idle_ms += ms
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
    p = vals[m.slot_p]
    q = vals[m.slot_q]
    scr.quadrant = screen.quadrant(p, q)
    scr.load = screen.load_nature(q)
    mode = m.mode
    if mode == MEAS:
        sym, labels, srcs, units, msg = m.pages[m.screen][m.group][m.page]
        scr.clear(screen.KIND_MEAS, SCREENS[m.screen][0])
        scr.symbol = sym
        for i in range(len(srcs)):
            src = srcs[i]
            v = vals[src] if isinstance(src, int) else src()
            if isinstance(v, str):
                scr.row(i, labels[i], False, v, "")
            else:
                neg, digits, unit = fmt.number(v, units)
                scr.row(i, labels[i], neg, digits, unit)
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
        if mode == LIST:
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
