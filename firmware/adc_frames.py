# SPDX-License-Identifier: MIT
# ADS131M08 output frames -> the meter's sample blocks. Chip-independent (the Pico's DMA ring and the ESP32's SPI
# both land raw frames in RAM); one viper pass per block checks every frame and converts its 8 channel words.
# Frame (24-bit words, MODE.WLENGTH = 01b): STATUS, CH0..CH7, CRC; 30 bytes, MSB first (TI SBAS950, 8.5.1.7).
import micropython
from micropython import const

from firmware import tables

WORD = const(3)  # bytes per word
FRAME = const(30)  # bytes per frame: 10 words
CHANNELS = const(8)
CRC_BYTES = const(27)  # the CRC covers STATUS and the 8 channel words (datasheet 8.5.1.9)
DRDY_ALL = const(0xFF)  # STATUS[7:0]: DRDY of each channel: 1 = this conversion was not read before


@micropython.viper
def decode(raw, n: int, out, crctab) -> int:
    """Check and convert the n frames at the start of raw (bytes-like, e.g. a memoryview of a DMA block) into out
    (array('i'), 8*n codes,
    channel-interleaved, sign-extended 24-bit). crctab: tables.CRC16_CCITT. Returns bad_crc << 16 | stale:
    the count of frames whose CRC fails and the count whose STATUS says no new conversion (a missed DRDY: the
    same conversion read twice). Bad frames are still converted; the caller discards the block. No allocation.
    The Pico runs the Thumb-1 twin (boards/pico/frames_thumb.py), same signature and result: viper on the
    Cortex-M0+ costs ~3,600 cycles a frame, 23 % of the core at 8000 frames/s."""
    src = ptr8(raw)
    dst = ptr32(out)
    tab = ptr16(crctab)
    bad = 0
    stale = 0
    f = 0
    while f < n:
        b = f * 30
        crc = 0xFFFF
        k = 0
        while k < 27:
            crc = ((crc << 8) & 0xFFFF) ^ tab[((crc >> 8) ^ src[b + k]) & 0xFF]
            k += 1
        if crc != ((src[b + 27] << 8) | src[b + 28]):
            bad += 1
        if src[b + 1] != 0xFF:
            stale += 1
        o = f * 8
        c = 0
        while c < 8:
            p = b + 3 + c * 3
            v = (src[p] << 16) | (src[p + 1] << 8) | src[p + 2]
            dst[o + c] = v - ((v & 0x800000) << 1)
            c += 1
        f += 1
    return (bad << 16) | stale


def crc16(buf, n, crc=0xFFFF):
    """CRC-16-CCITT of buf[0:n] (seed 0xFFFF): the command frames of the set-up (not a hot path)."""
    tab = tables.CRC16_CCITT
    for i in range(n):
        k = ((crc >> 8) ^ buf[i]) & 0xFF
        crc = ((crc << 8) & 0xFFFF) ^ (tab[2 * k] | (tab[2 * k + 1] << 8))
    return crc
