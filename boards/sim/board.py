# SPDX-License-Identifier: MIT
# The sim board's features, as data (like boards/pico/pins.py): no pins, the launcher plays the hardware.
# Samples, Modbus frames, keys and DIs arrive as messages on stdin; replies leave on stdout (docs/sim.md).
from firmware.modbus.codes import ADU_MAX

ARCH = "host"
BLOCK = 400  # samples per channel per `S` message: 50 ms at 8000 samples/s, like one DMA half-buffer
CHANNELS = 8  # Ua Ub Uc Ia Ib Ic In T, interleaved (docs/ARCHITECTURE.md, Samples)
RX_FRAME_MAX = ADU_MAX  # the RTU frame limit: a longer burst is a UART overrun: counted in FC08 0x12, dropped
INPUTS = 2  # DI1, DI2
RELAYS = 2  # DO1, DO2 (state shown by the firmware's state JSON)
LCD = "text"  # the display is read back as text (`C lcd`), not drawn
STORE = {"fs": "dir"}  # the simulated NOR flash (boards/sim/norflash.py): images in a host directory (argv[1])
