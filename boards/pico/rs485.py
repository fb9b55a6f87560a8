# RS485 Modbus line on the Pico: machine.UART (inter-character timeout = t1.5) plus a DE pin, driven by the
# portable firmware.modbus.port.Port. Usage in main: port = rs485.attach(meter); loop: port.poll().
import time

from machine import UART, Pin

from boards.pico import pins
from firmware.modbus.port import Port

_PARITY = (None, 0, 1)  # machine.UART: None, 0 even, 1 odd (Port's 0 none, 1 even, 2 odd)
_RXBUF = 512  # two whole frames: a slow main loop loses nothing while it is busy with a metering window


class Rs485:
    def __init__(self, meter, cfg=pins.RS485):
        self.de = Pin(cfg["de"], Pin.OUT, value=0)  # receive until a reply is ready
        self.uart = UART(cfg["uart"], 9600, tx=Pin(cfg["tx"]), rx=Pin(cfg["rx"]), rxbuf=_RXBUF, txbuf=260,
                         timeout=0, timeout_char=2)
        self.port = Port(self.uart, self.de, meter.modbus, meter.tx, time.ticks_us, self._reinit,
                         meter.slave.counters)
        meter.on_serial = self.port.set_serial  # Meter.service() calls it after the reply to the change
        self.port.set_serial(meter.config.get("baud") * 100, meter.config.get("dATA"))
        self.poll = self.port.poll

    def _reinit(self, baud, parity, stop, tc_ms):
        # rp2 keeps timeout_char at least one 13-bit character: never shorter than asked here
        self.uart.init(baudrate=baud, bits=8, parity=_PARITY[parity], stop=stop, timeout=0, timeout_char=tc_ms)


def attach(meter):
    return Rs485(meter)
