# SPDX-License-Identifier: MIT
# Guest script (python -m tools.emu run tools/emu/bench_harmonics.py --scenario harmonics_60): Sampler + Harmonics
# (with the board's Thumb-1 spreading kernel, boards/pico/grid_thumb.py)
# on the emulated RP2040 with samples from the host's generator; prints the cycles harmonics costs per second of
# signal, the longest single feed() call, heap use and the values of the last update.
import gc
import machine
from array import array

import uctypes

from firmware import regmap
from firmware.harmonics import Harmonics
from firmware.sampler import Sampler

BLOCK = 400  # samples per block (50 ms at 8000 sps, a DMA half-buffer)
SECONDS = 4


def cyc():
    return machine.mem32[0x40068000] & 0xFFFFFFFF


gc.collect()
free0 = gc.mem_free()
s = Sampler()
vals = array("f", bytes(4 * regmap.N_MEAS))
image = bytearray(2 * regmap.block_end())
gc.collect()
free1 = gc.mem_free()
from boards.pico import grid_thumb  # noqa: E402  (the board's spreading kernel)

h = Harmonics(vals, s, image, spread=grid_thumb)
gc.collect()
free2 = gc.mem_free()
blk = array("i", bytes(32 * BLOCK))
machine.mem32[0x40068018] = uctypes.addressof(blk)


def fill():
    machine.mem32[0x4006801C] = BLOCK


for i in range(20):  # one second to synchronise
    fill()
    h.feed(blk, BLOCK, s.feed(blk, BLOCK))
t_s = t_h = worst = 0
u0 = h.updates
for i in range(SECONDS * 8000 // BLOCK):
    fill()
    c0 = cyc()
    d = s.feed(blk, BLOCK)
    c1 = cyc()
    h.feed(blk, BLOCK, d)
    c2 = cyc()
    t_s += (c1 - c0) & 0xFFFFFFFF
    t = (c2 - c1) & 0xFFFFFFFF
    t_h += t
    if t > worst:
        worst = t
print("harmonics: %d cycles per second of signal = %.2f %% of 125 MHz; longest feed %d cycles = %.2f ms; %d updates"
      % (t_h // SECONDS, t_h / SECONDS / 1.25e6, worst, worst / 125000, h.updates - u0))
print("sampler:   %d cycles per second = %.2f %%" % (t_s // SECONDS, t_s / SECONDS / 1.25e6))
print("heap: Harmonics %d B (free before %d, after %d)" % (free1 - free2, free1, free2))
print("THD", ["%.3f" % vals[regmap.slot("THD_" + c)] for c in ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")])
print("HR Ua 3,5,7 / Ia 3,5,31", ["%.3f" % h.hr[k] for k in (1, 3, 5, 91, 93, 119)])
print("dropped", getattr(h, "dropped", 0))
print("UNB", vals[regmap.slot("UNB_U")], vals[regmap.slot("UNB_I")])
