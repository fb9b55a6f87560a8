# The Pico board: builds the meter from this board's parts (store partition, RS485 line) and runs its main loop.
# main.py calls run(); the device benchmarks and tests call make_meter() to get the meter exactly as it boots.
from boards.pico import pins


def store_partition():
    """The raw flash partition of the meter's record store (pins.STORE): rp2.Flash, a block device with the
    extended protocol (readblocks/writeblocks with an offset, ioctl 6 erases one 4 KiB block)."""
    import rp2

    return rp2.Flash(start=pins.STORE["start"], len=pins.STORE["len"])


def make_meter():
    """The meter as the board builds it at power-up."""
    from firmware.meter import Meter

    return Meter(store_partition())


def run():
    from boards.pico import rs485

    meter = make_meter()
    port = rs485.attach(meter)
    print("KPM53 firmware on", pins.ARCH, "ready")
    while True:  # ADC, LCD and key drivers arrive with their issue; until then: Modbus
        port.poll()
        meter.service()
