# SPDX-License-Identifier: MIT
# Writes firmware/ui/glyphs.py: the LCD's fonts and icons as bytes literals (frozen, they stay in flash), drawn
# here from ASCII art (5x7 and 3x5 fonts, icons) and from seven-segment geometry (the large digits).
#   python -m tools.gen_glyphs [--check]        host_tests/test_glyphs.py checks the file against this generator.
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "firmware", "ui", "glyphs.py")
FIRST = 32  # every font covers ASCII 32..126; other codes draw the font's '?'
COUNT = 95

# 5x7 font, rows top to bottom ('#' on); proportional: a glyph is as wide as its rows. g p q y hang one row
# below the 7 (an eighth row, bit 7 of the column byte: the font stays 7 high for layout, the descender
# goes into the blank row under the text), so g and q do not read as 9; code 127 is the degree ring
SMALL_ART = {
    " ": "...|...|...|...|...|...|...", "!": "#|#|#|#|#|.|#", '"': "#.#|#.#|#.#|...|...|...|...",
    "#": ".#.#.|.#.#.|#####|.#.#.|#####|.#.#.|.#.#.", "$": "..#..|.####|#.#..|.###.|..#.#|####.|..#..",
    "%": "##...|##..#|...#.|..#..|.#...|#..##|...##", "&": ".##..|#..#.|#.#..|.#...|#.#.#|#..#.|.##.#",
    "'": "#|#|.|.|.|.|.", "(": "..#|.#.|#..|#..|#..|.#.|..#", ")": "#..|.#.|..#|..#|..#|.#.|#..",
    "*": ".....|..#..|#.#.#|.###.|#.#.#|..#..|.....", "+": ".....|..#..|..#..|#####|..#..|..#..|.....",
    ",": "..|..|..|..|.#|.#|#.", "-": "....|....|....|####|....|....|....", ".": ".|.|.|.|.|.|#",
    "/": ".....|....#|...#.|..#..|.#...|#....|.....",
    "0": ".###.|#...#|#..##|#.#.#|##..#|#...#|.###.", "1": "..#..|.##..|..#..|..#..|..#..|..#..|.###.",
    "2": ".###.|#...#|....#|...#.|..#..|.#...|#####", "3": "#####|...#.|..#..|...#.|....#|#...#|.###.",
    "4": "...#.|..##.|.#.#.|#..#.|#####|...#.|...#.", "5": "#####|#....|####.|....#|....#|#...#|.###.",
    "6": "..##.|.#...|#....|####.|#...#|#...#|.###.", "7": "#####|....#|...#.|..#..|.#...|.#...|.#...",
    "8": ".###.|#...#|#...#|.###.|#...#|#...#|.###.", "9": ".###.|#...#|#...#|.####|....#|...#.|.##..",
    ":": ".|#|.|.|.|#|.", ";": "..|.#|..|..|.#|.#|#.", "<": "...#|..#.|.#..|#...|.#..|..#.|...#",
    "=": ".....|.....|#####|.....|#####|.....|.....", ">": "#...|.#..|..#.|...#|..#.|.#..|#...",
    "?": ".###.|#...#|....#|...#.|..#..|.....|..#..", "@": ".###.|#...#|....#|.##.#|#.#.#|#.#.#|.###.",
    "A": ".###.|#...#|#...#|#####|#...#|#...#|#...#", "B": "####.|#...#|#...#|####.|#...#|#...#|####.",
    "C": ".###.|#...#|#....|#....|#....|#...#|.###.", "D": "###..|#..#.|#...#|#...#|#...#|#..#.|###..",
    "E": "#####|#....|#....|####.|#....|#....|#####", "F": "#####|#....|#....|####.|#....|#....|#....",
    "G": ".###.|#...#|#....|#.###|#...#|#...#|.####", "H": "#...#|#...#|#...#|#####|#...#|#...#|#...#",
    "I": "###|.#.|.#.|.#.|.#.|.#.|###", "J": "..###|...#.|...#.|...#.|...#.|#..#.|.##..",
    "K": "#...#|#..#.|#.#..|##...|#.#..|#..#.|#...#", "L": "#....|#....|#....|#....|#....|#....|#####",
    "M": "#...#|##.##|#.#.#|#.#.#|#...#|#...#|#...#", "N": "#...#|#...#|##..#|#.#.#|#..##|#...#|#...#",
    "O": ".###.|#...#|#...#|#...#|#...#|#...#|.###.", "P": "####.|#...#|#...#|####.|#....|#....|#....",
    "Q": ".###.|#...#|#...#|#...#|#.#.#|#..#.|.##.#", "R": "####.|#...#|#...#|####.|#.#..|#..#.|#...#",
    "S": ".####|#....|#....|.###.|....#|....#|####.", "T": "#####|..#..|..#..|..#..|..#..|..#..|..#..",
    "U": "#...#|#...#|#...#|#...#|#...#|#...#|.###.", "V": "#...#|#...#|#...#|#...#|#...#|.#.#.|..#..",
    "W": "#...#|#...#|#...#|#.#.#|#.#.#|#.#.#|.#.#.", "X": "#...#|#...#|.#.#.|..#..|.#.#.|#...#|#...#",
    "Y": "#...#|#...#|#...#|.#.#.|..#..|..#..|..#..", "Z": "#####|....#|...#.|..#..|.#...|#....|#####",
    "[": "###|#..|#..|#..|#..|#..|###", "\\": ".....|#....|.#...|..#..|...#.|....#|.....",
    "]": "###|..#|..#|..#|..#|..#|###", "^": "..#..|.#.#.|#...#|.....|.....|.....|.....",
    "_": ".....|.....|.....|.....|.....|.....|#####", "`": "#.|.#|..|..|..|..|..",
    "a": ".....|.....|.###.|....#|.####|#...#|.####", "b": "#....|#....|#.##.|##..#|#...#|#...#|####.",
    "c": ".....|.....|.###.|#....|#....|#...#|.###.", "d": "....#|....#|.##.#|#..##|#...#|#...#|.####",
    "e": ".....|.....|.###.|#...#|#####|#....|.###.", "f": ".##.|#..#|#...|###.|#...|#...|#...",
    "g": ".....|.....|.####|#...#|#...#|.####|....#|.###.", "h": "#....|#....|#.##.|##..#|#...#|#...#|#...#",
    "i": ".#.|...|##.|.#.|.#.|.#.|###", "j": "...#|....|..##|...#|...#|#..#|.##.",
    "k": "#...|#...|#..#|#.#.|##..|#.#.|#..#", "l": "##.|.#.|.#.|.#.|.#.|.#.|###",
    "m": ".....|.....|##.#.|#.#.#|#.#.#|#...#|#...#", "n": ".....|.....|#.##.|##..#|#...#|#...#|#...#",
    "o": ".....|.....|.###.|#...#|#...#|#...#|.###.", "p": ".....|.....|####.|#...#|#...#|####.|#....|#....",
    "q": ".....|.....|.####|#...#|#...#|.####|....#|....#", "r": ".....|.....|#.##.|##..#|#....|#....|#....",
    "s": ".....|.....|.###.|#....|.###.|....#|####.", "t": ".#..|.#..|###.|.#..|.#..|.#.#|..#.",
    "u": ".....|.....|#...#|#...#|#...#|#..##|.##.#", "v": ".....|.....|#...#|#...#|#...#|.#.#.|..#..",
    "w": ".....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.", "x": ".....|.....|#...#|.#.#.|..#..|.#.#.|#...#",
    "y": ".....|.....|#...#|#...#|#...#|.####|....#|.###.", "z": ".....|.....|#####|...#.|..#..|.#...|#####",
    "{": "..#|.#.|.#.|#..|.#.|.#.|..#", "|": "#|#|#|#|#|#|#", "}": "#..|.#.|.#.|..#|.#.|.#.|#..",
    "~": ".....|.....|.#...|#.#.#|...#.|.....|.....",
    "\x7f": ".#.|#.#|.#.|...|...|...|...",  # code 127: the degree ring (fb draws the unit "C" as degrees C),
}

# 3x5 capitals and digits for the annunciators (DI DO AVG IMP MAX ...); lower case draws as upper case
TINY_ART = {
    " ": "..|..|..|..|..", "-": "...|...|###|...|...", ".": ".|.|.|.|#", "/": "..#|..#|.#.|#..|#..",
    "0": "###|#.#|#.#|#.#|###", "1": ".#.|##.|.#.|.#.|###", "2": "###|..#|###|#..|###", "3": "###|..#|.##|..#|###",
    "4": "#.#|#.#|###|..#|..#", "5": "###|#..|###|..#|###", "6": "###|#..|###|#.#|###", "7": "###|..#|..#|..#|..#",
    "8": "###|#.#|###|#.#|###", "9": "###|#.#|###|..#|###", "?": "##.|..#|.#.|...|.#.",
    "A": ".#.|#.#|###|#.#|#.#", "B": "##.|#.#|##.|#.#|##.", "C": ".##|#..|#..|#..|.##", "D": "##.|#.#|#.#|#.#|##.",
    "E": "###|#..|##.|#..|###", "F": "###|#..|##.|#..|#..", "G": ".##|#..|#.#|#.#|.##", "H": "#.#|#.#|###|#.#|#.#",
    "I": "###|.#.|.#.|.#.|###", "J": "..#|..#|..#|#.#|.#.", "K": "#.#|#.#|##.|#.#|#.#", "L": "#..|#..|#..|#..|###",
    "M": "#...#|##.##|#.#.#|#...#|#...#", "N": "#..#|##.#|#.##|#..#|#..#", "O": ".#.|#.#|#.#|#.#|.#.",
    "P": "##.|#.#|##.|#..|#..", "Q": ".##.|#..#|#..#|#.#.|.#.#", "R": "##.|#.#|##.|#.#|#.#", "S": ".##|#..|.#.|..#|##.",
    "T": "###|.#.|.#.|.#.|.#.", "U": "#.#|#.#|#.#|#.#|###", "V": "#.#|#.#|#.#|#.#|.#.",
    "W": "#...#|#...#|#.#.#|##.##|#...#", "X": "#.#|#.#|.#.|#.#|#.#", "Y": "#.#|#.#|.#.|.#.|.#.",
    "Z": "###|..#|.#.|#..|###",
}

# Seven segments a (top) b c d e f g (middle) per character; other characters draw the 5x7 glyph scaled
SEGMENTS = {
    "0": "abcdef", "1": "bc", "2": "abdeg", "3": "abcdg", "4": "bcfg", "5": "acdfg", "6": "acdefg", "7": "abc",
    "8": "abcdefg", "9": "abcdfg", "A": "abcefg", "b": "cdefg", "C": "adef", "c": "deg", "d": "bcdeg",
    "E": "adefg", "e": "abdefg", "F": "aefg", "G": "acdef", "g": "abcdfg", "H": "bcefg", "h": "cefg", "J": "bcde",
    "L": "def", "n": "ceg", "O": "abcdef", "o": "cdeg", "P": "abefg", "q": "abcfg", "r": "eg", "S": "acdfg",
    "t": "defg", "U": "bcdef", "u": "cde", "y": "bcdfg", "-": "g", "_": "d", "=": "dg",
}
SEG_ALIAS = {"B": "b", "D": "d", "f": "F", "I": "|", "i": "|", "l": "|", "N": "n", "o": "o", "p": "P", "Q": "q",
             "R": "r", "s": "S", "T": "t", "Y": "y"}
# The seven-segment sizes: name, width, height (px), horizontal and vertical segment thickness, gap between
# glyphs, scale of the 5x7 glyphs that stand in for letters seven segments cannot show
SEG_FONTS = (("SEG_M", 7, 11, 1, 2, 2, 1), ("SEG_L", 10, 15, 3, 2, 2, 2), ("SEG_XL", 14, 23, 3, 3, 3, 3))

# Icons, 7 rows each (ASCII art as above); the quadrant picture is drawn from QUAD_ART
ICON_ART = {
    "IND": "..........|..........|.##.##.##.|#..#..#..#|#..#..#..#|..........|..........",  # a coil's turns
    "CAP": "..#.#..|..#.#..|..#.#..|###.###|..#.#..|..#.#..|..#.#..",  # two plates
    "ALARM": "...#...|..###..|.#####.|.#####.|.#####.|#######|...#...",  # a bell
    "COMM": "####.####|#..#.#..#|####.####|.##...##.|.........|#########|.........",  # two computers, one line
    "CLOCK": "..###..|.#.#.#.|#..#..#|#..##.#|#.....#|.#...#.|..###..",
}
QUAD_ART = "#######|#..#..#|#..#..#|#######|#..#..#|#..#..#|#######"
# The inside of each quadrant (manual 4.1 item 10: Q1 P+Q+ upper right, Q2 upper left, Q3 lower left, Q4 lower right)
QUAD_CELLS = ((4, 1), (1, 1), (1, 4), (4, 4))


def art_bitmap(art):
    """'#..|.#.' -> list of rows of 0/1."""
    return [[1 if c == "#" else 0 for c in row] for row in art.split("|")]


def seg_bitmap(segs, w, h, th, tv):
    """A seven-segment glyph w x h px as rows of 0/1: horizontal segments th px thick, vertical ones tv px, ends
    cut at 45 degrees where they meet."""
    rh, rv = th / 2.0, tv / 2.0
    xl, xr, yt, ym, yb = rv, w - rv, rh, h / 2.0, h - rh
    lines = {"a": (xl, yt, xr, yt, rh), "g": (xl, ym, xr, ym, rh), "d": (xl, yb, xr, yb, rh),
             "f": (xl, yt, xl, ym, rv), "b": (xr, yt, xr, ym, rv), "e": (xl, ym, xl, yb, rv),
             "c": (xr, ym, xr, yb, rv)}
    rows = [[0] * w for _ in range(h)]
    for y in range(h):
        for x in range(w):
            px, py = x + 0.5, y + 0.5
            for s in segs:
                x0, y0, x1, y1, r = lines[s]
                if y0 == y1:  # horizontal: along x, across y
                    a0, a1, along, across = x0, x1, px, abs(py - y0)
                else:
                    a0, a1, along, across = y0, y1, py, abs(px - x0)
                if across < r and a0 + across <= along <= a1 - across:
                    rows[y][x] = 1
            # the two verticals of a side meet across the middle band (a 0 or an 8 reads as one stroke)
            for s0, s1, xc in (("f", "e", xl), ("b", "c", xr)):
                if s0 in segs and s1 in segs and abs(px - xc) < rv and abs(py - ym) <= rh:
                    rows[y][x] = 1
    return rows


def scale_bitmap(rows, k):
    return [[v for v in row for _ in range(k)] for row in rows for _ in range(k)]


def trim(rows):
    """Drop blank columns on both sides (narrow glyphs: the bar of I l i)."""
    w = len(rows[0])
    used = [x for x in range(w) if any(row[x] for row in rows)]
    if not used:
        return rows
    return [row[used[0]:used[-1] + 1] for row in rows]


def columns(rows, h):
    """Rows of 0/1 (at most h) -> column bytes, MONO_VLSB: per column ceil(h/8) bytes, bit k = row 8j + k."""
    nb = (h + 7) // 8
    w = len(rows[0]) if rows else 0
    out = bytearray()
    for x in range(w):
        v = 0
        for y in range(len(rows)):
            if rows[y][x]:
                v |= 1 << y
        out += v.to_bytes(nb, "little")
    return out


def pack(bitmaps, h, spacing, default):
    """Font bytes: header [h, bytes per column, spacing, first code, count, default glyph], widths[count],
    offsets[count] (uint16 little-endian, into the column data), column data. bitmaps: COUNT lists of rows."""
    nb = (h + 7) // 8
    widths = bytearray()
    offs = bytearray()
    data = bytearray()
    for rows in bitmaps:
        widths.append(len(rows[0]))
        offs += (len(data) // nb).to_bytes(2, "little")
        data += columns(rows, h)
    return bytes([h, nb, spacing, FIRST, len(bitmaps), default]) + bytes(widths) + bytes(offs) + bytes(data)


def pad_to(rows, h, top):
    """Place rows in an h-row cell with `top` blank rows above."""
    w = len(rows[0])
    out = [[0] * w for _ in range(top)] + [list(r) for r in rows]
    while len(out) < h:
        out.append([0] * w)
    return out[:h]


def small_font():
    return pack([art_bitmap(SMALL_ART[chr(c)]) for c in range(FIRST, FIRST + COUNT + 1)], 7, 1, ord("?") - FIRST)


def tiny_font():
    bms = []
    for c in range(FIRST, FIRST + COUNT):
        ch = chr(c).upper()
        bms.append(art_bitmap(TINY_ART.get(ch, TINY_ART["?"])))
    return pack(bms, 5, 1, ord("?") - FIRST)


def seg_font(w, h, th, tv, spacing, k):
    bms = []
    for c in range(FIRST, FIRST + COUNT):
        ch = SEG_ALIAS.get(chr(c), chr(c))
        if ch in SEGMENTS:
            bms.append(seg_bitmap(SEGMENTS[ch], w, h, th, tv))
        elif ch == "|":  # I i l: the left bar (segments e f), narrow
            bms.append(trim(seg_bitmap("ef", w, h, th, tv)))
        elif ch == ".":  # a tv x tv dot on the baseline
            bms.append(pad_to([[1] * tv] * tv, h, h - tv))
        elif ch == ":":  # two dots, a third of the height from top and bottom
            rows = [[0] * tv for _ in range(h)]
            for y0 in (h // 3 - tv // 2, h - h // 3 - (tv + 1) // 2):
                for y in range(y0, y0 + tv):
                    rows[y] = [1] * tv
            bms.append(rows)
        elif ch == " ":
            bms.append([[0] * (w // 2)] * h)
        else:  # the 5x7 glyph scaled k times, bottom-aligned
            g = scale_bitmap(art_bitmap(SMALL_ART[ch]), k)
            bms.append(pad_to(g, h, h - len(g)))
    return pack(bms, h, spacing, ord("?") - FIRST)


def icons():
    """Named icons (7 rows, any width) as (name, column bytes, width); QUAD0..QUAD4: the quadrant picture with no /
    the 1st..4th quadrant filled."""
    out = []
    for name in ("IND", "CAP", "ALARM", "COMM", "CLOCK"):
        rows = art_bitmap(ICON_ART[name])
        out.append((name, columns(rows, 7), len(rows[0])))
    for q in range(5):
        rows = art_bitmap(QUAD_ART)
        if q:
            x0, y0 = QUAD_CELLS[q - 1]
            for y in range(y0, y0 + 2):
                for x in range(x0, x0 + 2):
                    rows[y][x] = 1
        out.append(("QUAD%d" % q, columns(rows, 7), len(rows[0])))
    return out


def literal(name, data, comment):
    lines = ["# " + comment, name + " = ("]
    for i in range(0, len(data), 32):
        lines.append('    b"' + "".join("\\x%02x" % b for b in data[i:i + 32]) + '"')
    lines.append(")")
    return "\n".join(lines)


def source():
    parts = [
        "# SPDX-License-Identifier: MIT",
        "# Fonts and icons of the 128x64 LCD (docs/ui.md, Glass), written by tools/gen_glyphs.py: do not edit.",
        "# A font: header [height, bytes per column, spacing, first code, count, default], widths, uint16 offsets,",
        "# MONO_VLSB column data (bit k of a column's byte j = row 8j + k). Frozen, these bytes stay in flash.",
        "",
        literal("SMALL", small_font(), "5x7, proportional: labels, units, messages"),
        literal("TINY", tiny_font(), "3x5 capitals: annunciators (DI DO AVG IMP MAX ...)"),
    ]
    for name, w, h, th, tv, sp, k in SEG_FONTS:
        parts.append(literal(name, seg_font(w, h, th, tv, sp, k), "%dx%d seven-segment digits, other letters the 5x7 "
                                                             "glyph x%d" % (w, h, k)))
    for name, data, w in icons():
        parts.append(literal(name, data, "icon %dx7, one byte a column" % w))
    return "\n".join(parts) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    text = source()
    if "--check" in argv:
        with open(OUT) as f:
            if f.read() != text:
                print("%s is stale: run python -m tools.gen_glyphs" % OUT)
                return 1
        return 0
    with open(OUT, "w") as f:
        f.write(text)
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
