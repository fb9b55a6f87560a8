# Boot entry of the Pico image (frozen as main.py): builds the meter and serves Modbus on RS485.
# Hold ENTER while powering up to stay at the REPL instead (service mode: mpremote, the emulator's scripts).
from machine import Pin

from boards.pico import pins


def service_mode():
    """True while ENTER (active low, pull-up) is held at power-up."""
    return Pin(pins.KEYS["enter"], Pin.IN, Pin.PULL_UP).value() == 0


def start():
    from boards.pico import rs485
    from firmware.meter import Meter

    meter = Meter("/")
    port = rs485.attach(meter)
    print("KPM53 firmware on", pins.ARCH, "ready")
    while True:  # ADC, LCD and key drivers arrive with their issue; until then: Modbus
        port.poll()
        meter.service()


if service_mode():
    print("service mode (ENTER held at power-up): REPL")
else:
    start()
