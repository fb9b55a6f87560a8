# SPDX-License-Identifier: MIT
# Runs on the emulated RP2040 (samples from the host port) and on the unix port (samples from a file), with the
# same PARAMS prepended: builds the meter, feeds the same samples, prints the heap figures and the register image
# (host_tests/test_device.py compares the two images byte for byte).
import gc
import sys
from array import array

from binascii import hexlify

P = PARAMS  # noqa: F821  (prepended by the host)
BLOCK = P["block"]
gc.collect()
free0 = gc.mem_free()
chip = sys.platform == "rp2"
if chip:
    import machine
    import uctypes

    from boards.pico import board

    gc.collect()
    print("R imports free=%d" % gc.mem_free())
    meter = board.make_meter()
else:
    from firmware.meter import Meter

    meter = Meter(None)
gc.collect()
print("R built free=%d held=%d" % (gc.mem_free(), free0 - gc.mem_free()))
for name, value in P["settings"]:
    meter.set(name, value)
buf = array("i", bytes(32 * BLOCK))
src = None
if chip:
    machine.mem32[0x40068018] = uctypes.addressof(buf)
else:
    src = open(P["samples"], "rb")
low = gc.mem_free()
for b in range(P["blocks"]):
    if chip:
        machine.mem32[0x4006801C] = BLOCK
    else:
        src.readinto(buf)
    meter.feed(buf, BLOCK)
    meter.service()
    if b % 25 == 0:
        gc.collect()
        f = gc.mem_free()
        if f < low:
            low = f
print("R run windows=%d free_min=%d" % (meter.windows, low))
img = meter.regs.image
for a in range(0, len(img), 128):
    print("R image %d %s" % (a, hexlify(img[a:a + 128]).decode()))
