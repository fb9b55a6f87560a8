# SPDX-License-Identifier: MIT
# Runs in .venv-sdm (sdm_modbus 0.7.0 on the pymodbus of its time, requirements-sdm.txt): reads the meter on the pty
# as an Eastron SDM630 with sdm_modbus's own read_all, input and holding registers, and prints them as JSON.
# Usage: .venv-sdm/bin/python host_tests/sdm_read_all.py PTY
import json
import sys

import sdm_modbus

meter = sdm_modbus.SDM630(device=sys.argv[1], baud=9600, parity="N", stopbits=1, timeout=2, unit=1)
try:
    out = {"input": meter.read_all(sdm_modbus.registerType.INPUT),
           "holding": meter.read_all(sdm_modbus.registerType.HOLDING)}
finally:
    meter.disconnect()
print(json.dumps(out))
