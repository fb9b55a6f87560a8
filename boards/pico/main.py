# SPDX-License-Identifier: MIT
# Boot entry of the Pico image (frozen as main.py): runs the meter.
# Hold ENTER while powering up to stay at the REPL instead (service mode: mpremote, the emulator's scripts).
from machine import Pin

from boards.pico import pins

if Pin(pins.KEYS["enter"], Pin.IN, Pin.PULL_UP).value() == 0:
    print("service mode (ENTER held at power-up): REPL")
else:
    from boards.pico import board

    board.run()
