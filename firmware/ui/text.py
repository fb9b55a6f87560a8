# SPDX-License-Identifier: MIT
# Character-grid renderer: lays the display model out as 8 rows of about 16 columns (the 128x64 LCD in an 8x8
# font). render() gives the sim's `lcd` text (the blinking field in [brackets], the indicators as words: a dump
# for people and tests, longer than 16 columns where that is clearer); fb.py draws the grid in pixels.
from firmware.ui import screen

COLS = 16
ROWS = 8
_MSG_ROW = 5
_STATUS_ROW = 7
_MEAS_FMT = "%-3s%7s %s"  # label, signed value right-aligned, unit: "A    219.9 V"
_MEAS_VALUE_END = 10
_SET_VALUE_END = 16  # parameter name, value right-aligned to column 16 (at least one space): "Pt_U           1"
_LOAD = ("", "IND", "CAP")
_ETYPE = ("", "Imp", "Exp", "Total", "Net")
BACKLIGHT_OFF = "(backlight off)"


def header(scr):
    left = scr.name + " " + scr.symbol if scr.symbol else scr.name
    if scr.kind == screen.KIND_MEAS:
        # indicators of the page (manual 4.1 items 11, 12, 14); MAX / MIN is the symbol already (Max, Min)
        if scr.etype:
            left += " " + _ETYPE[scr.etype]
        if scr.avg:
            left += " avg"
        if scr.clock:
            left += " clock"
        right = "Q%d" % scr.quadrant if scr.quadrant else ""
        load = _LOAD[scr.load]
        if load:
            right = right + " " + load if right else load
    else:
        right = scr.position
    if not right:
        return left
    pad = COLS - len(left) - len(right)
    return left + " " * (pad if pad > 0 else 1) + right


def status(scr):
    s = "DI" + ("1" if scr.di[0] else "-") + ("2" if scr.di[1] else "-")
    s += " DO" + ("1" if scr.do[0] else "-") + ("2" if scr.do[1] else "-")
    if scr.comm:
        s += " COM"
    if scr.alarm:
        s += " AL"
    if scr.warn_text:
        s += " " + scr.warn_text
    return s


def phases(scr):
    """Per-phase load nature and load bars (manual 4.1 items 6, 19) as a line: "load A IND 44%  B 50%  C 0%";
    "" when there is none (settings, no rating and no reactive power)."""
    if scr.kind != screen.KIND_MEAS:
        return ""
    out = ""
    for i in range(3):
        s = ""
        if scr.load_ph[i]:
            s = " " + _LOAD[scr.load_ph[i]]
        if scr.bars[i] >= 0:
            s += " %d%%" % scr.bars[i]
        if s:
            out += ("  " if out else "load ") + "ABC"[i] + s
    return out


def _set_row(label, value):
    pad = _SET_VALUE_END - len(label) - len(value)
    return label + " " * (pad if pad > 0 else 1) + value


def grid(scr, marks):
    """(rows, cursor_row, cursor_col, cursor_len): ROWS strings, cursor in grid coordinates (row -1 = none).
    marks=True wraps the blinking field in [ ] instead (the text view cannot blink)."""
    rows = [""] * ROWS
    rows[0] = header(scr)
    crow = -1
    ccol = 0
    clen = 0
    for i in range(scr.n):
        value = "-" + scr.digits[i] if scr.neg[i] else scr.digits[i]
        if i == scr.cursor_row:
            a = scr.cursor_start
            b = scr.cursor_end
            if marks:
                value = value[:a] + "[" + value[a:b] + "]" + value[b:]
            else:
                crow = 1 + i
                clen = b - a
        if scr.kind == screen.KIND_SET:
            rows[1 + i] = _set_row(scr.label[i], value)
            end = len(rows[1 + i])
        else:
            rows[1 + i] = (_MEAS_FMT % (scr.label[i], value, scr.unit[i])).rstrip()
            end = _MEAS_VALUE_END if len(value) <= 7 else 3 + len(value)
        if crow == 1 + i:
            ccol = end - len(value) + scr.cursor_start
    rows[_MSG_ROW] = scr.message
    rows[_STATUS_ROW] = status(scr)
    return rows, crow, ccol, clen


def render(scr):
    """The LCD as text: the non-empty grid rows, one per line, the load line (phases()) above the status line;
    a last line "(backlight off)" while it is dark."""
    out = []
    rows = grid(scr, True)[0]
    if not rows[_STATUS_ROW - 1]:
        rows[_STATUS_ROW - 1] = phases(scr)
    for r in rows:
        r = r.rstrip()
        if r:
            out.append(r)
    if not scr.backlight:
        out.append(BACKLIGHT_OFF)
    return "\n".join(out)
