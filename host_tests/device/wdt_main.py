# SPDX-License-Identifier: MIT
# A stand-in main loop for the watchdog reset in device mode (host_tests/test_sim_rp2040.py): a 500 ms WDT fed until
# "set HANG 1"; state answers the reset cause and a boot count kept in watchdog scratch register 0 (kept by a reset).
import json
import select
import sys
import time

import machine
from machine import UART, WDT, Pin

from boards.pico import pins

uart = UART(0, 9600, tx=Pin(pins.RS485["tx"]), rx=Pin(pins.RS485["rx"]), timeout=0, timeout_char=2)
de = Pin(pins.RS485["de"], Pin.OUT, value=0)
pf = Pin(pins.POWER_FAIL, Pin.IN, Pin.PULL_UP)
cause = machine.reset_cause()
s0 = machine.mem32[0x4005800C]
wdt = WDT(timeout=500)
poll = select.poll()
poll.register(sys.stdin, select.POLLIN)
print("wdt_main: cause", cause, "scratch0", s0)
machine.mem32[0x4005800C] = s0 + 1
print("READY")
line = ""
hang = False
while True:
    if not hang:
        wdt.feed()
    if pf.value() == 0:
        print("!bye")
        while True:
            time.sleep_ms(100)
    if uart.any():  # any request: exception 01 (the launcher's probe wants an answer); CRC not checked by it
        time.sleep_ms(5)
        data = uart.read()
        de.value(1)
        uart.write(bytes([data[0], 0x83, 1, 0, 0]))
        uart.flush()
        de.value(0)
    if poll.poll(10):
        c = sys.stdin.read(1)
        if c == "\n":
            if line == "state":
                print("=" + json.dumps({"cause": cause, "boots": s0 + 1, "address": 1}))
            elif line == "set HANG 1":
                hang = True
                print("=ok")
            else:
                print("=ERR ?")
            line = ""
        else:
            line += c
