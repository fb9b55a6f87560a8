# SPDX-License-Identifier: MIT
# ESP32 (WROOM/WROVER) pin map and features, as data (docs/device.md, "The ESP32 board").
# GPIO numbers. Strapping pins 0, 2, 12 stay free; the five keys share one ADC pin through a resistor ladder.
ARCH = "xtensawin"
# ADS131M08: set up over SPI2 (machine.SPI), then streamed by the I2S0 peripheral in master RX mode with DMA
# (boards/esp32/adc_i2s.py): BCK on the SCK pin (inverted in the GPIO matrix: the chip shifts on rising SCLK),
# SD on the MISO pin, WS on a pin that goes nowhere; CS held low and DIN held low (NULL commands) while streaming.
# CLKIN comes from an 8.192 MHz oscillator on the board (LEDC cannot make 8.192 MHz exactly at a 50 % duty through
# machine.PWM); SYNC/RESET is tied to EN (a software RESET command at set-up).
ADC_SPI = {"id": 2, "sck": 18, "mosi": 23, "miso": 19, "cs": 5, "drdy": 4, "ws": 25}
ADC_I2S = {"id": 0, "rate": 32000, "bits": 32, "ibuf": 20480}  # 2.048 MHz BCK: 8533 frames read per second
ADC_CLOCK_HZ = 8192000
RS485 = {"uart": 2, "tx": 17, "rx": 16, "de": 27}
LCD_SPI = {"id": 1, "sck": 14, "mosi": 13, "cs": 15, "dc": 21, "backlight": 32, "width": 128, "height": 64}
KEYS_ADC = 36  # ladder: left, up, down, right, enter at distinct voltages (boards/esp32/keys_ladder.py)
RELAYS = (33, 26)  # DO1, DO2: high = closed
INPUTS = (34, 35)  # DI1, DI2: input-only pins, external pull-ups, low = contact closed
PULSE_P = 22
POWER_FAIL = 39  # supply-monitor comparator, input-only pin: low = supply collapsing, save now
# The meter's record store: a raw data partition of this label in the partition table (64 erase blocks of 4 KiB),
# else (the stock MicroPython table has none) a 256 KiB file on the littlefs root (firmware/filedev.py).
STORE = {"label": "kpm53", "block_size": 4096, "fallback": "/"}
EVENTS = {"label": "kpm53ev", "block_size": 4096}  # the event log's raw partition, 4 blocks (docs/events.md)
