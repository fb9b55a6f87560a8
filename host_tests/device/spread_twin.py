# SPDX-License-Identifier: MIT
# Guest script (host_tests/test_grid_thumb.py): the harmonics capture's spreading loop over crafted states and
# samples, each case's result, phase, cycles left and a digest of the whole grid printed. On the emulated RP2040
# it runs the Thumb-1 kernel (boards/pico/grid_thumb.py, and prints its cycles per sample); on the unix port the
# viper twin (firmware/harmonics_grid.py). Same lines on both = the same grid words, bit for bit. Integers only.
import sys

sys.path.insert(0, ".")
from array import array

import micropython

from firmware import harmonics_grid
from firmware.harmonics_grid import GRID, WORDS
from firmware.words import WORD_MASK

ON_CHIP = sys.platform == "rp2"
BLK = 400
STEP60 = 32212254  # 2**32 * 60 / 8000: the phase step per sample at 60 Hz
STEPS = (STEP60, 24159191, 34896610, 34918433, 24128869)  # 60, 45, 65 Hz; 123 and 178 samples per cycle
TOP = 1 << 32


@micropython.viper
def lcg(st: ptr32) -> int:
    """The next 31-bit value of a linear congruential generator kept in st[0] (the same bits on 32 and 64
    bits: only the low 31 bits of the product are kept)."""
    m31 = 31
    m31 = (1 << m31) - 1  # 2**31 - 1 made at run time: as a literal it is an object in viper on the chip
    s = (st[0] * 48271 + 12345) & m31
    st[0] = s
    return s


@micropython.viper
def fill(blk: ptr32, n: int, st: ptr32, mode: int):
    """n samples x 8 channels: mode 0 random 24-bit codes, 1 full scale +, 2 full scale -, 3 alternating."""
    i = 0
    while i < 8 * n:
        if mode == 0:
            x = ((int(lcg(st)) >> 7) & 0xFFFFFF) - 0x800000
        elif mode == 1:
            x = 0x7FFFFF
        elif mode == 2:
            x = -0x800000
        else:
            x = 0x7FFFFF if (i >> 3) & 1 else -0x800000
        blk[i] = x
        i += 1


@micropython.viper
def noise(g: ptr32, n: int, st: ptr32):
    """Random 32-bit words in the grid (the sums wrap at 2**32 as on the chip); the generator's high bits only."""
    k = 0
    while k < n:
        g[k] = (int(lcg(st)) << 8) ^ (int(lcg(st)) >> 12)
        k += 1


@micropython.viper
def digest(g: ptr32, n: int) -> int:
    """h = h * 31 + word over the grid, modulo 2**32 (any one word changed changes it)."""
    m = int(WORD_MASK)
    h = 0
    k = 0
    while k < n:
        h = (h * 31 + g[k]) & m
        k += 1
    return h


@micropython.viper
def cycles() -> int:
    """The emulator's cycle counter (low 30 bits: a small int); 0 off the chip."""
    if not ON_CHIP:
        return 0
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)  # 0x40068000, the emulator's host port
    return p[0] & 0x3FFFFFFF


def word(v):
    """v modulo 2**32 as a signed word (what array('i') takes)."""
    v %= TOP
    return v - TOP if v >= TOP // 2 else v


def setstate(g, ph, step, left, a, b):
    g[1536] = word(ph)
    g[1537] = word(step)
    g[1538] = left
    g[1539] = a
    g[1540] = b


def show(name, g, j):
    print("C %s j=%d ph=%08x left=%d grid=%08x" % (name, j, g[1536] & 0xFFFFFFFF, g[1538],
                                                   digest(g, GRID) & 0xFFFFFFFF))


def run(spread):
    g = array("i", bytes(4 * WORDS))
    blk = array("i", bytes(32 * BLK))
    rng = array("i", [12345])
    cyc = 0

    def case(name, ph, step, left, a, b, mode=0, grid=True):
        nonlocal cyc
        if grid:
            noise(g, GRID, rng)
        else:
            for k in range(GRID):
                g[k] = 0
        fill(blk, BLK, rng, mode)
        setstate(g, ph, step, left, a, b)
        micropython.heap_lock()
        try:
            t0 = cycles()
            j = spread(g, blk)
            t = (cycles() - t0) & 0x3FFFFFFF
        finally:
            micropython.heap_unlock()
        if name == "block":
            cyc = t
        show(name, g, j)

    case("block", 0, STEP60, 100, 0, BLK, grid=False)  # a whole block, mid-window (timed)
    for s in STEPS:
        case("step%d" % s, 123456789, s, 30, 0, BLK)
    case("wrap-end", TOP - 3 * STEP60 + 7, STEP60, 1, 5, BLK)  # the window ends after 3 samples
    case("left0", 99, STEP60, 0, 0, BLK)  # nothing left: returns a, changes nothing
    case("empty", 99, STEP60, 3, 17, 17)
    case("a>b", 99, STEP60, 3, 20, 17)
    case("one", 0x7FFFFFFF, STEP60, 3, BLK - 1, BLK)
    case("end-at-b", TOP - 10 * STEP60 + 1, STEP60, 1, BLK - 10, BLK)  # left reaches 0 at the last sample
    case("end-past-b", TOP - 10 * STEP60, STEP60, 1, BLK - 10, BLK)  # ... exactly on it: wraps at sample b
    case("first", TOP - 1, STEP60, 1, 0, BLK)  # the first sample crosses the end
    # the grid's wrap: points k - 1 .. k + 2 around 255/0, fractions 0, 1/2 and the largest
    for ph in (0, 0xFF000000, 0xFE000000, 0xFEFFFFFF, 0xFFFFFFFF, 0xFF7FFE00, 0x00FFFFFF, 0x00800000, 0x01000000):
        case("k%08x" % ph, ph, 1, 2, 0, 64)  # step 1: 64 samples on the same points
        case("k%08x-" % ph, ph, TOP - 1 if ph else 1, 5, 0, 3)  # step 2**32 - 1: a boundary every sample
    for mode in (1, 2, 3):  # full-scale samples: the largest products
        case("full%d" % mode, 0x13579BDF, STEP60, 50, 0, BLK, mode)
        case("full%d-w" % mode, 0xFF7FFE00, 1, 2, 0, BLK, mode)
    # a capture across blocks of many sizes, as Harmonics.feed calls it: 12 cycles from a phase near the end
    setstate(g, 0xF0000000, STEPS[3], 12, 0, 0)
    noise(g, GRID, rng)
    for n in (1, 400, 7, 33, 64, 1, 250, 333, 2, 399, 400, 400, 400):
        fill(blk, n, rng, 0)
        g[1539] = 0
        g[1540] = n
        micropython.heap_lock()
        j = spread(g, blk)
        micropython.heap_unlock()
        show("chain%d" % n, g, j)
    return cyc


if ON_CHIP:
    from boards.pico import grid_thumb

    c = run(grid_thumb.spread)
    print("CYCLES %d per sample (spread, %d samples)" % (c // BLK, BLK))
else:
    run(harmonics_grid.spread)
print("END")
