# SPDX-License-Identifier: MIT
# The dot-matrix glass (firmware/ui/fb.py): pixels checked against the glyph tables decoded in plain Python by
# tools/glass.py (font header, widths, offsets, MONO_VLSB columns) and the ST7567 layout (byte (y >> 3) * 128 + x,
# bit y & 7):
# values read back off the glass, the blinking field, quadrant, bars, DI/DO, clipping, no allocation.
import micropython

from case_ui import enter_password, keys, make
from firmware.ui import fb, glyphs, screen
from tools.glass import column as col
from tools.glass import find_cols, find_text, glyph_cols, text_cols

W = 128
H = 64


def px(buf, x, y):
    return (buf[(y >> 3) * W + x] >> (y & 7)) & 1


def icon_cols(data):
    return [data[i] for i in range(len(data))]


def render(ui):
    buf = bytearray(b"\xff" * 1024)  # render clears it
    assert ui.render(buf) == 0, fb.clip_text
    return buf


def test_text_blit_matches_the_table_at_every_bit_offset():
    # fb._put draws what the decoded table says at any y (a glyph straddling two or three pages) and x
    for font in (glyphs.SMALL, glyphs.TINY, glyphs.SEG_M, glyphs.SEG_L, glyphs.SEG_XL):
        s = "4C-9.:Ok"
        cols = text_cols(font, s)
        h = font[0]
        for y in (0, 1, 5, 7, 8, 13, H - h):
            buf = bytearray(1024)
            end = fb._put(buf, font, s, 3, y, W)
            assert end == 3 + len(cols)
            for x in range(W):
                for yy in range(H):
                    want = 0
                    if 3 <= x < 3 + len(cols) and y <= yy < y + h:
                        want = (cols[x - 3] >> (yy - y)) & 1
                    assert px(buf, x, yy) == want, (font[0], y, x, yy)
    # a text cut at xmax is counted and draws nothing at or right of it
    buf = bytearray(1024)
    fb.clipped = 0
    fb._put(buf, glyphs.SMALL, "OVERFLOW", 0, 0, 20)
    assert fb.clipped == 1 and fb.clip_text == "OVERFLOW"
    assert all(px(buf, x, y) == 0 for x in range(20, W) for y in range(8))
    assert find_cols(buf, text_cols(glyphs.SMALL, "OVE"), 7, x1=20) == [(0, 0)]


def test_meter_pages_read_back_off_the_glass():
    ui, v, io = make(Ua=219.96, Ub=-220.04, Uc=0.0, F=50.0, P=-487.5, Pa=1000.0)
    buf = render(ui)
    # three rows: the 15 px digits; the minus one glyph advance left of the digits; units and labels 5x7
    assert len(find_text(buf, glyphs.SEG_L, "220.0", y0=8, y1=56)) == 2
    (x, y), = find_text(buf, glyphs.SEG_L, "-220.0", y0=8, y1=56)
    assert find_text(buf, glyphs.SEG_L, "0.000", y0=y + 15, y1=56)
    (xv, yv), = find_text(buf, glyphs.SMALL, "V", y0=y + 8, y1=y + 15)  # unit after row B's value, bottom-aligned
    assert xv > x + len(text_cols(glyphs.SEG_L, "-220.0")) and yv + 7 == y + 15
    assert find_text(buf, glyphs.SMALL, "B", x1=20, y0=y + 8, y1=y + 15)
    assert find_cols(buf, text_cols(glyphs.TINY, "METER"), 5, y1=7, inv=True)  # the screen's tab, inverted
    assert find_text(buf, glyphs.SMALL, "U", y1=7)  # the measurement symbol
    keys(ui, "down down down")  # P: four rows, the 11 px digits
    buf = render(ui)
    assert find_text(buf, glyphs.SEG_M, "1.000", y0=8, y1=56) and find_text(buf, glyphs.SEG_M, "-487.5")
    assert find_text(buf, glyphs.SMALL, "kW", y0=8, y1=56) and find_text(buf, glyphs.SMALL, "tot", y0=40)
    keys(ui, "down down down down")  # F: one row, the 23 px digits
    buf = render(ui)
    (x, y), = find_text(buf, glyphs.SEG_XL, "50.00")
    assert 8 <= y and y + 23 <= 56 and find_text(buf, glyphs.SMALL, "Hz", x0=x + 60)


def test_blink_inverts_exactly_the_edited_digit():
    ui, v, io = make()
    keys(ui, "enter")  # PASS 0000, first digit edited, blink on
    on = render(ui)
    ui.tick(500)  # blink off: plain digits
    off = render(ui)
    font = glyphs.SEG_XL
    (x, y), = find_text(off, font, "0000")
    assert find_text(off, glyphs.SEG_L, "PASS")  # the parameter's name above the value
    diff = [(i, j) for i in range(W) for j in range(H) if px(on, i, j) != px(off, i, j)]
    xs = [d[0] for d in diff]
    ys = [d[1] for d in diff]
    box = (min(xs), min(ys), max(xs), max(ys))
    assert len(diff) == (box[2] - box[0] + 1) * (box[3] - box[1] + 1)  # a solid rectangle flipped
    w0 = len(glyph_cols(font, "0"))
    assert box[0] < x and x + w0 <= box[2] < x + w0 + font[2] and box[1] < y and box[3] >= y + 22
    ui.tick(500)
    keys(ui, "right")  # the second digit: the same rectangle one advance to the right
    on2 = render(ui)
    ui.tick(500)
    assert render(ui) == off
    diff2 = [(i, j) for i in range(W) for j in range(H) if px(on2, i, j) != px(off, i, j)]
    assert diff2 == [(i + w0 + font[2], j) for i, j in diff]


def _quad_pixels(p, q):
    """The pixels of the quadrant picture (area 10) beyond its frame, relative to its top-left corner."""
    ui, v, io = make(P=p, Q=q)
    buf = render(ui)
    frame = icon_cols(glyphs.QUAD0)  # the frame alone: four empty squares
    at = []
    for x in range(W - 7):
        if all(col(buf, x + i, 0, 7) & frame[i] == frame[i] for i in range(7)):
            at.append(x)
    assert len(at) == 1, at
    x = at[0]
    return [(i, j) for i in range(7) for j in range(7) if px(buf, x + i, j) and not (frame[i] >> j) & 1]


def test_quadrant_picture():
    # manual 4.1 item 10: Q1 P+ Q+ upper right, Q2 P- Q+ upper left, Q3 P- Q- lower left, Q4 P+ Q- lower right
    q1 = _quad_pixels(100.0, 50.0)
    q2 = _quad_pixels(-100.0, 50.0)
    q3 = _quad_pixels(-100.0, -50.0)
    q4 = _quad_pixels(100.0, -50.0)
    for q in (q1, q2, q3, q4):
        assert len(q) == 4 and max(a for a, b in q) - min(a for a, b in q) == 1  # a filled 2x2 square
    assert min(q1)[0] > min(q2)[0] and min(q4)[0] > min(q3)[0]  # right half: Q1, Q4
    assert max(b for a, b in q1) < min(b for a, b in q4) and max(b for a, b in q2) < min(b for a, b in q3)


def test_indicator_icons_follow_the_model():
    ui, v, io = make(Q=5.0)
    buf = render(ui)
    assert find_cols(buf, icon_cols(glyphs.IND), 7, y1=7) and not find_cols(buf, icon_cols(glyphs.CAP), 7)
    assert not find_cols(buf, icon_cols(glyphs.COMM), 7) and not find_cols(buf, icon_cols(glyphs.ALARM), 7)
    io.comm = 1
    io.alarm = 1
    v[0] = 230.0
    scr = ui.screen()
    scr.load_ph[0] = screen.LOAD_CAP  # area 6: phase A capacitive, B inductive
    scr.load_ph[1] = screen.LOAD_IND
    scr.clock = True
    buf = bytearray(1024)
    assert fb.render(scr, buf) == 0
    assert find_cols(buf, icon_cols(glyphs.COMM), 7, y1=7) and find_cols(buf, icon_cols(glyphs.ALARM), 7, y1=7)
    (xa, ya), = find_text(buf, glyphs.SMALL, "A", x1=10, y0=8, y1=56)
    (xb, yb), = find_text(buf, glyphs.SMALL, "B", x1=10, y0=8, y1=56)
    assert find_cols(buf, icon_cols(glyphs.CAP), 7, x1=30, y0=ya, y1=ya + 7)  # on row A's line
    assert find_cols(buf, icon_cols(glyphs.IND), 7, x1=30, y0=yb, y1=yb + 7)
    assert not find_cols(buf, icon_cols(glyphs.IND), 7, x1=30, y0=yb + 8, y1=56)  # phase C: none
    assert find_cols(buf, icon_cols(glyphs.CLOCK), 7, y0=57)  # area 14, bottom left


def test_load_bars_scale_and_saturate():
    ui, v, io = make(Pa=-99999e6)
    keys(ui, "down down down")
    scr = ui.screen()
    scr.bars[0] = 0
    scr.bars[1] = 50
    scr.bars[2] = 130
    buf = bytearray(1024)
    assert fb.render(scr, buf) == 0, fb.clip_text
    notch = 56 - 40  # the 100 % level, 2.5 % a pixel
    for k, h in ((0, 1), (1, 20), (2, 48)):  # 0 % keeps a base line; 130 % saturates at 120 %, the full 48 px
        x = 116 + 4 * k
        for i in range(x, x + 3):
            lit = [y for y in range(8, 56) if px(buf, i, y)]
            want = [y for y in range(56 - h, 56) if y != notch]  # a notch cut where the bar reaches 100 %
            assert lit == want, (k, i, lit)
    # below 100 % nothing at the notch's level beside the values (it read as a minus sign): only the tick right
    # of the bars, at the glass's last column
    assert [x for x in range(113, W) if px(buf, x, notch)] == [127]
    assert [y for y in range(8, 56) if px(buf, 127, y)] == [notch]
    assert all(px(buf, x, y) == 0 for x in range(113, 116) for y in range(8, 56))  # values stay left of them
    mw = len(text_cols(glyphs.SMALL, "MW"))
    assert max(x for x, y in find_text(buf, glyphs.SMALL, "MW", y0=8, y1=56)) + mw <= 113
    scr.bars[0] = scr.bars[1] = scr.bars[2] = -1
    fb.render(scr, buf)
    assert max(x for x, y in find_text(buf, glyphs.SMALL, "MW", y0=8, y1=56)) + mw == W  # the units at the edge


def test_di_do_digits_show_while_closed():
    ui, v, io = make()
    io.inputs[1] = 1
    io.relays[0] = 1
    buf = render(ui)
    (xi, yi), = find_text(buf, glyphs.TINY, "DI", y0=56)
    (xo, yo), = find_text(buf, glyphs.TINY, "DO", y0=56)
    strip = {"x0": xi, "x1": xo, "y0": 56}
    assert find_text(buf, glyphs.TINY, "2", **strip) and not find_text(buf, glyphs.TINY, "1", **strip)
    strip = {"x0": xo, "x1": xo + 20, "y0": 56}
    assert find_text(buf, glyphs.TINY, "1", **strip) and not find_text(buf, glyphs.TINY, "2", **strip)


def test_messages_and_clipping_are_counted():
    ui, v, io = make()
    enter_password(ui, "1234")  # wrong: "Err PASS" alone on the glass, in the largest font that fits
    buf = render(ui)
    assert find_text(buf, glyphs.SEG_L, "Err PASS") or find_text(buf, glyphs.SEG_XL, "Err PASS")
    ui, v, io = make()
    scr = ui.screen()
    scr.digits[0] = "1234567890123456789012"  # no font holds 22 digits beside a label and unit
    scr.message = "a message far too long for the bottom strip"
    buf = bytearray(1024)
    assert fb.render(scr, buf) == 2 and fb.clipped == 2
    assert fb.clip_text == "a message far too long for the bottom strip"


def test_render_allocates_nothing():
    ui, v, io = make(Ua=230.0, P=-1000.0, Q=5.0)
    io.comm = 1
    buf = bytearray(1024)
    for k in ("", "down down down", "right", "left right", "left left right", "left enter"):
        if k:
            keys(ui, k)
        scr = ui.screen()
        scr.bars[0] = 50
        micropython.heap_lock()
        try:
            fb.render(scr, buf)
        finally:
            micropython.heap_unlock()


def test_render_in_two_parts_draws_the_same_glass():
    # the Pico draws a page over two passes of its loop (strips and bars, then the rows): the same bytes as one
    # render, on measurement pages with bars, energy, demand, history and the settings list; the parts allocate
    # nothing
    ui, v, io = make(Ua=230.0, Ub=229.5, Uc=231.0, Ia=4.0, Ib=5.5, Ic=6.0, P=3000.0, Q=-400.0, F=50.01)
    seq = ["", "down", "down", "right", "right", "left", "left", "down", "left", "right", "left", "down"]
    for k in seq:
        if k:
            ui.key(k)
        scr = ui.screen()
        one = bytearray(1024)
        two = bytearray(b"\xff" * 1024)
        n1 = fb.render(scr, one)
        micropython.heap_lock()
        try:
            fb.render(scr, two, 1)
            n2 = fb.render(scr, two, 2)
        finally:
            micropython.heap_unlock()
        assert two == one and n2 == n1, k
    enter_password(ui, "6666")
    scr = ui.screen()
    one, two = bytearray(1024), bytearray(1024)
    fb.render(scr, one)
    fb.render(scr, two, 1)
    fb.render(scr, two, 2)
    assert two == one and any(one)
