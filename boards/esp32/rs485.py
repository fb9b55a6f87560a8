# SPDX-License-Identifier: MIT
# RS485 Modbus line on the ESP32: machine.UART (inter-character timeout = t1.5) plus a DE pin, driven by the
# portable firmware.modbus.port.Port. Usage in main: port = rs485.attach(meter); loop: port.poll().
import time

from machine import UART, Pin

from boards.esp32 import pins
from firmware.modbus.port import UartLine


class Rs485(UartLine):
    """The common UartLine (firmware/modbus/port.py) on this board's pins.RS485."""

    def __init__(self, meter, cfg=pins.RS485):
        UartLine.__init__(self, meter, UART, Pin, cfg, time.ticks_us)


def attach(meter):
    return Rs485(meter)
