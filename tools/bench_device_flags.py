# SPDX-License-Identifier: MIT
# Cycles of the per-window input flags (firmware/inputflags.py) on the RP2040: one window's update and its STATUS
# rows, without and with channels over range (counters published):
#   python3 -m tools.emu run tools/bench_device_flags.py
# A guest script (the emulator's host port gives cycles).
import gc
from array import array

import micropython

from firmware import regmap
from firmware.inputflags import InputFlags
from firmware.kernel import D_SAT, D_SIZE

CORE_HZ = 125000000


@micropython.viper
def cycles() -> int:
    """Low 30 bits of the cycle counter (the emulator's host port at 0x40068000)."""
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)
    return p[0] & 0x3FFFFFFF


def main():
    img = bytearray(2 * regmap.block_end())
    gc.collect()
    f0 = gc.mem_free()
    fl = InputFlags(img)
    gc.collect()
    print("InputFlags: %d bytes of heap" % (f0 - gc.mem_free()))
    vals = array("f", [0.0] * regmap.N_MEAS)
    for k in range(3):
        vals[regmap.slot("Ia") + k] = 5.0
        vals[regmap.slot("Ua") + k] = 220.0
    dn = array("i", [0] * D_SIZE)
    for sat in (0, 0x38):
        dn[D_SAT] = sat
        n = 20
        micropython.heap_lock()
        t = cycles()
        for j in range(n):
            fl.window(dn, vals, 0, 1, 1)
            fl.put_status()
        t = (cycles() - t) & 0x3FFFFFFF
        micropython.heap_unlock()
        print("OVR %#04x: %d cycles per window (%.1f us)" % (sat, t // n, t / n / (CORE_HZ / 1e6)))


main()
