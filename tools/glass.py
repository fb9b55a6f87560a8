# SPDX-License-Identifier: MIT
# The LCD's 1024-byte frame buffer on the host: as text (Unicode quadrant blocks, 2x2 pixels a character), as a
# PNG (Pillow), and read back (where a text of a firmware/ui/glyphs.py font is drawn). Buffer format: the
# ST7567's, MONO_VLSB 128x64, byte (y >> 3) * 128 + x, bit y & 7. Plain Python: it runs under MicroPython too.
WIDTH = 128
HEIGHT = 64
SIZE = WIDTH * HEIGHT // 8

# U+2580 block elements indexed by the 2x2 pattern: top-left 1, top-right 2, bottom-left 4, bottom-right 8
BLOCKS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"

# An LCD-like palette: dark blue-grey pixels on a grey-green glass (RGB)
PIXEL_ON = (32, 40, 56)
PIXEL_OFF = (168, 190, 150)


def pixel(buf, x, y):
    """1 when pixel (x, y) of the MONO_VLSB buffer is on, else 0."""
    return (buf[(y >> 3) * WIDTH + x] >> (y & 7)) & 1


def to_blocks(buf):
    """MONO_VLSB 128x64 buffer (1024 bytes) -> 32 strings of 64 quadrant characters (2x2 pixels a character:
    character c of line r shows pixels x = 2c, 2c+1 and y = 2r, 2r+1). 64 pixel rows make 32 lines; for 16
    lines use to_braille (2x4 pixels a character)."""
    _check(buf)
    out = []
    for y in range(0, HEIGHT, 2):
        line = []
        for x in range(0, WIDTH, 2):
            k = (pixel(buf, x, y) | pixel(buf, x + 1, y) << 1 | pixel(buf, x, y + 1) << 2
                 | pixel(buf, x + 1, y + 1) << 3)
            line.append(BLOCKS[k])
        out.append("".join(line))
    return out


# Braille dots (U+2800 + bits): column 0 rows 0-3 = bits 0, 1, 2, 6; column 1 rows 0-3 = bits 3, 4, 5, 7
_BRAILLE_BITS = ((0, 1, 2, 6), (3, 4, 5, 7))


def to_braille(buf):
    """MONO_VLSB 128x64 buffer -> 16 strings of 64 braille characters (2x4 pixels a character: character c of
    line r shows x = 2c, 2c+1 and y = 4r .. 4r+3)."""
    _check(buf)
    out = []
    for y in range(0, HEIGHT, 4):
        line = []
        for x in range(0, WIDTH, 2):
            k = 0
            for dx in range(2):
                for dy in range(4):
                    if pixel(buf, x + dx, y + dy):
                        k |= 1 << _BRAILLE_BITS[dx][dy]
            line.append(chr(0x2800 + k))
        out.append("".join(line))
    return out


def _check(buf):
    if len(buf) != SIZE:
        raise ValueError("need %d bytes, got %d" % (SIZE, len(buf)))


def to_image(buf, scale=4, border=2):
    """A Pillow RGB image of the glass: each pixel a scale x scale square, `border` glass pixels around it."""
    from PIL import Image

    _check(buf)
    w = (WIDTH + 2 * border) * scale
    h = (HEIGHT + 2 * border) * scale
    img = Image.new("RGB", (w, h), PIXEL_OFF)
    px = img.load()
    for y in range(HEIGHT):
        for x in range(WIDTH):
            if pixel(buf, x, y):
                x0 = (x + border) * scale
                y0 = (y + border) * scale
                for dy in range(scale):
                    for dx in range(scale):
                        px[x0 + dx, y0 + dy] = PIXEL_ON
    return img


def to_png(buf, path, scale=4):
    """Write the buffer as a PNG at `path`, scale x scale screen pixels a glass pixel."""
    to_image(buf, scale).save(path)
    return path


# -- reading the glass back: the fonts decoded here in plain Python (table format of tools/gen_glyphs.py) --

def glyph_cols(font, ch):
    """The columns of ch in a glyphs.py font as ints (bit r = row r)."""
    nb = font[1]
    cnt = font[4]
    c = ord(ch) - font[3]
    if c < 0 or c >= cnt:
        c = font[5]
    w = font[6 + c]
    o = 6 + 3 * cnt + (font[6 + cnt + 2 * c] | font[7 + cnt + 2 * c] << 8) * nb
    return [int.from_bytes(bytes(font[o + k * nb:o + k * nb + nb]), "little") for k in range(w)]


def text_cols(font, s):
    """The columns s takes in font: its glyphs with the font's spacing (blank columns) between them."""
    out = []
    for i in range(len(s)):
        if i:
            out += [0] * font[2]
        out += glyph_cols(font, s[i])
    return out


def column(buf, x, y, h):
    """Pixels (x, y .. y+h-1) as an int, bit r = row y + r; rows below the glass read 0."""
    v = 0
    for r in range(h):
        if y + r < HEIGHT and pixel(buf, x, y + r):
            v |= 1 << r
    return v


def find_cols(buf, cols, h, x0=0, x1=WIDTH, y0=0, y1=HEIGHT, inv=False):
    """Every (x, y) in the box where these columns (h rows) are drawn exactly, set and clear pixels alike;
    inv: light on a dark field."""
    m = (1 << h) - 1
    hits = []
    for y in range(y0, y1 - h + 1):
        for x in range(x0, x1 - len(cols) + 1):
            ok = True
            for i in range(len(cols)):
                v = column(buf, x + i, y, h)
                if (v ^ m if inv else v) != cols[i]:
                    ok = False
                    break
            if ok:
                hits.append((x, y))
    return hits


def find_text(buf, font, s, x0=0, x1=WIDTH, y0=0, y1=HEIGHT, inv=False):
    """Where s is drawn in font (a glyphs.py table): a list of top-left (x, y). A glyph hanging below the font's
    height (the 5x7 font's g p q y) is matched with its descender: the rows checked reach down to it."""
    cols = text_cols(font, s)
    h = font[0]
    for c in cols:
        n = 0
        while c >> n:
            n += 1
        if n > h:
            h = n
    return find_cols(buf, cols, h, x0, x1, y0, y1, inv)
