# SPDX-License-Identifier: MIT
# Boot entry on the ESP32 (copied to the filesystem's root by make deploy): runs the meter.
# Hold ENTER while powering up to stay at the REPL instead (service mode: mpremote).
from machine import ADC, Pin

from boards.esp32 import keys_ladder, pins

_adc = ADC(Pin(pins.KEYS_ADC), atten=ADC.ATTN_11DB)
if keys_ladder.level(_adc.read_uv() // 1000) == keys_ladder.NAMES.index("enter"):
    print("service mode (ENTER held at power-up): REPL")
else:
    from boards.esp32 import board

    board.run()
