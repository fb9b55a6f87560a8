# Frozen manifest of the Pico firmware image (tools/firmware.py): the rp2 port's own modules, then the meter.
# Frozen modules keep bytecode and constant bytes/str in flash: the heap is left for the running meter.
import os

include("$(PORT_DIR)/boards/manifest.py")
_root = os.environ.get("PROJECT", "$(MPY_DIR)/../..")
package("firmware", base_path=_root)
package("boards", files=["__init__.py", "pico/__init__.py", "pico/pins.py", "pico/rs485.py"],
        base_path=_root)
module("main.py", base_path=_root + "/boards/pico")  # runs at boot (a main.py on the filesystem does not)
