# SPDX-License-Identifier: MIT
# Guest script (emulated RP2040, service mode, ADS131M08 model on SPI0): set the chip up, stream blocks through
# the DMA ring, print them for the host to compare with the generator; inject a bad CRC and a missed conversion.
import machine
from array import array
from machine import SPI, Pin

import sys

from boards.pico import adc_dma, ads131m08, frames_thumb, pins

HOST = 0x40068000
P = pins.ADC_SPI
adc_dma.start_clkin(P["clkin"])
spi = SPI(0, baudrate=8000000, polarity=0, phase=1, bits=8, sck=Pin(P["sck"]), mosi=Pin(P["mosi"]),
          miso=Pin(P["miso"]))
chip = ads131m08.Ads131m08(spi, None, Pin(P["drdy"], Pin.IN), None)  # CS tied low, SYNC/RESET high
chip.setup()
print("SETUP ok mode=%04X clock=%04X" % (chip.read(ads131m08.MODE), chip.read(ads131m08.CLOCK)))
ring = adc_dma.AdcDma(80, None if "viper" in sys.argv else frames_thumb.decode)
out = array("i", bytes(4 * 8 * 80))
ring.start(chip)
got = 0
cyc = 0
injected = 0
while got < 30:
    if got == 20 and not injected:
        machine.mem32[HOST + 0x24] = 0  # a bad CRC in the next frame
        injected = 1
    if got == 25 and injected == 1:
        machine.mem32[HOST + 0x24] = 1  # the next conversion does not happen
        injected = 2
    c0 = machine.mem32[HOST]
    r = ring.poll(out)
    if r < 0:
        machine.idle()
        continue
    if r == 0:
        cyc += (machine.mem32[HOST] - c0) & 0xFFFFFFFF
    got += 1
    print("B", got, r, " ".join(str(out[k]) for k in range(8)), sum(out))
print("C crc=%d stale=%d overruns=%d lost=%d blocks=%d cycles_per_block=%d" % (
    ring.crc_errors, ring.stale_frames, ring.overruns, ring.frames_lost, ring.blocks, cyc // ring.blocks))
ring.stop()
