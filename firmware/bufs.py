# SPDX-License-Identifier: MIT
# The allocation-free byte copy shared by the Modbus slave, its FC08 diagnostics and the history records
# (Demand, MaxMin): any buffers (bytearray, bytes as source, array as raw native-order bytes).
import micropython


@micropython.viper
def copy8(dst: ptr8, doff: int, src: ptr8, soff: int, n: int):
    """dst[doff:doff+n] = src[soff:soff+n], byte by byte (the ranges must not overlap backwards)."""
    i = 0
    while i < n:
        dst[doff + i] = src[soff + i]
        i += 1
