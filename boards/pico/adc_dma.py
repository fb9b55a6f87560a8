# SPDX-License-Identifier: MIT
# The ADC's sample stream on the RP2040: CLKIN for the ADS131M08 and a DMA ring of frame blocks, so Python runs
# once per block of BLOCK samples (10 ms), never per sample (RP2040 datasheet, 2.5 DMA and 4.4 SPI).
#
# Four DMA channels, no CPU per frame:
#   TX   8-bit zeros (NULL commands) into SPI0's data register, paced by DMA timer 0 at 30 bytes x 8000/s
#        (clk_sys x 6/3125 = 240 kHz): one 30-byte frame every 125 us, locked to the ADC's CLKIN, which comes
#        from the same crystal; after a block it chains to TX-RELOAD.
#   TX-RELOAD writes the block's byte count to TX's TRANS_COUNT_TRIG: TX goes on without a gap, forever.
#   RX   SPI0 data register into the current block of the ring (paced by SPI0's RX DREQ); its completion raises
#        the DMA IRQ (the block counter) and chains to RX-RELOAD.
#   RX-RELOAD reads the next block's address from an 8-entry list (read ring of 32 bytes) into RX's
#        WRITE_ADDR_TRIG: RX fills the next block.
# CS stays low while streaming: the chip frames by byte count (MODE.TIMEOUT on). The ring holds RING_BLOCKS
# blocks: 80 ms, longer than the longest flash erase (~45 ms on a W25Q16, during which the CPU stalls but DMA runs).
from array import array

import machine
import uctypes
from micropython import const

from firmware import adc_frames, tables

_DMA = const(0x50000000)
_CH = const(0x40)  # register block per channel
_AL1_TRANS_COUNT_TRIG = const(0x1C)
_AL2_WRITE_ADDR_TRIG = const(0x2C)
_TIMER0 = const(0x420)  # pacing timer 0: X (bits 31:16) / Y (bits 15:0) of clk_sys
_SPI0 = const(0x4003C000)
_SSPDR = const(0x08)
_SSPDMACR = const(0x24)  # bit 1 TXDMAE, bit 0 RXDMAE
_DREQ_SPI0_RX = const(17)
_TREQ_TIMER0 = const(0x3B)
_TREQ_FOREVER = const(0x3F)
_TIMER_X = const(6)  # 125 MHz x 6 / 3125 = 240,000 bytes/s = 8000 frames/s x 30 bytes
_TIMER_Y = const(3125)
SYS_HZ = 125000000
RING_BLOCKS = const(8)  # a power of two: the address list is read through a DMA read ring
# CLKIN: GPOUT0 on GP21 from pll_usb (48 MHz / 5.859375 = 8.192 MHz exactly on average; the divider's fraction
# 220/256 dithers single edges by one 48 MHz period). A PWM slice cannot make 8.192 MHz from 125 MHz: the nearest
# is 8.197 MHz, 0.06 % fast, which would shift every frequency reading.
_CLOCKS = const(0x40008000)
_GPOUT0_CTRL_VALUE = const(0x860)  # ENABLE (bit 11), AUXSRC 3 = clksrc_pll_usb (bits 8:5)
_GPOUT0_DIV_VALUE = const(0x5DC)  # INT 5 (bits 31:8), FRAC 220 (bits 7:0)
_IO_BANK0 = const(0x40014000)
_FUNC_GPCK = const(8)


def start_clkin(pin):
    """CLKIN for the ADS131M08: GPOUT0 (pin must be GP21) at 8.192 MHz."""
    if pin != 21:
        raise ValueError("CLKIN: GPOUT0 is on GP21")
    machine.mem32[_CLOCKS + 0x04] = _GPOUT0_DIV_VALUE
    machine.mem32[_CLOCKS + 0x00] = _GPOUT0_CTRL_VALUE
    machine.mem32[_IO_BANK0 + 8 * pin + 4] = _FUNC_GPCK


class AdcDma:
    """The ring: RING_BLOCKS blocks of `block` frames. poll(out) hands over the oldest unread block, decoded into
    out (array('i'), 8 * block codes). Counters: blocks, crc_errors, stale_frames (a missed DRDY: the chip had no
    new conversion), overruns (the ring was lapped: Python fell more than RING_BLOCKS - 1 blocks behind),
    frames_lost (frames not given to metering, whatever the cause)."""

    def __init__(self, block, decode=None):
        """block: frames per block (the meter's feed size); decode: the frame decoder (default the viper
        firmware.adc_frames.decode; the board passes the Thumb-1 twin, boards/pico/frames_thumb.decode)."""
        import rp2

        self.block = block
        self.bytes = block * adc_frames.FRAME
        self.ring = bytearray(RING_BLOCKS * self.bytes)
        self.base = uctypes.addressof(self.ring)
        mv = memoryview(self.ring)
        self.slots = [mv[j * self.bytes:(j + 1) * self.bytes] for j in range(RING_BLOCKS)]
        self.decode = decode if decode is not None else adc_frames.decode
        # constants the DMA reads (zero byte for TX, the block length), the block-address list, 32-byte aligned
        self.k = array("I", [0, self.bytes])
        self._lst = bytearray(64)
        a = uctypes.addressof(self._lst)
        self.list = (a + 31) & ~31
        for j in range(RING_BLOCKS):
            machine.mem32[self.list + 4 * j] = self.base + j * self.bytes
        self.tx = rp2.DMA()
        self.txl = rp2.DMA()
        self.rx = rp2.DMA()
        self.rxl = rp2.DMA()
        self.filled = 0  # blocks the DMA completed (IRQ)
        self.used = 0  # blocks handed over or skipped
        self.blocks = 0
        self.crc_errors = 0
        self.stale_frames = 0
        self.overruns = 0
        self.frames_lost = 0
        self.running = False

    def _done(self, dma):
        self.filled += 1  # hard IRQ: a small int, no allocation

    def start(self, adc):
        """Program the four channels, sync to the chip's DRDY (adc.sync()) and start the frame clock."""
        tx, txl, rx, rxl = self.tx, self.txl, self.rx, self.rxl
        ka = uctypes.addressof(self.k)
        dr = _SPI0 + _SSPDR
        rx.irq(handler=self._done, hard=True)
        rxl.config(read=self.list + 4, write=_DMA + _CH * rx.channel + _AL2_WRITE_ADDR_TRIG, count=1,
                   ctrl=rxl.pack_ctrl(size=2, inc_read=True, inc_write=False, ring_size=5, ring_sel=False,
                                      treq_sel=_TREQ_FOREVER, chain_to=rxl.channel, irq_quiet=True))
        rx.config(read=dr, write=self.base, count=self.bytes,
                  ctrl=rx.pack_ctrl(size=0, inc_read=False, inc_write=True, treq_sel=_DREQ_SPI0_RX,
                                    chain_to=rxl.channel, irq_quiet=False))
        txl.config(read=ka + 4, write=_DMA + _CH * tx.channel + _AL1_TRANS_COUNT_TRIG, count=1,
                   ctrl=txl.pack_ctrl(size=2, inc_read=False, inc_write=False, treq_sel=_TREQ_FOREVER,
                                      chain_to=txl.channel, irq_quiet=True))
        tx.config(read=ka, write=dr, count=self.bytes,
                  ctrl=tx.pack_ctrl(size=0, inc_read=False, inc_write=False, treq_sel=_TREQ_TIMER0,
                                    chain_to=txl.channel, irq_quiet=True))
        machine.mem32[_DMA + _TIMER0] = (_TIMER_X << 16) | _TIMER_Y
        irq = machine.disable_irq()
        try:
            adc.sync()  # a frame read by the CPU: before RX has DMA (it would take the bytes the CPU waits for)
            rx.active(1)  # waits for SPI0's RX DREQ
            machine.mem32[_SPI0 + _SSPDMACR] = 3
            tx.active(1)  # the first frame goes out one timer period (4 us) after DRDY
        finally:
            machine.enable_irq(irq)
        self.running = True

    def poll(self, out):
        """-1: no whole block yet. 0: out holds the next block, every frame good. n > 0: n samples are lost (a
        block with a bad or stale frame, or blocks the DMA overwrote): the caller tells the meter (Meter.gap).
        No allocation."""
        lag = self.filled - self.used
        if lag <= 0:
            return -1
        if lag >= RING_BLOCKS:  # lapped: the oldest blocks are gone; keep the newest whole one
            skip = lag - 1
            self.used += skip
            self.overruns += 1
            self.frames_lost += skip * self.block
            return skip * self.block
        slot = self.used % RING_BLOCKS
        r = self.decode(self.slots[slot], self.block, out, tables.CRC16_CCITT)
        self.used += 1
        if self.filled - self.used >= RING_BLOCKS - 1:  # overwritten while it was decoded
            self.overruns += 1
            self.frames_lost += self.block
            return self.block
        if r:
            self.crc_errors += r >> 16
            self.stale_frames += r & 0xFFFF
            self.frames_lost += self.block
            return self.block
        self.blocks += 1
        return 0

    def stop(self):
        for d in (self.tx, self.txl, self.rx, self.rxl):
            d.active(0)
        machine.mem32[_SPI0 + _SSPDMACR] = 0
        self.running = False
