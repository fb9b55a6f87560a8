# SPDX-License-Identifier: MIT
# Frozen manifest of the Pico firmware image (tools/firmware.py). Frozen modules keep bytecode and constant
# bytes/str in flash: the heap is left for the running meter.
# The rp2 port's own manifest (ports/rp2/boards/manifest.py) freezes its modules/ (_boot.py, _boot_fat.py, rp2.py),
# asyncio and four sensor drivers. This image takes its rp2.py and asyncio, and replaces _boot.py by the board's,
# which leaves the meter's store partition out of littlefs (boards/pico/_boot.py); the sensor drivers and the FAT
# boot script are of no use to a meter.
import os

freeze("$(PORT_DIR)/modules", "rp2.py")
include("$(MPY_DIR)/extmod/asyncio")
_root = os.environ.get("PROJECT", "$(MPY_DIR)/../..")
package("firmware", base_path=_root)
package("boards", files=["__init__.py", "pico/__init__.py", "pico/pins.py", "pico/rs485.py", "pico/board.py",
                         "pico/kernel_thumb.py", "pico/grid_thumb.py",
                         "pico/ads131m08.py", "pico/adc_dma.py", "pico/frames_thumb.py",
                         "pico/console.py", "pico/ao.py", "pico/st7567.py", "pico/keys.py", "pico/dio.py"], base_path=_root)
module("_boot.py", base_path=_root + "/boards/pico")  # mounts littlefs; the store partition stays raw
module("main.py", base_path=_root + "/boards/pico")  # runs at boot (a main.py on the filesystem does not)
