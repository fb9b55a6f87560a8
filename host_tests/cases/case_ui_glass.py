# SPDX-License-Identifier: MIT
# Nothing is ever cut on the glass: every page of every screen and group (pages.SCREENS, walked with the keys) in
# every wiring mode, with the widest values (largest negative numbers of the top unit, OL, ----, 10-character
# energies, hexadecimal floats, dates, times) and every settings parameter in the list and in edit, blink on/off.
from array import array

from case_ui import NAMES, FakeCfg, FakeIo, enter_password, keys
from firmware import regmap
from firmware.ui import Ui, fb, glyphs, menu, pages, screen

NAN = float("nan")
INF = float("inf")
# (every measurement slot, every other page source): numbers go through fmt.number with the page's unit ladder
CANDIDATES = (
    (-99999e6, -99999e6),  # -99999 MW / Mvar / MVA; OL on the V and A ladders
    (-99999e3, "99999999.9"),  # -99999 kV / kA; the largest energy in kWh
    (-99999.0, "4CBEBC20"),  # -99999 %, C, Hz; an energy beyond 99999999.9 as its float32 in hexadecimal
    (NAN, "1193046.47"),  # ----; run time in hours at the 32-bit limit of seconds
    (-INF, "2026.11.30"),  # -OL; a date
    (-9.999, "10:23:00"),  # a time
    (-0.999, "-99999999.9"),
)
SYSS = range(len(regmap.SYSS_NAMES))


class GlassCfg(FakeCfg):
    """FakeCfg that also serves the panel rows (clock, energy clear), as firmware/ledger.py's Panel does."""
    panel_rows = tuple(row[0] for row in pages.PANEL_ROWS)

    def __init__(self, syss):
        FakeCfg.__init__(self)
        self.values["SYSS"] = syss
        for row in pages.PANEL_ROWS:
            self.values[row[0]] = row[1]

    def set(self, name, value):
        self.values[name] = value
        return True


def _ui(syss, cfg=None):
    vals = array("f", [0.0] * len(NAMES))
    box = [None]

    def extra(name):
        return lambda: box[0]

    io = FakeIo()
    io.inputs[0] = io.inputs[1] = io.relays[0] = io.relays[1] = io.comm = io.alarm = 1  # every indicator lit
    ui = Ui(vals, regmap.slot, cfg if cfg is not None else GlassCfg(syss), io, extra)
    return ui, vals, box


def _check(ui, buf, what, bars=False):
    scr = ui.screen()
    if bars and scr.kind == screen.KIND_MEAS:
        for k in range(3):
            scr.bars[k] = 130
    n = fb.render(scr, buf)
    assert n == 0, "%s: %r does not fit (%d cut)\n%s" % (what, fb.clip_text, n, ui.text())


def test_every_measurement_page_fits():
    buf = bytearray(1024)
    count = 0
    for syss in SYSS:
        ui, vals, box = _ui(syss)
        for s in range(len(pages.SCREENS)):
            name = pages.SCREENS[s][0]
            groups = pages.SCREENS[s][1]
            for g in range(len(groups)):
                for p in range(len(groups[g])):
                    for c in range(len(CANDIDATES)):
                        v, box[0] = CANDIDATES[c]
                        for i in range(len(vals)):
                            vals[i] = v
                        what = "SYSS %d %s group %d page %d candidate %d" % (syss, name, g, p, c)
                        _check(ui, buf, what, bars=c < 2)
                        count += 1
                    keys(ui, "down")
                keys(ui, "right")
            keys(ui, "left")
    total = 0
    for sc in pages.SCREENS:
        for g in sc[1]:
            total += len(g)
    assert count == total * len(CANDIDATES) * len(SYSS) and total > 100


def _widest(row):
    """The values to try for a settings row: its range ends and, for enumerations, every choice."""
    if row[4] is not None:
        return row[4]
    return (row[2], row[3])


def test_every_setting_fits_in_list_and_edit():
    buf = bytearray(1024)
    for syss in SYSS:
        cfg = GlassCfg(syss)
        ui, vals, box = _ui(syss, cfg)
        keys(ui, "enter")
        _check(ui, buf, "password entry")
        keys(ui, "left")
        enter_password(ui, "6666")
        order = ui.menu.params
        assert len(order) > len(regmap.CONFIG)  # the panel rows are in
        for j in range(len(order)):
            row = menu.prow(order[j])
            name = row[0]
            for v in _widest(row):
                if name != "Ver" and name != "PASS":
                    cfg.values[name] = v
                _check(ui, buf, "SYSS %d list %s = %r" % (syss, name, v))
            if name not in pages.READ_ONLY:
                keys(ui, "enter")  # edit: every digit position, every choice, blink on and off
                steps = 12
                if row[4] is not None and len(row[4]) > steps:
                    steps = len(row[4])
                if name in pages.NAMES and row[3] - row[2] + 1 > steps:
                    steps = row[3] - row[2] + 1
                for k in range(steps):
                    _check(ui, buf, "SYSS %d edit %s step %d" % (syss, name, k))
                    ui.tick(menu.BLINK_MS)
                    _check(ui, buf, "SYSS %d edit %s step %d, blink off" % (syss, name, k))
                    keys(ui, "right up")
                keys(ui, "left")
            if name in getattr(pages, "CLEARS", ()):
                cfg.values[name] = 1
                keys(ui, "enter enter")  # YES + ENTER: "cLEAr donE" in the value's place
                _check(ui, buf, "SYSS %d %s done" % (syss, name))
                assert ui.screen().message, name
                ui.tick(menu.MSG_MS)
            if name == "SYSS":
                cfg.values[name] = syss
            keys(ui, "down")


def test_messages_fit():
    buf = bytearray(1024)
    ui, vals, box = _ui(0)
    enter_password(ui, "1234")
    assert ui.screen().message
    _check(ui, buf, "wrong password")
    cfg = FakeCfg(refuse=True)
    ui, vals, box = _ui(0, cfg)
    enter_password(ui, "6666")
    keys(ui, "down down down enter up enter")  # In: refused
    assert ui.screen().message
    _check(ui, buf, "refused value")


def _px(buf, x, y):
    return (buf[(y >> 3) * 128 + x] >> (y & 7)) & 1


def _blink_box(on, off):
    """The pixels that differ between the blink's on and off phases: they must make one solid rectangle
    (x0, y0, x1, y1), inclusive."""
    diff = [(x, y) for y in range(64) for x in range(128) if _px(on, x, y) != _px(off, x, y)]
    assert diff
    xs = [d[0] for d in diff]
    ys = [d[1] for d in diff]
    box = (min(xs), min(ys), max(xs), max(ys))
    assert len(diff) == (box[2] - box[0] + 1) * (box[3] - box[1] + 1), box
    return box


def test_every_edited_field_reads_back_inverted_with_a_margin():
    # The blinking field is XORed: read back off the glass, its glyphs must stand light on a dark box that reaches
    # at least one pixel beyond them on every side and stays inside the glass, so no stroke of the field's first
    # or last glyph merges into the unlit glass (An `Ua` read `UE`, baud `9600` `960C`, dATE's day `31` `3`).
    from tools.glass import find_text

    fonts = (glyphs.SEG_XL, glyphs.SEG_L, glyphs.SEG_M, glyphs.SMALL)
    on = bytearray(1024)
    off = bytearray(1024)
    cfg = GlassCfg(0)
    ui, vals, box = _ui(0, cfg)
    enter_password(ui, "6666")
    order = ui.menu.params
    seen = 0
    for j in range(len(order)):
        row = menu.prow(order[j])
        name = row[0]
        if name not in pages.READ_ONLY:
            keys(ui, "enter")
            steps = 12
            if row[4] is not None and len(row[4]) > steps:
                steps = len(row[4])
            for k in range(steps):
                scr = ui.screen()
                assert scr.blink_on and scr.cursor_row == 0, name
                field = scr.digits[0][scr.cursor_start:scr.cursor_end]
                assert fb.render(scr, on) == 0, fb.clip_text
                ui.tick(menu.BLINK_MS)
                assert fb.render(ui.screen(), off) == 0, fb.clip_text
                ui.tick(menu.BLINK_MS)
                what = "%s step %d field %r" % (name, k, field)
                x0, y0, x1, y1 = _blink_box(on, off)
                # the margin: the box's outer columns and rows are blank in the plain drawing (lit when inverted)
                assert 0 <= x0 and x1 <= 127 and y0 >= 8 and y1 <= 56, what
                for x in range(x0, x1 + 1):
                    assert _px(off, x, y0) == 0 and _px(off, x, y1) == 0, what
                for y in range(y0, y1 + 1):
                    assert _px(off, x0, y) == 0 and _px(off, x1, y) == 0, what
                # re-inverted, the box is the plain drawing; read inverted, it is the field's glyphs
                back = bytearray(on)
                fb.rect(back, x0 | y0 << 8, (x1 - x0 + 1) | (y1 - y0 + 1) << 8, 2)
                assert back == off, what
                hits = []
                for f in fonts:
                    hits += find_text(on, f, field, x0=x0 + 1, x1=x1, y0=y0 + 1, y1=y1, inv=True)
                assert len(hits) == 1, what
                seen += 1
                keys(ui, "right up")
            keys(ui, "left")
        keys(ui, "down")
    assert seen > 150
