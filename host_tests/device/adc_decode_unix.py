# SPDX-License-Identifier: MIT
# Unix-port guest: firmware.adc_frames.decode on frames from stdin (hex, one block a line) -> its result and sum.
import sys
from array import array

sys.path.insert(0, ".")

import micropython

from firmware import adc_frames, tables

out = array("i", bytes(4 * 8 * 80))
for line in sys.stdin:
    raw = bytes.fromhex(line.strip())
    n = len(raw) // 30
    micropython.heap_lock()
    r = adc_frames.decode(raw, n, out, tables.CRC16_CCITT)
    micropython.heap_unlock()
    print(r >> 16, r & 0xFFFF, " ".join(str(out[k]) for k in range(8 * n)))
