# SPDX-License-Identifier: MIT
# ADS131M08 8-channel simultaneous-sampling delta-sigma ADC (TI SBAS950): reset, register set-up with input CRC,
# read-back check, and the sync to DRDY that starts the stream. The stream itself runs on DMA (adc_dma.py); its
# frames are decoded by firmware/adc_frames.py. Hardware objects come in: an SPI bus and Pins.
import time

from micropython import const

from firmware.adc_frames import FRAME, WORD, crc16

# commands (datasheet 8.5.1.10): 16 bits, MSB-aligned in a 24-bit word
_NULL = const(0x0000)
_RESET = const(0x0011)
_RREG = const(0xA000)  # 101a aaaa annn nnnn: read n + 1 registers from address a
_WREG = const(0x6000)  # 011a aaaa annn nnnn: write n + 1 registers from address a
RESET_ACK = const(0xFF28)  # the frame after a reset answers FF28h (8 channels)
# registers (datasheet 8.6)
ID = const(0x00)
STATUS = const(0x01)
MODE = const(0x02)
CLOCK = const(0x03)
GAIN1 = const(0x04)
GAIN2 = const(0x05)
ID_MASK = const(0xFF00)
ID_ADS131M08 = const(0x2800)  # ID[15:8]: 0010b, CHANCNT = 1000b
# MODE: RX_CRC_EN (bit 12: commands carry a CRC the chip checks), CRC_TYPE 0 (CCITT), RESET flag cleared (bit 10,
# write 0), WLENGTH 01b (24-bit words), TIMEOUT on (bit 4: the SPI interface resets after 2**14 CLKIN periods
# without a whole frame, which lets CS stay low while streaming), DRDY_SEL 00b (most lagging channel), DRDY
# level mode, active low
MODE_VALUE = const(0x1110)
# CLOCK: all 8 channels on (bits 15:8), OSR 512 (bits 4:2 = 010b), high-resolution power (bits 1:0 = 10b):
# fDATA = fCLKIN / 2 / OSR = 8.192 MHz / 2 / 512 = 8000 samples/s
CLOCK_VALUE = const(0xFF0A)
GAIN_VALUE = const(0x0000)  # PGA gain 1 on every channel: the front end's dividers and burdens scale to +-1.2 V
SETUP = ((MODE, MODE_VALUE), (CLOCK, CLOCK_VALUE), (GAIN1, GAIN_VALUE), (GAIN2, GAIN_VALUE))


class Ads131m08:
    """spi: machine.SPI in mode 1 (CPOL 0, CPHA 1), 8-bit; drdy: input machine.Pin; cs, reset: output Pins, or
    None where the board ties them (CS to GND: frames by byte count; SYNC/RESET high: the RESET command resets).
    The chip's CLKIN must run (adc_dma.start_clkin) before setup()."""

    def __init__(self, spi, cs, drdy, reset):
        self.spi = spi
        self.cs = cs
        self.drdy = drdy
        self.rst = reset
        self.tx = bytearray(FRAME)
        self.rx = bytearray(FRAME)
        self.crc = True  # MODE.RX_CRC_EN: off after a reset, on once MODE is written

    def frame(self, cmd, data=()):
        """One frame with CS low: command word, data words, then (input CRC on) the CRC word. Returns the
        response word of the previous frame (16 bits)."""
        t = self.tx
        for i in range(FRAME):
            t[i] = 0
        words = (cmd,) + tuple(data)
        for k in range(len(words)):
            t[WORD * k] = words[k] >> 8
            t[WORD * k + 1] = words[k] & 0xFF
        if self.crc:
            c = crc16(t, WORD * len(words))
            t[WORD * len(words)] = c >> 8
            t[WORD * len(words) + 1] = c & 0xFF
        cs = self.cs
        if cs is not None:
            cs.value(0)
        self.spi.write_readinto(t, self.rx)
        if cs is not None:
            cs.value(1)
        return (self.rx[0] << 8) | self.rx[1]

    def reset(self):
        """Reset: SYNC/RESET low for > 2048 CLKIN periods (250 us) when the board drives it, else the RESET
        command (datasheet 8.5.1.10.2); then tREGACQ; the next frame answers FF28h. OSError when it does not (no
        chip, no CLKIN, wrong wiring)."""
        if self.rst is not None:
            if self.cs is not None:
                self.cs.value(1)
            self.rst.value(0)
            time.sleep_ms(1)
            self.rst.value(1)
        else:
            # after a reset of the Pico alone the chip may be mid-frame (CS tied low): 2**14 CLKIN periods (2 ms)
            # without SCLK end that frame (MODE.TIMEOUT, on by default); it may also still check input CRCs
            time.sleep_ms(3)
            self.crc = True
            self.frame(_RESET)
        time.sleep_ms(1)
        self.crc = False
        ack = self.frame(_NULL)
        if ack != RESET_ACK:
            raise OSError("ADS131M08: no reset acknowledge (got %04X, want FF28)" % ack)

    def read(self, reg):
        self.frame(_RREG | (reg << 7))
        return self.frame(_NULL)

    def write(self, reg, value):
        self.frame(_WREG | (reg << 7), (value,))
        ack = self.frame(_NULL)
        if ack != (0x4000 | (reg << 7)):
            raise OSError("ADS131M08: WREG %02X not acknowledged (%04X)" % (reg, ack))
        if reg == MODE:
            self.crc = bool(value & 0x1000)

    def setup(self):
        """Reset, check the ID, write MODE, CLOCK and the gains, read them back. OSError on any mismatch."""
        self.reset()
        ident = self.read(ID)
        if ident & ID_MASK != ID_ADS131M08:
            raise OSError("ADS131M08: ID %04X is not an 8-channel ADS131M0x" % ident)
        for reg, value in SETUP:
            self.write(reg, value)
        for reg, value in SETUP:
            got = self.read(reg)
            if got != value:
                raise OSError("ADS131M08: register %02X reads %04X, wrote %04X" % (reg, got, value))

    def sync(self):
        """Leave CS low for streaming and return just after a conversion (DRDY falling): the DMA started now
        reads each frame right after the chip's DRDY. In level mode DRDY stays low until a frame is read, so
        frames are read until DRDY is seen high, then its fall is awaited. OSError when DRDY never moves."""
        t = self.tx
        for i in range(FRAME):
            t[i] = 0
        if self.cs is not None:
            self.cs.value(0)
        t0 = time.ticks_ms()
        self.spi.write_readinto(t, self.rx)
        while self.drdy.value() == 0:  # a conversion came during that frame: read it too
            if time.ticks_diff(time.ticks_ms(), t0) > 5:
                raise OSError("ADS131M08: DRDY stuck low")
            self.spi.write_readinto(t, self.rx)
        while self.drdy.value():
            if time.ticks_diff(time.ticks_ms(), t0) > 5:
                raise OSError("ADS131M08: no DRDY (conversions not running)")
