# The LCD's 1024-byte frame buffer on the host: as text (Unicode quadrant blocks, 2x2 pixels a character) and
# as a PNG (Pillow). Buffer format: the ST7567's, MONO_VLSB 128x64, byte (y >> 3) * 128 + x, bit y & 7.
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
