# SPDX-License-Identifier: MIT
# Pixel primitives of the glass (firmware/ui/fb.py): viper blits into the ST7567's 1024-byte RAM image, the layout
# of framebuf.MONO_VLSB 128x64 (byte (y >> 3) * 128 + x, bit y & 7), for the fonts and icons of glyphs.py.
import micropython
from micropython import const

_W = const(128)
_SIZE = const(1024)
CLEAR = const(0)  # rect() operations
SET = const(1)
XOR = const(2)


@micropython.viper
def fill(buf: ptr8, v: int):
    for i in range(_SIZE):
        buf[i] = v


@micropython.viper
def rect(buf: ptr8, a: int, b: int, op: int):
    """The rectangle x, y = a & 255, a >> 8 of w, h = b & 255, b >> 8 pixels: cleared, set or inverted (op)."""
    x0 = a & 0xFF
    x1 = x0 + (b & 0xFF)
    if x1 > _W:
        x1 = _W
    y = a >> 8
    y1 = y + (b >> 8)
    if y1 > 64:
        y1 = 64
    while y < y1:
        p = y >> 3
        e = (p + 1) << 3
        if e > y1:
            e = y1
        m = ((1 << (e - (p << 3))) - 1) ^ ((1 << (y & 7)) - 1)
        i = (p << 7) + x0
        end = (p << 7) + x1
        if op == 1:  # SET
            while i < end:
                buf[i] = buf[i] | m
                i += 1
        elif op == 2:  # XOR
            while i < end:
                buf[i] = buf[i] ^ m
                i += 1
        else:
            m = m ^ 0xFF
            while i < end:
                buf[i] = buf[i] & m
                i += 1
        y = e


@micropython.viper
def width(font: ptr8, s: ptr8, n: int) -> int:
    """Pixels the first n characters of s take in font, the gaps between them included."""
    if n <= 0:
        return 0
    first = font[3]
    cnt = font[4]
    w = 0
    for i in range(n):
        c = s[i] - first
        if c < 0 or c >= cnt:
            c = font[5]
        w += font[6 + c] + font[2]
    return w - font[2]


@micropython.viper
def text(buf: ptr8, font: ptr8, s: ptr8, a: int) -> int:
    """Draw n characters of s, top-left at x, y; no column at or right of xmax; ORed in, or XORed when inv.
    a = x | y << 8 | n << 14 | xmax << 20 | inv << 28. Returns the column after the last one drawn."""
    x = a & 0xFF
    sh = (a >> 8) & 7
    row = ((a >> 11) & 7) << 7
    n = (a >> 14) & 0x3F
    xmax = (a >> 20) & 0xFF
    inv = (a >> 28) & 1
    nb = font[1]
    cnt = font[4]
    db = 6 + 3 * cnt
    for i in range(n):
        c = s[i] - font[3]
        if c < 0 or c >= cnt:
            c = font[5]
        o = db + (font[6 + cnt + 2 * c] | (font[7 + cnt + 2 * c] << 8)) * nb
        e = x + font[6 + c]
        if e > xmax:
            e = xmax
        while x < e:
            v = font[o]
            if nb > 1:
                v = v | (font[o + 1] << 8)
                if nb > 2:
                    v = v | (font[o + 2] << 16)
            v = v << sh
            p = row + x
            while v != 0 and p < _SIZE:
                if inv:
                    buf[p] = buf[p] ^ v
                else:
                    buf[p] = buf[p] | v
                v = v >> 8
                p += 128
            x += 1
            o += nb
        if x >= xmax:
            return x
        x += font[2]
    return x - font[2]


@micropython.viper
def icon(buf: ptr8, data: ptr8, a: int):
    """A 7-row icon (one byte a column, len w) with its top-left at x, y: a = x | y << 8 | w << 14."""
    sh = (a >> 8) & 7
    p = (((a >> 11) & 7) << 7) + (a & 0xFF)
    w = (a >> 14) & 0xFF
    for i in range(w):
        v = data[i] << sh
        buf[p] = buf[p] | v
        if p < _SIZE - 128:
            buf[p + 128] = buf[p + 128] | (v >> 8)
        p += 1
