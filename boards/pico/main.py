# Boot entry on the Pico: builds the meter. Hardware drivers (ADC, UART/DE, LCD, keys) arrive with their issues;
# until then this proves that the firmware imports and constructs on the device.
from boards.pico import pins
from firmware.meter import Meter

meter = Meter("/")
print("KPM53 firmware on", pins.ARCH, "ready")
