# SPDX-License-Identifier: MIT
# The front panel's key map (manual 4.2-4.3): what each of the five keys does in each mode of the menu state
# (menu.Menu), as the table TABLE[mode][key] of handlers fn(m), and step() that applies one key press.
# Measurement pages: LEFT next screen, UP/DOWN pages, RIGHT groups; settings: password, parameter list, digit,
# choice and field editors. Drawing and timers are menu.py's.
from firmware import regmap
from firmware.clock import Y_MAX, Y_MIN, month_days
from firmware.ui.menu import EDIT, FIELD, LIST, MEAS, MSG, PASS, prow
from firmware.ui.pages import CLEARS, FIELDS, KEYS, NAMES, READ_ONLY, RIGHT_WALK, SCREENS

_PASS_DIGITS = 4
_CYCLE_MAX = 10  # a parameter with at most this many values cycles through them (Wp, Pulse_Q: 0 / 1)
CLEARED = "cLEAr donE"  # after cLr_Eny / cLr_MaxMin / cLr_DM


# -- key handlers: fn(m) for each (mode, key); the table below is the whole key map --
def _nop(m):
    pass


def _keep(m):
    # remember the page of this group and the group of this screen (allocation-free: bytearray items)
    m.at_group[m.screen] = m.group
    m.at_page[m.g0[m.screen] + m.group] = m.page


def _next_screen(m):
    _keep(m)
    s = m.screen + 1
    if s >= len(SCREENS):
        s = 0
    m.screen = s
    m.group = m.at_group[s]
    m.page = m.at_page[m.g0[s] + m.group]


def _page_next(m):
    m.page = (m.page + 1) % m.group_len()


def _page_prev(m):
    m.page = (m.page - 1) % m.group_len()


def _meas_right(m):
    title, groups, right = SCREENS[m.screen]
    if right == RIGHT_WALK:
        # Meter: from the real-time pages into the energy and time walk at its first page (manual 5: page 1,
        # EP Imp), page by page to the clock, then back to the real-time page left
        if m.group == 0:
            _keep(m)
            m.group = 1
            m.page = 0
        elif m.page + 1 < len(groups[1]):  # the walk: the second group
            m.page += 1
        else:
            m.group = 0
            m.page = m.at_page[m.g0[m.screen]]
        return
    # PQM: demand -> harmonics -> unbalance; History: maximum <-> minimum; each group shows the page left there
    _keep(m)
    m.group = (m.group + 1) % len(groups)
    m.page = m.at_page[m.g0[m.screen] + m.group]


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
        _say(m, "Err PASS", MEAS)  # manual 4.3: a wrong password returns to the measurement display


def _say(m, text, back):
    m.mode = MSG
    m.message = text
    m.msg_ms = 0
    m.msg_back = back


def _leave(m):
    m.mode = MEAS


def _dismiss(m):
    m.mode = m.msg_back


def _param_next(m):
    m.param = (m.param + 1) % len(m.params)


def _param_prev(m):
    m.param = (m.param - 1) % len(m.params)


def _start_edit(m):
    k = m.params[m.param]
    row = prow(k)
    name = row[regmap.CF_NAME]
    if name in READ_ONLY:
        return  # Ver: nothing to edit
    v = m.cfg.get(name)
    if name in FIELDS:
        # dATE / tinE: field by field, the first field (year / hour) blinking
        m.fdate = name == "dATE"
        m.fv[0] = v // 10000
        m.fv[1] = v // 100 % 100
        m.fv[2] = v % 100
        m.field = 0
        m.mode = FIELD
        return
    choices = row[regmap.CF_CHOICES]
    lo, hi = row[regmap.CF_MIN], row[regmap.CF_MAX]
    if choices is None and (name in NAMES or hi - lo < _CYCLE_MAX):
        choices = tuple(range(lo, hi + 1))
    if name == "An":  # only what this wiring can transmit (manual 4.3): no choice the meter would refuse
        choices = regmap.AN_3LN if m.cfg.get("SYSS") == 0 else regmap.AN_2LL
    m.choices = choices
    if choices is not None:
        m.choice = 0
        for i in range(len(choices)):
            if choices[i] == v:
                m.choice = i
    else:
        m.set_digits(v, len(str(hi)))
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
    _confirm(m, v)


def _confirm(m, v):
    # The config (or the clock, through the Panel) is the one judge of ranges, the same rule as Modbus writes;
    # a refusal changes nothing and shows "Err" under the old value.
    name = m.param_name()
    ok = m.cfg.set(name, v)
    m.mode = LIST
    m.err = not ok
    m.msg_ms = 0
    if ok and v == 1 and name in CLEARS:
        _say(m, CLEARED, LIST)


# -- field editor (dATE, tinE): UP/DOWN step the field within its range and wrap; the day's range is that of the
# month and year on show (a day left beyond it by a month or year change is refused by the clock on ENTER) --
def _field_lo(m, f):
    if not m.fdate:
        return 0
    return Y_MIN if f == 0 else 1


def _field_hi(m, f):
    if not m.fdate:
        return 23 if f == 0 else 59
    if f == 0:
        return Y_MAX
    if f == 1:
        return 12
    return month_days(m.fv[0], m.fv[1])


def _field_step(m, d):
    f = m.field
    lo = _field_lo(m, f)
    hi = _field_hi(m, f)
    v = m.fv[f] + d
    if v > hi:
        v = lo if d > 0 else hi  # DOWN from a day beyond the month lands on its last day
    elif v < lo:
        v = hi
    m.fv[f] = v


def _field_up(m):
    _field_step(m, 1)


def _field_down(m):
    _field_step(m, -1)


def _field_next(m):
    m.field = (m.field + 1) % 3


def _field_confirm(m):
    _confirm(m, m.field_value())


# Rows: modes; columns: KEYS (left, up, down, right, enter)
TABLE = (
    (_next_screen, _page_prev, _page_next, _meas_right, _open_pass),  # MEAS
    (_leave, _digit_up, _digit_down, _digit_next, _check_pass),  # PASS
    (_leave, _param_prev, _param_next, _nop, _start_edit),  # LIST
    (_edit_cancel, _edit_up, _edit_down, _edit_right, _edit_confirm),  # EDIT
    (_dismiss, _dismiss, _dismiss, _dismiss, _dismiss),  # MSG: any key dismisses
    (_edit_cancel, _field_up, _field_down, _field_next, _field_confirm),  # FIELD
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
