# Character-grid renderer: lays the display model out as 8 rows x 16 columns (the 128x64 LCD in an 8x8 font).
# render() gives the sim's `lcd` text (the blinking field in [brackets]); fb.py draws the same grid in pixels.
from firmware.ui import screen

COLS = 16
ROWS = 8
_MSG_ROW = 5
_STATUS_ROW = 7
_MEAS_FMT = "%-3s%7s %s"  # label, signed value right-aligned, unit: "A    219.9 V"
_MEAS_VALUE_END = 10
_SET_FMT = "%-5s%11s"  # parameter name, value right-aligned: "Pt_U           1"
_SET_VALUE_END = 16
_LOAD = ("", "IND", "CAP")
BACKLIGHT_OFF = "(backlight off)"


def header(scr):
    left = scr.name + " " + scr.symbol if scr.symbol else scr.name
    if scr.kind == screen.KIND_MEAS:
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
    return s


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
                end = _SET_VALUE_END if scr.kind == screen.KIND_SET else _MEAS_VALUE_END
                ccol = end - len(value) + a
        if scr.kind == screen.KIND_SET:
            rows[1 + i] = _SET_FMT % (scr.label[i], value)
        else:
            rows[1 + i] = (_MEAS_FMT % (scr.label[i], value, scr.unit[i])).rstrip()
    rows[_MSG_ROW] = scr.message
    rows[_STATUS_ROW] = status(scr)
    return rows, crow, ccol, clen


def render(scr):
    """The LCD as text: the non-empty grid rows, one per line; a last line "(backlight off)" while it is dark."""
    out = []
    for r in grid(scr, True)[0]:
        r = r.rstrip()
        if r:
            out.append(r)
    if not scr.backlight:
        out.append(BACKLIGHT_OFF)
    return "\n".join(out)
