# Runs on the emulated RP2040 after boards/pico/st7567.py's source (host_tests/test_panel.py prepends it): the real
# Meter's screen drawn by firmware.ui.fb into a framebuf goes out through St7567 on machine.SPI(1) and the board's
# pins to the emulator's ST7567 model (tools/emu/st7567.mjs). Prints the character grid firmware.ui.text computes
# (G lines), the edited field (CURSOR) and the cycles of show() (CYCLES); the host compares with the model's text.
import gc

import framebuf
import machine
import micropython
from machine import Pin, SPI

from boards.pico import pins
from firmware.meter import Meter
from firmware.ui import fb as uifb
from firmware.ui import text as uitext

L = pins.LCD_SPI
# miso=None: SPI1's default MISO is GP8, the DO1 relay
spi = SPI(L["id"], baudrate=10_000_000, sck=Pin(L["sck"]), mosi=Pin(L["mosi"]), miso=None)


def out(name, v):
    return Pin(L[name], Pin.OUT, value=v)


lcd = St7567(spi, out("cs", 1), out("dc", 0), None, out("backlight", 0))  # noqa: F821 (prepended); RST on RUN
lcd.init()
lcd.contrast(40)
meter = Meter(None)
buf = bytearray(1024)
fb = framebuf.FrameBuffer(buf, 128, 64, framebuf.MONO_VLSB)
lcd.bind(buf)
gc.collect()


def cycles():
    return machine.mem32[0x40068000]  # the emulator's host port: CPU cycles, low 32 bits


best = 0
for k in ("", "enter", "right"):  # the measurement screen, then a password digit being edited (drawn inverted)
    if k:
        meter.key(k)
    scr = meter.ui.screen()
    uifb.render(scr, fb)
    lcd.backlight(scr.backlight)
    t0 = cycles()
    micropython.heap_lock()
    lcd.show(buf)
    micropython.heap_unlock()
    t = (cycles() - t0) & 0xFFFFFFFF
    best = t if not best or t < best else best
rows, crow, ccol, clen = uitext.grid(scr, False)
for r in rows:
    print("G|%s|" % r[:16])
print("CURSOR", crow, ccol, clen)
print("CYCLES", best)
print("FB", "".join("%02x" % b for b in buf))  # the frame the guest drew: the model's glass must show it
