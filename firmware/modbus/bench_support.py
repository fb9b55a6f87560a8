# SPDX-License-Identifier: MIT
# Measurement helpers for the Modbus benchmark (tools/bench_modbus.py, make bench): handling time and bytes
# allocated per FC03 x 125 request through the real Meter path. Not used by the firmware at run time.
import gc
import time

import micropython

from firmware import regmap
from firmware.modbus.codes import READ_HOLDING_REGISTERS
from firmware.modbus.crc import crc16


def fc03_request(address=1, start=regmap.MEAS_BASE, count=125):
    """The request frame (bytearray, CRC appended)."""
    r = bytearray([address, READ_HOLDING_REGISTERS, start >> 8, start & 0xFF, count >> 8, count & 0xFF, 0, 0])
    c = crc16(r, 0, 6)
    r[6] = c & 0xFF
    r[7] = c >> 8
    return r


def _now_us():
    if hasattr(time, "ticks_us"):
        return time.ticks_us()
    return time.perf_counter_ns() // 1000


def _elapsed_us(t0, t1):
    if hasattr(time, "ticks_diff"):
        return time.ticks_diff(t1, t0)
    return t1 - t0


def measure(handle, frame, n=None, requests=500, rounds=7):
    """Time and heap cost of handle(frame, n) (Meter.modbus or Slave.handle).

    Returns a dict: us (best round, microseconds per request), us_median, bytes (per request, from
    gc.mem_alloc with the collector off; None on CPython), heap_locked (True when one call ran under
    micropython.heap_lock without MemoryError), reply (length of the reply)."""
    if n is None:
        n = len(frame)
    reply = handle(frame, n)
    locked = True
    try:
        micropython.heap_lock()
        try:
            handle(frame, n)
        finally:
            micropython.heap_unlock()
    except MemoryError:
        locked = False
    per = None
    if hasattr(gc, "mem_alloc"):
        gc.collect()
        gc.disable()
        a = gc.mem_alloc()
        for _ in range(requests):
            handle(frame, n)
        per = (gc.mem_alloc() - a) / requests
        gc.enable()
    times = []
    for _ in range(rounds):
        gc.collect()
        t0 = _now_us()
        for _ in range(requests):
            handle(frame, n)
        times.append(_elapsed_us(t0, _now_us()) / requests)
    times.sort()
    return {"us": times[0], "us_median": times[len(times) // 2], "bytes": per, "heap_locked": locked,
            "reply": reply}


def fc03_125(meter=None, requests=500, rounds=7):
    """FC03 x 125 registers from MEAS_BASE (the measurements) through Meter.modbus (a fresh Meter unless one is given)."""
    if meter is None:
        from firmware.meter import Meter

        meter = Meter(None)
    return measure(meter.modbus, fc03_request(meter.slave.address), None, requests, rounds)


if __name__ == "__main__":
    r = fc03_125()
    print("FC03 x 125: %.1f us/request (median %.1f), %s bytes/request, heap-locked %s, reply %d bytes"
          % (r["us"], r["us_median"], r["bytes"], r["heap_locked"], r["reply"]))
