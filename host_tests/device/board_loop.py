# SPDX-License-Identifier: MIT
# Guest script (emulated RP2040, service mode, ADS131M08 model): the board's main loop as main.py runs it, for
# 3 s of simulated time, then the register image's measurements and the board's figures.
import json
import time

from boards.pico import board

import machine

b = board.Board()
t0 = time.ticks_ms()
c0 = machine.mem32[0x40068000]
u0 = machine.mem32[0x40068010]
steps = 0
while time.ticks_diff(time.ticks_ms(), t0) < 3000:
    steps += 1
    b.step()
    if b.ring.filled == b.ring.used:
        board.wfi()
dc = (machine.mem32[0x40068000] - c0) & 0xFFFFFFFF
du = (machine.mem32[0x40068010] - u0) & 0xFFFFFFFF
print("CPU %.1f %% of 125 MHz over %d ms, %d passes of the loop, %d blocks" % (
    dc / (du * 125.0) * 100, du // 1000, steps, b.blocks))
m = b.meter
m.settle()
d = m.state()
d.update(b.figures())
print("STATE " + json.dumps(d))
print("VALS " + " ".join("%.3f" % m.vals[k] for k in range(12)))
