# SPDX-License-Identifier: MIT
# Window capture for the harmonic analysis (firmware/harmonics.py): each sample of 6 channels is spread, at its
# phase within the line cycle, onto a grid of 256 points per cycle (cubic B-spline weights) summed over the window.
#
# Why: a raw window is 6 x 1800 int16 (21.6 KB) and must be kept whole until it closes; the grid is 6 KB for any
# window length, filled block by block, and the FFT of one cycle of it gives the window's exact-order spectrum
# (the sum over C cycles folds bin h*C of the window onto bin h). The phase follows a step predicted from the
# previous windows (harmonics.py checks it against the window the sampler then measures). Edges: trapezoid rule
# at the fractional start and end (the sample before and after each edge takes part). Viper, allocation-free,
# the same words on 32- and 64-bit ports: phases wrap at 2**32 through WORD_MASK, sums stay below 2**31.
import micropython
from micropython import const

from firmware.words import SIGN_BIT, WORD_MASK

K = const(256)  # grid points per cycle: images of the fundamental at orders P +- 1 (P = samples per cycle) fold
#                 onto orders below 32 only through the kernel's far sidelobes (below 2e-5 of it at 45-65 Hz)
GRID = const(1536)  # 3 pairs x 256 complex (re, im): channel c at 512 * (c % 3) + (c // 3) + 2 k
# The capture's state follows the grid in the same buffer (so a kernel takes 2 arguments: viper keeps the first
# 3 locals of a function in registers on Thumb, and these should be the buffer, the block and the sample).
G_PH = const(1536)  # phase of the next sample to spread, 2**32 = one cycle
G_STEP = const(1537)  # phase step per sample
G_LEFT = const(1538)  # cycle boundaries left before the window's end
G_A = const(1539)  # spread(): first sample, G_B: end of the block (span())
G_B = const(1540)
G_X = const(1541)  # 1541..1546: one sample, reduced to 16 bits
G_LAST = const(1547)  # 1547..1552: the last sample of the previous block, reduced
WORDS = const(1553)


@micropython.viper
def keep(g: ptr32, blk: ptr32, n: int):
    """g[G_LAST..] = the block's last sample (n > 0), channels 0..5 reduced to 16 bits: an edge may need it."""
    h = int(SIGN_BIT)
    j = (n - 1) << 3
    c = 0
    while c < 6:
        g[1547 + c] = ((blk[j + c] ^ h) - h) >> 8
        c += 1


@micropython.viper
def _one(g: ptr32, blk: ptr32, i: int, u: int, wq: int):
    """Spread sample i of blk (i < 0: the kept last sample of the previous block) times wq / 2**15 at grid
    position u (Q15 grid points, 23 bits)."""
    h = int(SIGN_BIT)
    c = 0
    while c < 6:
        if i < 0:
            x = g[1547 + c]
            x = (x ^ h) - h
        else:
            x = ((blk[(i << 3) + c] ^ h) - h) >> 8
        g[1541 + c] = (x * wq + 16384) >> 15
        c += 1
    d = u & 0x7FFF
    k = (u >> 15) & 255
    e = 32768 - d
    d2 = (d * d) >> 15
    d3 = (d2 * d) >> 15
    e2 = (e * e) >> 15
    e3 = (e2 * e) >> 15
    w3 = (d3 * 21845) >> 17
    w0 = (e3 * 21845) >> 17
    w1 = 21845 - d2 + (d3 >> 1)
    w2 = 32768 - w0 - w1 - w3
    c = 0
    while c < 6:
        x = g[1541 + c]
        x = (x ^ h) - h
        o = c << 9  # Ua Ub Uc: the real parts of pairs 0..2; Ia Ib Ic: their imaginary parts
        if c >= 3:
            o = ((c - 3) << 9) + 1
        g[o + (((k - 1) & 255) << 1)] += (x * w0) >> 5
        g[o + (k << 1)] += (x * w1) >> 5
        g[o + (((k + 1) & 255) << 1)] += (x * w2) >> 5
        g[o + (((k + 2) & 255) << 1)] += (x * w3) >> 5
        c += 1


@micropython.viper
def _mulq15(a: int, b: int) -> int:
    """a * b / 2**15 (floor) for 0 <= b <= 2**15 and a below 2**31, in 32-bit words."""
    return (a >> 15) * b + (((a & 32767) * b) >> 15)


@micropython.viper
def start(g: ptr32, blk: ptr32, e: int, step: int, fe: int, cyc: int):
    """A window of cyc cycles opens at the crossing (e - 1) + fe / 2**15 (sample e of blk closed the sampler's
    window): clears the grid, spreads samples e - 1 and e with their trapezoid weights (1 - fe)**2 / 2 and
    1 - fe**2 / 2, and sets the phase of sample e + 1. step: the predicted phase step per sample."""
    m = int(WORD_MASK)
    k = 0
    while k < 1536:
        g[k] = 0
        k += 1
    a = 32768 - fe
    pe = int(_mulq15(step, a))  # phase of sample e (the crossing is phase 0), below 2**26
    pb = (pe - step) & m  # phase of sample e - 1 (before the crossing)
    _one(g, blk, e - 1, (pb >> 9) & 0x7FFFFF, (a * a + 32768) >> 16)
    _one(g, blk, e, pe >> 9, 32768 - ((fe * fe + 32768) >> 16))
    g[1536] = pe + step
    g[1537] = step
    g[1538] = cyc


@micropython.viper
def finish(g: ptr32, blk: ptr32, j: int):
    """The window ends between samples j - 1 and j (G_LEFT reached 0 at sample j; j = 0: sample j - 1 is the
    kept last sample of the previous block): sample j - 1, spread with weight 1, takes -eps**2 / 2 more, sample
    j (eps / 2**15 past the end, by phase) spreads with (1 - eps)**2 / 2."""
    m = int(WORD_MASK)
    ph = g[1536] & m  # phase of sample j: in [0, step)
    step = g[1537]
    eps = ((ph >> 10) << 15) // (step >> 10)
    if eps > 32768:
        eps = 32768
    b = 32768 - eps
    pa = (ph - step) & m
    _one(g, blk, j - 1, (pa >> 9) & 0x7FFFFF, 0 - ((eps * eps + 32768) >> 16))
    _one(g, blk, j, ph >> 9, (b * b + 32768) >> 16)


@micropython.viper
def span(g: ptr32, a: int, b: int):
    """The samples a..b-1 of the next block are spread()'s."""
    g[1539] = a
    g[1540] = b


@micropython.viper
def spread(g: ptr32, blk: ptr32) -> int:
    """Spread samples G_A..G_B-1 of blk (see span(); weight 1) onto the grid until the window's end: returns
    the first sample past the end (G_LEFT is then 0), or G_B. Per sample: 4 cubic B-spline weights from the phase's
    fraction of a grid step (Q15), then 4 products per channel. Samples reduced by >> 8 (floor: its bias is
    DC, which no order sees); every sum stays below 2**29 (~10 samples per grid point per window)."""
    x = 0  # the third local: a register on Thumb
    m = int(WORD_MASK)
    h = int(SIGN_BIT)
    ph = g[1536] & m
    step = g[1537]
    left = g[1538]
    i = g[1539]
    b = g[1540]
    while i < b:
        if left == 0:
            break
        u = (ph >> 9) & 0x7FFFFF  # grid position: 8 bits of grid point, 15 of fraction
        d = u & 0x7FFF
        k = u >> 15
        e = 32768 - d
        d2 = (d * d) >> 15
        d3 = (d2 * d) >> 15
        e2 = (e * e) >> 15
        e3 = (e2 * e) >> 15
        w3 = (d3 * 21845) >> 17  # d**3 / 6
        w0 = (e3 * 21845) >> 17  # (1 - d)**3 / 6
        w1 = 21845 - d2 + (d3 >> 1)  # 2/3 - d**2 + d**3 / 2
        w2 = 32768 - w0 - w1 - w3  # the weights sum to 1 exactly
        i0 = ((k - 1) & 255) << 1
        i1 = k << 1
        i2 = ((k + 1) & 255) << 1
        i3 = ((k + 2) & 255) << 1
        j = i << 3
        x = ((blk[j] ^ h) - h) >> 8
        g[i0] += (x * w0) >> 5
        g[i1] += (x * w1) >> 5
        g[i2] += (x * w2) >> 5
        g[i3] += (x * w3) >> 5
        x = ((blk[j + 1] ^ h) - h) >> 8
        g[i0 + 512] += (x * w0) >> 5
        g[i1 + 512] += (x * w1) >> 5
        g[i2 + 512] += (x * w2) >> 5
        g[i3 + 512] += (x * w3) >> 5
        x = ((blk[j + 2] ^ h) - h) >> 8
        g[i0 + 1024] += (x * w0) >> 5
        g[i1 + 1024] += (x * w1) >> 5
        g[i2 + 1024] += (x * w2) >> 5
        g[i3 + 1024] += (x * w3) >> 5
        x = ((blk[j + 3] ^ h) - h) >> 8
        g[i0 + 1] += (x * w0) >> 5
        g[i1 + 1] += (x * w1) >> 5
        g[i2 + 1] += (x * w2) >> 5
        g[i3 + 1] += (x * w3) >> 5
        x = ((blk[j + 4] ^ h) - h) >> 8
        g[i0 + 513] += (x * w0) >> 5
        g[i1 + 513] += (x * w1) >> 5
        g[i2 + 513] += (x * w2) >> 5
        g[i3 + 513] += (x * w3) >> 5
        x = ((blk[j + 5] ^ h) - h) >> 8
        g[i0 + 1025] += (x * w0) >> 5
        g[i1 + 1025] += (x * w1) >> 5
        g[i2 + 1025] += (x * w2) >> 5
        g[i3 + 1025] += (x * w3) >> 5
        p = (ph + step) & m
        if uint(p) < uint(ph):
            left -= 1
        ph = p
        i += 1
    g[1536] = ph
    g[1538] = left
    return i
