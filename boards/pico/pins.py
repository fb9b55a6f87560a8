# SPDX-License-Identifier: MIT
# Raspberry Pi Pico (RP2040) pin map and features, as data (README "The Pico board": parts and wiring).
# GPIO numbers of the Pico's header: GP0..GP22 and GP26..GP28 (GP23..GP25 and GP29 are wired on the Pico itself:
# SMPS mode, VBUS sense, LED, VSYS/3). All 26 are used; three chip pins are tied instead of taking a GPIO:
# the ADS131M08's CS to GND (it frames by byte count, MODE.TIMEOUT resynchronises it) and its SYNC/RESET to
# DVDD through 10 kOhm (reset by the RESET command), the ST7567's RST to the Pico's RUN line (reset with the chip).
ARCH = "armv6m"
ADC_SPI = {"id": 0, "sck": 18, "mosi": 19, "miso": 16, "drdy": 20, "clkin": 21}  # CLKIN: GPOUT0 (adc_dma.py)
ADC_CLOCK_HZ = 8192000  # CLKIN of the ADS131M08: 8000 samples/s at OSR 512 (high-resolution mode)
RS485 = {"uart": 0, "tx": 0, "rx": 1, "de": 2}
LCD_SPI = {"id": 1, "sck": 10, "mosi": 11, "cs": 13, "dc": 14, "backlight": 12, "width": 128, "height": 64}
KEYS = {"left": 3, "up": 4, "down": 5, "right": 6, "enter": 7}  # active low, internal pull-ups
RELAYS = (8, 9)  # DO1, DO2: high = closed
INPUTS = (26, 27)  # DI1, DI2: optocoupled, low = contact closed
PULSE_P = 28  # active energy pulse output (terminals 26/27)
PULSE_Q = 17  # reactive energy pulse output (terminals 29/30)
AO_PWM = 15  # 4-20 mA output: PWM into an RC filter and a V-to-I stage (boards/pico/ao.py)
POWER_FAIL = 22  # supply-monitor comparator: low = supply collapsing, save now
# Flash storage region (1408 KiB after the 640 KiB firmware area): littlefs in the first 1136 KiB, the event log's
# ring (4 erase blocks, docs/events.md) in the next 16 KiB, the meter's record store in the last 256 KiB as a raw
# partition (64 erase blocks of 4 KiB: docs/storage.md, wear).
EVENTS = {"start": 1136 * 1024, "len": 16 * 1024, "block_size": 4096}
STORE = {"start": 1152 * 1024, "len": 256 * 1024, "block_size": 4096}
