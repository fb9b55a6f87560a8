# SPDX-License-Identifier: MIT
# What the one-cycle RMS (firmware/cyclerms.py) and the dip/swell/interruption detector (firmware/pqevents.py)
# cost on the RP2040, on generated samples in the board's 80-sample blocks (10 ms: 100 blocks a second):
#   python3 -m tools.emu run tools/bench_device_cycle.py --scenario default
# Cycles per block of Sampler.feed without and with the half-cycle stops (Thumb-1 span kernel, as the pico board
# runs it, and the viper one, as the ESP32 runs it), of VoltageEvents.poll() after each block, and of
# VoltageEvents.window() (the levels, once per metered window). A guest script (the emulator's host port gives
# cycles and samples); every call heap-locked.
import machine
import micropython
import uctypes
from array import array

from boards.pico import kernel_thumb
from firmware import kernel_span
from firmware import workspace as ws
from firmware.clock import Clock
from firmware.cyclerms import C_POLL, CycleRms
from firmware.kernel import D_READY
from firmware.pqevents import VoltageEvents
from firmware.sampler import Sampler

_PORT = 0x40068000  # emulator host port: +0 cycles (low word), +0x18 sample buffer, +0x1C fill N samples
SAMPLES = 4800  # 0.6 s of signal in one piece (150 KB)
BLOCK = 80
CORE_HZ = 125000000
BLOCKS_S = 100


@micropython.viper
def cycles() -> int:
    """Low 30 bits of the cycle counter: a small int (machine.mem32 would make a big one, an allocation)."""
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)
    return p[0] & 0x3FFFFFFF


def _drop(s):
    s.done[D_READY] = 0


def run(name, span, with_cycle, with_pq, blocks, ovh):
    cyc = CycleRms() if with_cycle else None
    s = Sampler(span=span, cycle=cyc)
    s.on_window = _drop
    pq = None
    if with_pq:
        w = array("f", bytes(4 * ws.SIZE))  # metering's scale: 1000 V / 2**15 a code, no calibration
        for k in range(3):
            w[ws.KU + k] = 1000.0 / 32768
            w[ws.G2 + k] = 1.0
            w[ws.GX + k] = 2.0
        for k in range(10):
            w[ws.FK + k] = 1.0
        pq = VoltageEvents(cyc, w, Clock(20260301, 120000))
        pq.configure(0, 220, 1, 90, 110, 5, 2)
        for k in range(4):
            pq.window()  # armed
    feed = 0
    poll = 0
    for blk in blocks:
        micropython.heap_lock()
        t0 = cycles()
        s.feed(blk, BLOCK)
        t1 = cycles()
        if pq is not None and cyc.cs[C_POLL]:  # as Meter.feed does
            pq.poll()
        t2 = cycles()
        micropython.heap_unlock()
        feed += ((t1 - t0) & 0x3FFFFFFF) - ovh
        poll += ((t2 - t1) & 0x3FFFFFFF) - ovh
    nb = len(blocks)
    print("%-28s feed %6d cycles per block (%5.2f %% of the core at %d blocks/s)" % (
        name, feed // nb, 100.0 * feed / nb * BLOCKS_S / CORE_HZ, BLOCKS_S))
    if pq is not None:
        print("%-28s poll %6d cycles per block (%5.2f %%), %d events ended" % (
            "", poll // nb, 100.0 * poll / nb * BLOCKS_S / CORE_HZ, pq.queued + pq.lost()))
        micropython.heap_lock()
        t0 = cycles()
        pq._refresh()
        t1 = cycles()
        for k in range(10):
            pq.window()
        t2 = cycles()
        micropython.heap_unlock()
        r = (t1 - t0) & 0x3FFFFFFF
        print("%-28s levels %d cycles (%.2f ms), window() %d cycles on average (5 a second: %.3f %%)" % (
            "", r, r / 125000.0, ((t2 - t1) & 0x3FFFFFFF) // 10, 100.0 * ((t2 - t1) & 0x3FFFFFFF) / 10 * 5 / CORE_HZ))
    return feed // nb


def main():
    big = bytearray(32 * SAMPLES)
    at = uctypes.addressof(big)
    for k in range(0, SAMPLES, 400):
        machine.mem32[_PORT + 0x18] = at + 32 * k
        machine.mem32[_PORT + 0x1C] = 400  # the host's generator fills them (the scenario given to tools.emu)
    ovh = cycles()
    ovh = (cycles() - ovh) & 0x3FFFFFFF
    mv = memoryview(big)
    blocks = [mv[32 * k:32 * (k + BLOCK)] for k in range(0, SAMPLES, BLOCK)]
    print("one-cycle RMS benchmark: %d blocks of %d samples" % (len(blocks), BLOCK))
    a = run("thumb span, no half cycles", kernel_thumb, False, False, blocks, ovh)
    b = run("thumb span, half cycles", kernel_thumb, True, False, blocks, ovh)
    run("thumb span, half cycles + pq", kernel_thumb, True, True, blocks, ovh)
    c = run("viper span, no half cycles", kernel_span, False, False, blocks, ovh)
    d = run("viper span, half cycles", kernel_span, True, False, blocks, ovh)
    print("half-cycle stops cost %d cycles per block with the Thumb-1 span (%.2f %% of the core), %d with the viper"
          " span" % (b - a, 100.0 * (b - a) * BLOCKS_S / CORE_HZ, d - c))


main()
