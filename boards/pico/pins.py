# Raspberry Pi Pico (RP2040) pin map and features, as data. Drivers that use it come with the hardware issues.
# GPIO numbers; the ADC is an ADS131M08 on SPI0 with its DRDY line, the RS485 transceiver on UART0 with a DE pin.
ARCH = "armv6m"
ADC_SPI = {"id": 0, "sck": 18, "mosi": 19, "miso": 16, "cs": 17, "drdy": 20, "clkin_pwm": 21, "reset": 22}
ADC_CLOCK_HZ = 8192000  # crystal/PWM clock for the ADS131M08: 8000 samples/s at OSR 1024 (high-resolution mode)
RS485 = {"uart": 0, "tx": 0, "rx": 1, "de": 2}
LCD_SPI = {"id": 1, "sck": 10, "mosi": 11, "cs": 13, "dc": 14, "rst": 15, "backlight": 12, "width": 128, "height": 64}
KEYS = {"left": 3, "up": 4, "down": 5, "right": 6, "enter": 7}  # active low, internal pull-ups
RELAYS = (8, 9)  # DO1, DO2: high = closed
INPUTS = (26, 27)  # DI1, DI2: optocoupled, low = contact closed
PULSE_P = 28  # active energy pulse output (terminals 26/27)
POWER_FAIL = 23  # supply-monitor comparator: low = supply collapsing, save now
# Flash storage region (1408 KiB after the 640 KiB firmware area): littlefs in the first 1152 KiB, the meter's
# record store in the last 256 KiB as a raw partition (64 erase blocks of 4 KiB: docs/storage.md, wear).
STORE = {"start": 1152 * 1024, "len": 256 * 1024, "block_size": 4096}
