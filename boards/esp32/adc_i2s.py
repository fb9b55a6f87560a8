# SPDX-License-Identifier: MIT
# The ADC's sample stream on the ESP32: the I2S0 peripheral in master RX mode clocks the ADS131M08 continuously
# and its DMA fills the driver's buffer; Python runs once per block (docs/device.md, "The ESP32 board").
#
# Why I2S: it is the one peripheral MicroPython exposes on the ESP32 that moves a continuous bit stream by DMA
# without the CPU (machine.SPI transfers are started by Python, so the gaps between them lose conversions; a DRDY
# or timer IRQ per frame is Python per sample). BCK drives SCLK, SD reads DOUT; CS and DIN are held low, so the
# chip frames its 30-byte output by clock count (MODE.TIMEOUT). The read rate is not locked to the conversions:
# BCK 2.048 MHz reads 8533 frames/s, 16 reads per 15 conversions, so every conversion is read at least once and a
# re-read is marked stale by STATUS (DRDY bits clear) and dropped here. Frames lie at an arbitrary bit offset in
# the stream: it is found once by CRC (align) and again after any bad frame.
from array import array

import micropython
from micropython import const

from firmware import adc_frames, tables

FRAME = const(30)
SLOT = const(2400)  # bytes per I2S read (80 frames' worth of stream): the DMA hand-over unit
SLOTS = const(12)  # the ring: 12 x 2400 bytes = 112 ms of stream
ALIGN_BITS = const(240)  # a frame is 240 bits: the offsets tried by align()
_P_RSIZE = const(0)  # unpack()'s parameter block (array('i')): ring size, position, bit shift, frames wanted,
_P_POS = const(1)  # reads allowed, 1 = drop stale frames
_P_SHIFT = const(2)
_P_WANT = const(3)
_P_MAX = const(4)
_P_SKIP = const(5)
_WRAP = const(0xFFFFF)  # slot counters run modulo 2**20
_GPIO_FUNC_OUT_SEL = const(0x3FF44530)  # ESP32 TRM 4.13: GPIO_FUNCn_OUT_SEL_CFG_REG = base + 4n
_OUT_INV_SEL = const(0x200)  # bit 9: invert the peripheral's output signal on this pin


@micropython.viper
def unpack(ring, dst, p) -> int:
    """Copy frames out of the I2S ring into dst as plain 30-byte frames (adc_frames.decode's layout). The ring holds
    32-bit slots as little-endian words, first bit received in bit 31: stream byte k lies at k + 3 - 2 * (k & 3).
    A frame starts p[_P_SHIFT] bits into stream byte p[_P_POS]. Reads up to p[_P_MAX] frames until p[_P_WANT]
    are copied; with p[_P_SKIP] a frame whose STATUS DRDY byte is 0 (a re-read: no new conversion) is not copied.
    Returns reads << 16 | copied. No allocation."""
    src = ptr8(ring)
    d = ptr8(dst)
    q = ptr32(p)
    rsize = q[0]
    pos = q[1]
    s = q[2]
    want = q[3]
    most = q[4]
    skip = q[5]
    t = 8 - s
    reads = 0
    got = 0
    while got < want and reads < most:
        fresh = 1
        if skip:
            k = pos + 1
            if k >= rsize:
                k -= rsize
            k2 = k + 1
            if k2 >= rsize:
                k2 -= rsize
            b = ((src[k + 3 - 2 * (k & 3)] << s) | (src[k2 + 3 - 2 * (k2 & 3)] >> t)) & 0xFF
            if b == 0:
                fresh = 0
        if fresh:
            o = got * 30
            j = 0
            k = pos
            while j < 30:
                k2 = k + 1
                if k2 >= rsize:
                    k2 -= rsize
                d[o + j] = ((src[k + 3 - 2 * (k & 3)] << s) | (src[k2 + 3 - 2 * (k2 & 3)] >> t)) & 0xFF
                k = k2
                j += 1
            got += 1
        pos += 30
        if pos >= rsize:
            pos -= rsize
        reads += 1
    return (reads << 16) | got


def invert_output(pin):
    """Invert the peripheral signal routed to GPIO pin (the I2S BCK: the ADS131M08 shifts DOUT on rising SCLK and
    the I2S receiver samples on rising BCK; inverted, it samples half a bit later, mid-bit)."""
    import machine

    a = _GPIO_FUNC_OUT_SEL + 4 * pin
    machine.mem32[a] = machine.mem32[a] | _OUT_INV_SEL


class AdcI2s:
    """The ring: SLOTS slots of SLOT bytes that the I2S fills in turn (non-blocking readinto, one soft IRQ per slot).
    poll(out) hands over the next `block` conversions, decoded into out (array('i'), 8 * block codes). Counters as
    boards/pico/adc_dma.AdcDma: blocks, crc_errors, stale_frames (conversions missing: more re-reads than the
    read rate explains), overruns, frames_lost; plus aligns (times the frame offset was found)."""

    def __init__(self, i2s, block, decode=None):
        self.i2s = i2s
        self.block = block
        self.rsize = SLOTS * SLOT
        self.ring = bytearray(self.rsize)
        mv = memoryview(self.ring)
        self.slots = [mv[j * SLOT:(j + 1) * SLOT] for j in range(SLOTS)]
        self.most = block + block // 8 + 2  # reads to find `block` fresh frames at 16 reads per 15 conversions
        self.need = self.most * FRAME + 1  # stream bytes poll() waits for (the last frame's shifted tail byte)
        self.stage = bytearray(block * FRAME)
        self.stage_out = array("i", bytes(4 * 8 * 2))  # align()'s scratch output
        self.p = array("i", [self.rsize, 0, 0, block, self.most, 1])
        self.decode = decode if decode is not None else adc_frames.decode
        self.crctab = tables.CRC16_CCITT
        # small ints that never grow past 2**20 (a counter of bytes would pass the 31-bit small-int range after
        # 70 minutes and allocate): slots completed and slots consumed count modulo 2**20, the read position is
        # tslot slots plus toff bytes, at rpos in the ring
        self.filled = 0  # slots the I2S completed (soft IRQ), modulo 2**20
        self.wslot = 0  # the ring slot the driver fills now
        self.tslot = 0  # whole slots consumed, modulo 2**20
        self.toff = 0  # bytes consumed of the next slot
        self.rpos = 0  # read position in the ring
        self.aligned = False
        self.aligns = 0
        self.blocks = 0
        self.crc_errors = 0
        self.stale_frames = 0
        self.overruns = 0
        self.frames_lost = 0
        self.running = False
        self._done_cb = self._done

    def _done(self, i2s):
        self.filled = (self.filled + 1) & _WRAP  # a slot is full: the next one is handed to the driver
        w = self.wslot + 1
        self.wslot = w = 0 if w == SLOTS else w
        self.i2s.readinto(self.slots[w])

    def start(self):
        self.i2s.irq(self._done_cb)  # with a handler, readinto returns at once and the driver fills in the background
        self.i2s.readinto(self.slots[self.wslot])
        self.running = True

    def avail(self):
        """Stream bytes received and not consumed."""
        return ((self.filled - self.tslot) & _WRAP) * SLOT - self.toff

    def _take(self, n):
        """Consume n stream bytes (n >= 0)."""
        t = self.toff + n
        self.tslot = (self.tslot + t // SLOT) & _WRAP
        self.toff = t % SLOT
        self.rpos = (self.rpos + n) % self.rsize

    def stop(self):
        self.i2s.irq(None)
        self.i2s.deinit()
        self.running = False

    def align(self):
        """Find the bit offset of the frames in the unread stream: the first of ALIGN_BITS offsets at which two
        frames in a row pass their CRC. True when found (the stream position moves onto the frame); else the
        unread stream but its last frames is dropped. Not a hot path (at start-up and after a bad frame)."""
        p = self.p
        base = self.rpos
        for b in range(ALIGN_BITS):
            p[_P_POS] = (base + (b >> 3)) % self.rsize
            p[_P_SHIFT] = b & 7
            p[_P_WANT] = 2
            p[_P_MAX] = 2
            p[_P_SKIP] = 0
            unpack(self.ring, self.stage, p)
            if self.decode(self.stage, 2, self.stage_out, self.crctab) >> 16 == 0:
                self._take(b >> 3)
                p[_P_SHIFT] = b & 7
                self.aligned = True
                self.aligns += 1
                break
        p[_P_WANT] = self.block
        p[_P_MAX] = self.most
        p[_P_SKIP] = 1
        return self.aligned

    def poll(self, out):
        """-1: not enough stream yet. 0: out holds the next block. n > 0: n samples are lost (bad frames, a lost
        alignment, the ring lapped): the caller tells the meter (Meter.gap). Allocation-free on the way that
        hands over a block."""
        avail = self.avail()
        if avail > self.rsize - SLOT:  # lapped: the driver is writing into unread stream
            lost = (avail * 15) // (16 * FRAME)
            self._take(avail)
            self.aligned = False
            self.overruns += 1
            self.frames_lost += lost
            return lost
        if not self.aligned:
            if avail < 3 * FRAME + ALIGN_BITS // 8 + 1:
                return -1
            if not self.align():
                drop = avail - 3 * FRAME
                self._take(drop)
                if self.blocks == 0:
                    return -1  # starting: nothing was measured yet
                lost = (drop * 15) // (16 * FRAME) + 1
                self.frames_lost += lost
                return lost
            avail = self.avail()
        if avail < self.need:
            return -1
        p = self.p
        p[_P_POS] = self.rpos
        r = unpack(self.ring, self.stage, p)
        self._take((r >> 16) * FRAME)
        if r & 0xFFFF < self.block:  # too many re-reads: conversions are not running (no CLKIN, chip reset)
            self.stale_frames += self.block - (r & 0xFFFF)
            self.frames_lost += self.block
            return self.block
        r = self.decode(self.stage, self.block, out, self.crctab)
        if r:
            self.crc_errors += r >> 16
            self.stale_frames += r & 0xFFFF
            self.frames_lost += self.block
            if r >> 16:
                self.aligned = False  # a bad frame: perhaps the stream slipped (the driver dropped a buffer)
            return self.block
        self.blocks += 1
        return 0
