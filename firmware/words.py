# SPDX-License-Identifier: MIT
# Word-size constants that make viper kernels give the same bits on 32-bit MCUs and the 64-bit unix port.
# Read them inside viper as `m = int(WORD_MASK)`, `h = int(SIGN_BIT)`; see docs/ARCHITECTURE.md.
import sys

WORD_MASK = -1 if sys.maxsize < 2**32 else 2**32 - 1
SIGN_BIT = -(1 << 31) if sys.maxsize < 2**32 else 1 << 31


def put_u32(img, o, v):
    """Store v as a big-endian uint32 at img[o..o+3] (Modbus register order: high word, high byte first)."""
    img[o] = (v >> 24) & 0xFF
    img[o + 1] = (v >> 16) & 0xFF
    img[o + 2] = (v >> 8) & 0xFF
    img[o + 3] = v & 0xFF
