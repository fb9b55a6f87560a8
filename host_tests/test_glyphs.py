# SPDX-License-Identifier: MIT
# firmware/ui/glyphs.py is what tools/gen_glyphs.py writes; the tables decode back to the generator's drawings.
from tools import gen_glyphs


def test_glyphs_file_is_generated():
    assert gen_glyphs.main(["--check"]) == 0


def _rows(font, ch):
    nb, cnt, h = font[1], font[4], font[0]
    c = ord(ch) - font[3]
    w = font[6 + c]
    o = 6 + 3 * cnt + (font[6 + cnt + 2 * c] | font[7 + cnt + 2 * c] << 8) * nb
    cols = [int.from_bytes(font[o + k * nb:o + (k + 1) * nb], "little") for k in range(w)]
    rows = ["".join("#" if (cols[x] >> y) & 1 else "." for x in range(w)) for y in range(8 * nb)]
    while len(rows) > h and "#" not in rows[-1]:
        rows.pop()  # the rows below the font's height hold only descenders (g p q y)
    return rows


def test_small_font_decodes_to_its_art():
    from firmware.ui import glyphs

    for c in range(32, 128):
        assert "|".join(_rows(glyphs.SMALL, chr(c))) == gen_glyphs.SMALL_ART[chr(c)], chr(c)
    assert glyphs.SMALL[0] == 7 and glyphs.SMALL[4] == 96  # 7 high for layout; code 127, the degree ring


def test_letters_that_read_alike_differ():
    # 3x5: Q is not O, not @-like (the PQM tab); 5x7: g and q hang below the line, unlike 9
    from firmware.ui import glyphs

    assert _rows(glyphs.TINY, "Q") != _rows(glyphs.TINY, "O") and len(_rows(glyphs.TINY, "Q")[0]) == 4
    assert _rows(glyphs.TINY, "Q")[4][-1] == "#" and _rows(glyphs.TINY, "Q")[0][0] == "."  # the tail, bottom right
    nine = _rows(glyphs.SMALL, "9")
    for ch in "gqpy":
        r = _rows(glyphs.SMALL, ch)
        assert len(r) == 8 and "#" in r[7] and "#" not in r[0] + r[1] and r != nine, ch
    assert _rows(glyphs.SMALL, "g") != _rows(glyphs.SMALL, "q")


def test_seven_segment_digits():
    from firmware.ui import glyphs

    # the 11 px font drawn by hand: thin horizontal segments, two-pixel verticals
    assert _rows(glyphs.SEG_M, "8") == [".#####.", "##...##", "##...##", "##...##", "##...##", "#######",
                                        "##...##", "##...##", "##...##", "##...##", ".#####."]
    assert _rows(glyphs.SEG_M, "1") == ["......."] + [".....##"] * 9 + ["......."]
    assert _rows(glyphs.SEG_M, "-") == ["......."] * 5 + [".#####."] + ["......."] * 5
    for font in (glyphs.SEG_M, glyphs.SEG_L, glyphs.SEG_XL):
        w = font[6 + ord("0") - 32]
        assert all(font[6 + ord(d) - 32] == w for d in "0123456789")  # digits align in columns
        zero, eight = _rows(font, "0"), _rows(font, "8")
        mid = font[0] // 2
        assert zero[mid][0] == zero[mid][-1] == "#" and "." in zero[mid]  # 0: both sides, joined across the middle
        assert eight[mid] == "#" * w  # 8: a full bar
