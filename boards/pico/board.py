# The Pico board: builds the meter from this board's parts (store partition, RS485 line) and runs its main loop.
# main.py calls run(); the device benchmarks and tests call make_meter() to get the meter exactly as it boots.
from micropython import const

from boards.pico import pins

# The main loop's schedule, in ADC blocks (the DMA ring's blocks of BLOCK samples: 10 ms at 8000 samples/s).
# Every block: Meter.feed. Python work that needs no sample rate runs less often: on the RP2040 each Python call
# costs thousands of cycles, and settings, saves and the UI's timers need no 10 ms resolution.
BLOCK = const(80)
SERVICE_BLOCKS = const(10)  # Meter.service and Meter.tick every 100 ms: a setting written over Modbus applies then
LCD_BLOCKS = const(50)  # the display redrawn twice a second
GC_BLOCKS = const(200)  # gc.collect every 2 s: garbage never piles up into one long collection


def store_partition():
    """The raw flash partition of the meter's record store (pins.STORE): rp2.Flash, a block device with the
    extended protocol (readblocks/writeblocks with an offset, ioctl 6 erases one 4 KiB block)."""
    import rp2

    return rp2.Flash(start=pins.STORE["start"], len=pins.STORE["len"])


def make_meter():
    """The meter as the board builds it at power-up: its sampler runs the Thumb-1 span kernel (the viper twin,
    firmware/kernel_span.py, is 15 times slower on the M0+; same sums, bit for bit) and its harmonics capture
    the Thumb-1 spreading loop (boards/pico/grid_thumb.py; twin: firmware/harmonics_grid.py)."""
    from boards.pico import grid_thumb, kernel_thumb
    from firmware.meter import Meter

    return Meter(store_partition(), span=kernel_thumb, spread=grid_thumb)


def run():
    from boards.pico import rs485

    meter = make_meter()
    port = rs485.attach(meter)
    print("KPM53 firmware on", pins.ARCH, "ready")
    while True:  # ADC, LCD and key drivers arrive with their issue; until then: Modbus
        port.poll()
        meter.service()
