# SPDX-License-Identifier: MIT
# Runs on the emulated RP2040 after boards/pico/st7567.py's source (host_tests/test_panel.py prepends it): the real
# Meter's screen drawn by firmware.ui.fb into a 1024-byte buffer goes out through St7567 on machine.SPI(1) and the
# board's pins to the emulator's ST7567 model (tools/emu/st7567.mjs). Prints each frame's bytes (BUF), the cycles
# of fb.render and of Ui.render (menu fill + render), the heap Ui.render allocates (HEAP), whether fb.render ran
# under heap_lock (LOCKED) and the cycles of show() (CYCLES); the host compares the frames with its own rendering
# and the last one with the LCD model's picture.
import gc

import micropython
from machine import Pin, SPI

from boards.pico import pins
from firmware.meter import Meter
from firmware.ui import fb as uifb

L = pins.LCD_SPI
# miso=None: SPI1's default MISO is GP8, the DO1 relay
spi = SPI(L["id"], baudrate=10_000_000, sck=Pin(L["sck"]), mosi=Pin(L["mosi"]), miso=None)


def out(name, v):
    return Pin(L[name], Pin.OUT, value=v)


lcd = St7567(spi, out("cs", 1), out("dc", 0), None, out("backlight", 0))  # noqa: F821  (prepended); RST on RUN
lcd.init()
lcd.contrast(40)
meter = Meter(None)
buf = bytearray(1024)
lcd.bind(buf)
gc.collect()


@micropython.viper
def cycles() -> int:
    return ptr32(0x40068000)[0] & 0x3FFFFFFF  # (viper builtin) the emulator's cycle counter, 30 bits


best = 0
for k in ("", "down down down", "enter right"):  # Meter U, Meter P (four rows), a password digit being edited
    for name in k.split():
        meter.key(name)
    scr = meter.ui.screen()
    t_fb = 1 << 30
    for _ in range(3):  # the least of three: a GC or an interrupt in one run is not the renderer's
        t0 = cycles()
        uifb.render(scr, buf)
        d = (cycles() - t0) & 0x3FFFFFFF
        t_fb = d if d < t_fb else t_fb
    locked = 1
    micropython.heap_lock()
    try:
        uifb.render(scr, buf)
    except MemoryError:
        locked = 0
    micropython.heap_unlock()
    gc.collect()
    free0 = gc.mem_free()
    t0 = cycles()
    meter.ui.render(buf)
    t_ui = (cycles() - t0) & 0x3FFFFFFF
    heap = free0 - gc.mem_free()
    print("RENDER %s fb=%d ui=%d heap=%d locked=%d" % (k.replace(" ", "_") or "-", t_fb, t_ui, heap, locked))
    print("BUF " + "".join("%02x" % b for b in buf))
    lcd.backlight(scr.backlight)
    t0 = cycles()
    micropython.heap_lock()
    lcd.show(buf)
    micropython.heap_unlock()
    t = (cycles() - t0) & 0x3FFFFFFF
    best = t if not best or t < best else best
print("CYCLES", best)
print("FB", "".join("%02x" % b for b in buf))  # the last frame drawn: the model's display RAM must hold it
