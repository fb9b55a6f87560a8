# Voltage dips, swells and interruptions (issue 12) against a hand-made series of window RMS values: starts,
# ends with hysteresis, residual / maximum, duration, classification, counters; the window step heap-locked.
from array import array

import micropython

from firmware import regmap
from firmware.bufs import copy8
from firmware.clock import Clock
from firmware.pqevents import DIP, INTERRUPTION, SWELL, VoltageEvents

W = 1600  # samples per window


def test_dip_interruption_swell_heap_locked():
    vals = array("f", [0.0] * regmap.N_MEAS)
    clock = Clock(20260301, 120000)
    img = bytearray(2 * regmap.block_end())
    pq = VoltageEvents(vals, clock, img)
    pq.configure(0, 220, 1, 90, 110, 5, 2)  # dip < 198 V, ends >= 202.4; swell > 242, ends <= 237.6; int < 11 V
    # phase B's window RMS; A and C stay at 220 V
    ub = [220.0] * 6 + [200.0, 150.0, 100.0, 200.0, 203.0] + [5.0, 3.0, 220.0] + [245.0, 250.0, 238.0, 237.0, 220.0]
    series = array("f", ub)
    vals[0] = vals[2] = 220.0
    micropython.heap_lock()
    try:
        for i in range(len(ub)):
            copy8(vals, 4, series, 4 * i, 4)
            pq.window(W)
    finally:
        micropython.heap_unlock()
    got = pq.take()
    assert [(p, k, round(x, 1), d) for p, k, x, d, ymd, hms in got] == [
        (1, DIP, 100.0, 3 * W),  # 150, 100, 200: 200 < 202.4 still in the dip; 203 ends it
        (1, INTERRUPTION, 3.0, 2 * W),  # 5, 3: below 5 % of Un
        (1, SWELL, 250.0, 3 * W),  # 245, 250, 238 (> 237.6); 237 ends it
    ], got
    assert got[0][4:] == (20260301, 120000)
    assert list(pq.n) == [0, 1, 0, 0, 1, 0, 0, 1, 0]
    o = 2 * regmap.block("pq_n")[0]
    assert img[o + 4 * 1:o + 4 * 2] == b"\x00\x00\x00\x01" and img[o + 4 * 7:o + 4 * 8] == b"\x00\x00\x00\x01"
    assert pq.take() == []
