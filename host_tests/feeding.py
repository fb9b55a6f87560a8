# SPDX-License-Identifier: MIT
# Drives an in-process Meter (CPython tests): a generator's samples fed in 400-sample blocks, with the meter's
# service() after each block as the main loop would call it.
from array import array


def feed(m, gen, seconds):
    blk = gen.block_array(int(seconds * 8000))
    flat = array("i", blk.reshape(-1).tolist())
    for a in range(0, len(blk), 400):
        m.feed(flat[8 * a:8 * (a + 400)], 400)
        m.service()
