# Boot entry on the ESP32: builds the meter. Hardware drivers (ADC, UART/DE, LCD, keys) arrive with their issues;
# until then this proves that the firmware imports and constructs on the device.
from boards.esp32 import pins
from firmware.meter import Meter

meter = Meter("/")
print("KPM53 firmware on", pins.ARCH, "ready")
