# Framebuf renderer for a 128x64 monochrome LCD: the character grid of text.py in the built-in 8x8 font.
# Works with any object offering fill/text/fill_rect (framebuf.FrameBuffer in MONO_VLSB or MONO_HLSB).
from firmware.ui import text

CELL = 8  # the framebuf font is 8x8 pixels: 16 columns x 8 rows on 128x64


def render(scr, fb):
    """Clear fb and draw the display model; the edited field shows inverted during the blink's on phase.
    The backlight is the board's: it reads scr.backlight (Ui.screen()) and drives its pin; drawing goes on."""
    rows, crow, ccol, clen = text.grid(scr, False)
    fb.fill(0)
    for i in range(len(rows)):
        if rows[i]:
            fb.text(rows[i], 0, i * CELL, 1)
    if crow >= 0 and scr.blink_on:
        x = ccol * CELL
        y = crow * CELL
        fb.fill_rect(x, y, clen * CELL, CELL, 1)
        fb.text(rows[crow][ccol:ccol + clen], x, y, 0)
