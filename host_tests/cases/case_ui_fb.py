# Front panel framebuf renderer (Ui.render): the draw calls on a recorder everywhere, and the pixels against
# framebuf's own text() where `import framebuf` works (the MicroPython unix port).
from case_ui import keys, make


class RecFb:
    def __init__(self):
        self.calls = []

    def fill(self, c):
        self.calls.append(("fill", c))

    def text(self, s, x, y, c):
        self.calls.append(("text", s, x, y, c))

    def fill_rect(self, x, y, w, h, c):
        self.calls.append(("fill_rect", x, y, w, h, c))


def test_fb_render_calls():
    ui, v, io = make(Ua=219.96, P=10.0, Q=5.0)
    fb = RecFb()
    ui.render(fb)
    assert fb.calls[0] == ("fill", 0)
    assert ("text", "Meter U   Q1 IND", 0, 0, 1) in fb.calls
    assert ("text", "A    220.0 V", 0, 8, 1) in fb.calls
    assert ("text", "DI-- DO--", 0, 56, 1) in fb.calls
    keys(ui, "enter right")
    fb = RecFb()
    ui.render(fb)
    # The value is right-aligned (no brackets on the glass): the second digit is column 13, inverted while
    # the blink is on
    assert ("text", "Set", 0, 0, 1) in fb.calls and ("text", "PASS        0000", 0, 8, 1) in fb.calls
    assert fb.calls[-2:] == [("fill_rect", 104, 8, 8, 8, 1), ("text", "0", 104, 8, 0)]
    ui.tick(500)
    fb = RecFb()
    ui.render(fb)
    assert fb.calls[-1][0] == "text" and all(c[0] != "fill_rect" for c in fb.calls)


def test_fb_pixels():
    try:
        import framebuf
    except ImportError:
        return  # CPython: covered by test_fb_render_calls
    ui, v, io = make(Ua=219.96)
    for fmt_ in (framebuf.MONO_VLSB, framebuf.MONO_HLSB):
        buf = bytearray(128 * 64 // 8)
        fb = framebuf.FrameBuffer(buf, 128, 64, fmt_)
        fb.fill(1)  # render must clear it
        ui.render(fb)
        ref_buf = bytearray(len(buf))
        ref = framebuf.FrameBuffer(ref_buf, 128, 64, fmt_)
        ref.text("Meter U", 0, 0, 1)
        ref.text("A    220.0 V", 0, 8, 1)
        ref.text("B    0.000 V", 0, 16, 1)
        ref.text("C    0.000 V", 0, 24, 1)
        ref.text("DI-- DO--", 0, 56, 1)
        assert buf == ref_buf
        assert sum(fb.pixel(x, y) for x in range(40, 48) for y in range(8, 16)) > 10  # the "2" of 220.0
        assert sum(fb.pixel(x, y) for x in range(128) for y in range(40, 56)) == 0  # rows 5-6 empty
    keys(ui, "enter")
    buf = bytearray(128 * 64 // 8)
    fb = framebuf.FrameBuffer(buf, 128, 64, framebuf.MONO_VLSB)
    ref = framebuf.FrameBuffer(bytearray(len(buf)), 128, 64, framebuf.MONO_VLSB)
    ref.text("PASS        0000", 0, 8, 1)
    ui.render(fb)
    # The first digit (column 12 of row 1) is drawn inverted: every pixel of its cell is the glyph's complement
    cell = [(x, y) for x in range(96, 104) for y in range(8, 16)]
    assert all(fb.pixel(x, y) == 1 - ref.pixel(x, y) for x, y in cell)
    assert all(fb.pixel(x, y) == ref.pixel(x, y) for x in range(0, 96) for y in range(8, 16))
    ui.tick(500)  # blink off: plain glyph
    ui.render(fb)
    assert all(fb.pixel(x, y) == ref.pixel(x, y) for x, y in cell)
