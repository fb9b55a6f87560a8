# SPDX-License-Identifier: MIT
# The host board: the firmware runs in a MicroPython (or CPython) process fed by tools/sim.py over pipes.
# board.py holds its features as data; main.py is the runtime loop (see docs/sim.md).
