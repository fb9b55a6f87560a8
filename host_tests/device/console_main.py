# SPDX-License-Identifier: MIT
# A stand-in for board.run() that speaks the service console protocol of device mode (docs/device.md) without
# the meter: host_tests/test_sim_rp2040.py runs it with `--main` to check the console, keys, DI, relay and pulse
# outputs, RS485 framing by DE and the power-fail input on the emulated chip.
#   state          -> ={"keys": [...], "di": [0|1, 0|1], "relays": [...], "address": 1, "heap_free": N, ...}
#   set DO1|DO2 V  -> =ok (relay DO1/DO2 to V)      set PULSE N -> =ok (N pulses on PULSE_P, 1 ms high, 1 ms low)
#   lcd            -> =CONSOLE MAIN|line 2           anything else -> =ERR unknown command
# RS485: any frame gets the Modbus exception 01 reply (address, function | 0x80, 1, CRC), DE high around it.
# Power-fail input low: prints !bye and waits for the supply to go.
import gc
import json
import select
import sys
import time

from machine import UART, Pin

from boards.pico import pins

keys = {n: Pin(p, Pin.IN, Pin.PULL_UP) for n, p in pins.KEYS.items()}
inputs = [Pin(p, Pin.IN, Pin.PULL_UP) for p in pins.INPUTS]
relays = [Pin(p, Pin.OUT, value=0) for p in pins.RELAYS]
pulse = Pin(pins.PULSE_P, Pin.OUT, value=0)
power_fail = Pin(pins.POWER_FAIL, Pin.IN, Pin.PULL_UP)
uart = UART(0, 9600, tx=Pin(pins.RS485["tx"]), rx=Pin(pins.RS485["rx"]), timeout=0, timeout_char=2)
de = Pin(pins.RS485["de"], Pin.OUT, value=0)
pressed = []
last = {n: 1 for n in keys}  # noqa: C420  (runs on the chip: a plain comprehension)
frames = 0


def crc16(data):
    c = 0xFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return bytes([c & 0xFF, c >> 8])


def command(line):
    w = line.split()
    if w == ["state"]:
        return json.dumps({"keys": pressed, "di": [1 - p.value() for p in inputs], "address": 1,
                           "relays": [p.value() for p in relays], "frames": frames, "heap_free": gc.mem_free(),
                           "adc_frames_lost": 0, "adc_crc_errors": 0, "watchdog_resets": 0, "time_s": 0})
    if len(w) == 3 and w[0] == "set" and w[1] in ("DO1", "DO2"):
        relays[int(w[1][2]) - 1].value(int(w[2]))
        return "ok"
    if len(w) == 3 and w[0] == "set" and w[1] == "PULSE":
        for _ in range(int(w[2])):
            pulse.value(1)
            time.sleep_ms(1)
            pulse.value(0)
            time.sleep_ms(1)
        return "ok"
    if w == ["lcd"]:
        return "CONSOLE MAIN|line 2"
    return "ERR unknown command %r" % line


poll = select.poll()
poll.register(sys.stdin, select.POLLIN)
print("console_main: up")
print("READY")
line = ""
while True:
    if power_fail.value() == 0:
        print("!bye")
        while True:
            time.sleep_ms(100)
    for n, p in keys.items():
        v = p.value()
        if v == 0 and last[n] == 1:
            pressed.append(n)
        last[n] = v
    if uart.any():
        time.sleep_ms(5)  # the rest of the frame
        data = uart.read()
        frames += 1
        reply = bytes([data[0], (data[1] | 0x80) if len(data) > 1 else 0x80, 1])
        de.value(1)
        uart.write(reply + crc16(reply))
        uart.flush()
        de.value(0)
    if poll.poll(10):  # sleeps up to 10 ms when nothing comes: the core waits in WFE
        c = sys.stdin.read(1)
        if c == "\n":
            print("=" + command(line))
            line = ""
        elif c != "\r":
            line += c
