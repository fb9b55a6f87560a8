# SPDX-License-Identifier: MIT
# The 128x64 dot-matrix glass (manual 4.1, areas 1-20): draws the display model into the ST7567's frame buffer
# (MONO_VLSB: byte (y >> 3) * 128 + x, bit y & 7) with the blits of blit.py; counts text that does not fit.
from micropython import const

from firmware.ui import glyphs, screen
from firmware.ui.blit import CLEAR, SET, XOR, fill, icon, rect, text, width

_W = const(128)
_MAIN_Y = const(8)  # the rows' area: y 8..55 (48 px), below the top strip (y 0..6) and above the bottom (57..63)
_MAIN_H = const(48)
_BOT_Y = const(57)
_BARS_X = const(116)  # load bars: three 3-px columns at x 116, 120, 124 (manual 4.1 item 19)
_BAR_FULL = const(120)  # % of rated current at the top of a bar (2.5 % a pixel)
_EDGE = const(2)  # settings: the value's margin to the glass's left and right edges

SMALL = glyphs.SMALL
TINY = glyphs.TINY
# The value fonts, largest first: a page takes the largest one whose height fits its row and whose width fits
# every row's value
_VALUE_FONTS = (glyphs.SEG_XL, glyphs.SEG_L, glyphs.SEG_M, glyphs.SMALL)
_NAME_FONTS = (glyphs.SEG_L, glyphs.SEG_M, glyphs.SMALL)
_ETYPE = ("", "IMP", "EXP", "TOTAL", "NET")  # area 12, screen.ETYPE_*
_EXTREME = ("", "MAX", "MIN")
_PHASES = "ABC"
_DIGITS = ("1", "2")
_DEG_C = "\x7fC"  # the temperature's unit "C" (pages._DEGC) drawn as degrees: SMALL's code 127 is the ring
_QUADS = (glyphs.QUAD0, glyphs.QUAD1, glyphs.QUAD2, glyphs.QUAD3, glyphs.QUAD4)  # area 10: none, Q1..Q4 filled

clipped = 0  # texts the last render() had to cut (0 on a good page)
clip_text = ""  # the last of them
_xm = 0  # render(): the strips' free x and the rows' right edge, from part 1 for part 2
_xr = 0


def _clip(s):
    global clipped, clip_text
    clipped += 1
    clip_text = s


def _put(buf, font, s, x, y, xmax, inv=0):
    """s left-aligned at column x, its top at y, cut at xmax; the column after it."""
    n = len(s)
    if n == 0:
        return x
    if n > 63 or x + width(font, s, n) > xmax:
        _clip(s)
        n = 63 if n > 63 else n
    return text(buf, font, s, x | y << 8 | n << 14 | xmax << 20 | inv << 28)


def _put_right(buf, font, s, xr, y, xmin):
    """s right-aligned to end before column xr, not left of xmin; its left column."""
    n = len(s)
    x = xr - width(font, s, n)
    if x < xmin or n > 63:
        _clip(s)
        x = xmin if x < xmin else x
        n = 63 if n > 63 else n
    if n:
        text(buf, font, s, x | y << 8 | n << 14 | xr << 20)
    return x


def _text_width(font, s):
    return width(font, s, len(s))


def _unit(scr, i):
    """Row i's unit as drawn: "C" (degrees Celsius) with the degree ring."""
    u = scr.unit[i]
    return _DEG_C if u == "C" else u


def _icon_at(buf, data, x, y):
    icon(buf, data, x | y << 8 | len(data) << 14)
    return x + len(data)


def _value_width(font, scr, i):
    s = scr.digits[i]
    w = width(font, s, len(s))
    if scr.neg[i]:
        w += width(font, "-", 1) + font[2]
    return w


def _value(buf, scr, i, font, xr, y, xmin):
    """Row i's minus sign and digits right-aligned to xr; the edited field inverted while the blink is on."""
    s = scr.digits[i]
    x = _put_right(buf, font, s, xr, y, xmin)
    if scr.neg[i]:
        _put_right(buf, font, "-", x - font[2], y, xmin)
    if i == scr.cursor_row and scr.blink_on:
        a = scr.cursor_start
        b = scr.cursor_end
        x0 = x + width(font, s, a) + (font[2] if a > 0 else 0) - 1
        x1 = x + width(font, s, b) + 1
        y0 = y - 1 if y > 0 else 0
        if x0 < 0:
            x0 = 0
        rect(buf, x0 | y0 << 8, (x1 - x0) | (font[0] + 2) << 8, XOR)


def _fit(fonts, hmax, scr, wmax):
    """The first font no taller than hmax in which every row's value fits wmax (else the last font)."""
    for f in fonts:
        if f[0] > hmax:
            continue
        ok = True
        for i in range(scr.n):
            if _value_width(f, scr, i) > wmax:
                ok = False
                break
        if ok:
            return f
    return fonts[-1]


def _top(scr, buf):
    """Area 1-3 (screen name, inverted), 5 (symbol); at the right 10 quadrant, 9 load, 8 alarm, 13 comm, and left
    of them the inputs' mark (OVR, NO U, ACB); or the settings' position "3/17"."""
    x = _mark(buf, scr.name, 0, 0) + 1
    if scr.kind != screen.KIND_MEAS:
        right = _put_right(buf, SMALL, scr.position, _W, 0, x) if scr.position else _W
        _put(buf, SMALL, scr.symbol, x, 0, right - 3)
        return
    right = _W
    if scr.comm:
        right -= len(glyphs.COMM)
        _icon_at(buf, glyphs.COMM, right, 0)
        right -= 3
    if scr.alarm:
        right -= len(glyphs.ALARM)
        _icon_at(buf, glyphs.ALARM, right, 0)
        right -= 3
    if scr.load:
        icon = glyphs.IND if scr.load == screen.LOAD_IND else glyphs.CAP
        right -= len(icon)
        _icon_at(buf, icon, right, 0)
        right -= 3
    q = _QUADS[scr.quadrant if 0 < scr.quadrant <= 4 else 0]
    right -= len(q)
    _icon_at(buf, q, right, 0)
    if scr.warn:  # the inputs' mark (OVR, NO U, ACB) left of the quadrant
        right -= _text_width(TINY, scr.warn) + 7
        _mark(buf, scr.warn, right, 0)
    _put(buf, SMALL, scr.symbol, x, 0, right - 3)


def _mark(buf, s, x, y):
    """An annunciator: capitals inverted in a box 7 px high, top-left at x, y; the column 2 px after it."""
    w = _text_width(TINY, s)
    rect(buf, x | y << 8, (w + 4) | 7 << 8, SET)
    _put(buf, TINY, s, x + 2, y + 1, x + 2 + w, 1)
    return x + w + 6


def _bottom(scr, buf):
    """Areas 15 (DI1 DI2) and 16 (DO1 DO2): the digit shows while closed; 11 average, 12 energy type, MAX/MIN,
    14 clock. The column where the message may start."""
    y = _BOT_Y + 1
    _put(buf, TINY, "DI", 0, y, 8)
    _put(buf, TINY, "DO", 19, y, 27)
    for k in range(2):
        if scr.di[k]:
            _put(buf, TINY, _DIGITS[k], 9 + 4 * k, y, 13 + 4 * k)
        if scr.do[k]:
            _put(buf, TINY, _DIGITS[k], 28 + 4 * k, y, 32 + 4 * k)
    x = 38
    if scr.avg:
        x = _mark(buf, "AVG", x, _BOT_Y)
    if scr.etype:
        x = _mark(buf, _ETYPE[scr.etype], x, _BOT_Y)
    if scr.extreme:
        x = _mark(buf, _EXTREME[scr.extreme], x, _BOT_Y)
    if scr.clock:
        x = _icon_at(buf, glyphs.CLOCK, x, _BOT_Y) + 2
    return x


def _bars(scr, buf):
    """Area 19: per-phase load bars, A B C left to right, bottom-up, 2.5 % a pixel, full at 120 %; the 100 %
    level cut out of the bars that reach it and marked by a tick right of them (x 127), so below 100 % nothing
    stands beside the rows' values. False when every bar is hidden (-1)."""
    shown = False
    for k in range(3):
        p = scr.bars[k]
        if p < 0:
            continue
        shown = True
        if p > _BAR_FULL:
            p = _BAR_FULL
        h = p * _MAIN_H // _BAR_FULL
        if h < 1:
            h = 1  # an empty bar keeps its base line
        rect(buf, (_BARS_X + 4 * k) | (_MAIN_Y + _MAIN_H - h) << 8, 3 | h << 8, SET)
    if shown:
        y = _MAIN_Y + _MAIN_H - 100 * _MAIN_H // _BAR_FULL
        rect(buf, _BARS_X | y << 8, 11 | 1 << 8, CLEAR)  # a notch in a bar that reaches it
        rect(buf, (_W - 1) | y << 8, 1 | 1 << 8, SET)  # the tick on the outside
    return shown


def _row_font(f, scr, i, w):
    """The font of row i: the page's f, or when the row does not fit w in it the next smaller one that fits."""
    if _value_width(f, scr, i) <= w:
        return f
    h = f[0]
    for g in _VALUE_FONTS:
        if g[0] < h and _value_width(g, scr, i) <= w:
            return g
    return SMALL


def _rows(scr, buf, k, xr, msg):
    """Rows 0..n-1 in k equal slots of the main area: label (area 4), load mark (6), minus (7), value (17/18),
    unit (20); the message in the last slot when msg. A row with a unit ends its value before the unit column,
    one without (a date, a time) at the right edge xr. The page's font is the largest no taller than a slot in
    which every row fits; when only the 5x7 font would hold them all, the largest seven-segment font that fits a
    slot is the page's and a row too wide for it drops to the next smaller size that holds it."""
    slot = _MAIN_H // k
    lw = 0
    mark = False
    for i in range(scr.n):
        w = _text_width(SMALL, scr.label[i])
        if w > lw:
            lw = w
        if _phase(scr, i) >= 0:
            mark = True
    uw = 0
    for i in range(scr.n):
        w = _text_width(SMALL, _unit(scr, i))
        if w > uw:
            uw = w
    vl = lw + 3 if lw else 0
    if mark:
        vl += len(glyphs.IND) + 2
    vr = xr - uw - 2 if uw else xr
    f = None
    top = None
    for g in _VALUE_FONTS:
        if g[0] > slot:
            continue
        if top is None:
            top = g
        ok = True
        for i in range(scr.n):
            if _value_width(g, scr, i) > (vr if scr.unit[i] else xr) - vl:
                ok = False
                break
        if ok:
            f = g
            break
    if f is None or f is SMALL:
        f = top
    fh = f[0]
    for i in range(scr.n):
        y = _MAIN_Y + i * slot + (slot - fh) // 2
        ys = y + fh - 7  # the small font's bottom on the digits' bottom
        _put(buf, SMALL, scr.label[i], 0, ys, lw)
        ph = _phase(scr, i)
        if ph >= 0:
            _icon_at(buf, glyphs.IND if scr.load_ph[ph] == screen.LOAD_IND else glyphs.CAP, lw + 2, ys)
        u = _unit(scr, i)
        r = vr if u else xr
        g = _row_font(f, scr, i, r - vl)
        _value(buf, scr, i, g, r, y + fh - g[0], vl)
        _put(buf, SMALL, u, vr + 2, ys, xr)
    if msg:
        _put(buf, SMALL, scr.message, 0, _MAIN_Y + scr.n * slot + (slot - 7) // 2, xr)


def _phase(scr, i):
    """0 1 2 when row i is phase A B C with a load nature to show (area 6), else -1."""
    lab = scr.label[i]
    if scr.kind != screen.KIND_MEAS or scr.etype or i >= 3 or len(lab) != 1:
        return -1  # energy pages name a phase A B C too, but show no load nature
    ph = _PHASES.find(lab)
    if ph < 0 or scr.load_ph[ph] == screen.LOAD_NONE:
        return -1
    return ph


def _single(scr, buf, xr):
    """A page of one row (F, T, I avg, an energy, RTime): the value in the largest font that fits with the unit
    beside it, else under it, else with the label above it too."""
    lw = _text_width(SMALL, scr.label[0])
    u = _unit(scr, 0)
    uw = _text_width(SMALL, u)
    vl = lw + 3 if lw else 0
    f = SMALL
    mode = 0
    for f in _VALUE_FONTS:
        vw = _value_width(f, scr, 0)
        if vw <= xr - vl - (uw + 2 if uw else 0):
            mode = 0  # label, value, unit on one line
        elif vw <= xr - vl and f[0] + 9 <= _MAIN_H:
            mode = 1  # the unit under the value's right end
        elif vw <= xr and f[0] + 18 <= _MAIN_H:
            mode = 2  # the label above as well
        else:
            continue
        break
    h = f[0]
    if mode == 0:
        y = _MAIN_Y + (_MAIN_H - h) // 2
        vr = xr - uw - 2 if uw else xr
        _put(buf, SMALL, u, vr + 2, y + h - 7, xr)
    else:
        y = _MAIN_Y + (_MAIN_H - h - 9) // 2 if mode == 1 else _MAIN_Y + _MAIN_H - h - 9
        vr = xr
        _put_right(buf, SMALL, u, xr, y + h + 2, 0)
    _put(buf, SMALL, scr.label[0], 0, _MAIN_Y + 1 if mode == 2 else y + h - 7, lw)
    _value(buf, scr, 0, f, vr, y, 0 if mode == 2 else vl)


def _setting(scr, buf, text):
    """One parameter: its name above in a large font, below it the value right-aligned, or `text` (a message
    about the row: cLEAr donE) in the largest font that fits (manual 4.3)."""
    name = scr.label[0]
    nf = _NAME_FONTS[-1]
    for f in _NAME_FONTS:
        if _text_width(f, name) <= _W:
            nf = f
            break
    _put(buf, nf, name, 0, _MAIN_Y + 1, _W)
    hmax = _MAIN_H - 2 - nf[0]
    if text:
        for f in _VALUE_FONTS:
            if f[0] <= hmax and (_text_width(f, text) <= _W or f is SMALL):
                _put_right(buf, f, text, _W, _MAIN_Y + _MAIN_H - f[0], 0)
                return
    uw = _text_width(SMALL, scr.unit[0])
    # the value 2 px inside the glass (or before the unit): the edited field's inverted box reaches 1 px beyond
    # its glyphs on every side, so its first and last strokes stay light on dark, off the glass's edge
    vr = _W - uw - 2 if uw else _W - _EDGE
    f = _fit(_VALUE_FONTS, hmax, scr, vr - _EDGE)
    y = _MAIN_Y + _MAIN_H - f[0]
    _value(buf, scr, 0, f, vr, y, _EDGE)
    _put(buf, SMALL, scr.unit[0], vr + 2, y + f[0] - 7, _W)


def _banner(scr, buf):
    """A message alone ("Err PASS"): centred in the largest font that fits."""
    s = scr.message
    for f in _VALUE_FONTS:
        w = _text_width(f, s)
        if w <= _W or f is SMALL:
            x = (_W - w) // 2
            _put(buf, f, s, x if x > 0 else 0, _MAIN_Y + (_MAIN_H - f[0]) // 2, _W)
            return


def render(scr, buf, part=3):
    """Clear buf (1024 bytes, MONO_VLSB 128x64) and draw the display model scr (screen.Screen) on it. Returns
    how many texts did not fit their area (also in `clipped`, the last in `clip_text`): 0 on a good page.
    The backlight is the board's: it reads scr.backlight and drives its pin; drawing goes on.
    part: 1 only the clear, the strips and the load bars, 2 only the rest (the rows, after a part 1 of the same
    scr), 3 (default) both: a board draws the two parts on two passes of its loop, each shorter."""
    global clipped, clip_text, _xm, _xr
    if part & 1:
        clipped = 0
        clip_text = ""
        fill(buf, 0)
        _top(scr, buf)
        _xm = _bottom(scr, buf)
        _xr = _BARS_X - 3 if scr.kind == screen.KIND_MEAS and _bars(scr, buf) else _W
    if not part & 2:
        return clipped
    xm = _xm
    xr = _xr
    msg = scr.message
    n = scr.n
    if n == 0:
        if msg:
            _banner(scr, buf)
        return clipped
    if scr.kind == screen.KIND_SET and n == 1:
        if msg and not scr.digits[0]:
            _setting(scr, buf, msg)  # the message in the value's place
            return clipped
        _setting(scr, buf, None)
    elif n == 1 and not msg and scr.kind == screen.KIND_MEAS:
        _single(scr, buf, xr)
    elif msg and n < 4 and scr.kind == screen.KIND_MEAS:
        _rows(scr, buf, n + 1, xr, True)  # the manual's fourth line: THd, HR 5 ... (4.2)
        return clipped
    else:
        _rows(scr, buf, n, xr, False)
    if msg:
        _put_right(buf, SMALL, msg, _W, _BOT_Y, xm)
    return clipped
