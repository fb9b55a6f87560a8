# ESP32 (WROOM/WROVER) pin map and features, as data. Drivers that use it come with the hardware issues.
# GPIO numbers. Strapping pins 0, 2, 12 stay free; the five keys share one ADC pin through a resistor ladder.
ARCH = "xtensawin"
ADC_SPI = {"id": 2, "sck": 18, "mosi": 23, "miso": 19, "cs": 5, "drdy": 4, "clkin_ledc": 25}  # RESET tied to EN
ADC_CLOCK_HZ = 8192000
RS485 = {"uart": 2, "tx": 17, "rx": 16, "de": 27}
LCD_SPI = {"id": 1, "sck": 14, "mosi": 13, "cs": 15, "dc": 21, "backlight": 32, "width": 128, "height": 64}
KEYS_ADC = 36  # ladder: left, up, down, right, enter at distinct voltages (thresholds come with the key driver)
RELAYS = (33, 26)  # DO1, DO2: high = closed
INPUTS = (34, 35)  # DI1, DI2: input-only pins, external pull-ups, low = contact closed
PULSE_P = 22
POWER_FAIL = 39  # supply-monitor comparator, input-only pin: low = supply collapsing, save now
STORE = {"fs": "littlefs", "block_size": 4096}
