# SPDX-License-Identifier: MIT
# tools/glass.py: the 1024-byte MONO_VLSB frame buffer as quadrant-block text, braille text and PNG, checked on
# hand-made buffers whose pixels are set by the ST7567 layout (byte (y >> 3) * 128 + x, bit y & 7).
from tools import glass


def _buf(*pixels):
    b = bytearray(1024)
    for x, y in pixels:
        b[(y >> 3) * 128 + x] |= 1 << (y & 7)
    return b


def test_blocks_shape_and_blank():
    lines = glass.to_blocks(bytearray(1024))
    assert len(lines) == 32 and all(line == " " * 64 for line in lines)


def test_blocks_quadrants():
    # one 2x2 cell per pattern 1..15 along line 0 and the first 15 cells: TL=1 TR=2 BL=4 BR=8
    expect = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
    px = []
    for k in range(16):
        x = 2 * k
        if k & 1:
            px.append((x, 0))
        if k & 2:
            px.append((x + 1, 0))
        if k & 4:
            px.append((x, 1))
        if k & 8:
            px.append((x + 1, 1))
    lines = glass.to_blocks(_buf(*px))
    assert lines[0][:16] == expect
    assert lines[0][16:] == " " * 48 and lines[1] == " " * 64


def test_blocks_byte_column_and_corners():
    b = _buf((127, 63), (126, 62))
    b[5] = 0xFF  # x = 5, y = 0..7 on: the right half of cells (2, 0..3)
    lines = glass.to_blocks(b)
    for r in range(4):
        assert lines[r][2] == "▐"
    assert lines[4][2] == " "
    assert lines[31][63] == "▚"  # (126, 62) top-left, (127, 63) bottom-right


def test_braille():
    lines = glass.to_braille(_buf((0, 0), (1, 3), (127, 63)))
    assert len(lines) == 16 and all(len(line) == 64 for line in lines)
    assert lines[0][0] == chr(0x2800 | 0x01 | 0x80)  # dot 1 (left top) and dot 8 (right bottom)
    assert lines[15][63] == chr(0x2800 | 0x80)


def test_png(tmp_path):
    from PIL import Image

    p = glass.to_png(_buf((0, 0), (127, 63)), str(tmp_path / "g.png"), scale=3)
    img = Image.open(p).convert("RGB")
    border = 2
    assert img.size == ((128 + 2 * border) * 3, (64 + 2 * border) * 3)
    assert img.getpixel((border * 3, border * 3)) == glass.PIXEL_ON
    assert img.getpixel(((border + 1) * 3, border * 3)) == glass.PIXEL_OFF
    assert img.getpixel(((border + 127) * 3 + 2, (border + 63) * 3 + 2)) == glass.PIXEL_ON
    assert img.getpixel((0, 0)) == glass.PIXEL_OFF
