# SPDX-License-Identifier: MIT
# The zero-crossing reference's band-pass: windows and F follow the fundamental, not the extra zero crossings a
# large 3rd harmonic or commutation notches make, and interharmonics and subharmonics barely move the crossings.
# Integer chain per sample (the same bits on 32 and 64-bit words, every value below 2**30):
#   x = r << 10; two high-pass stages l += (x - l) >> 6, x -= l (corner ~20 Hz); four low-pass stages
#   z += (x - z) >> 4, x = z (corner ~80 Hz). Gain relative to 50 Hz (docs/metering.md): 8 Hz 0.29, 150 Hz 0.11,
#   172 Hz 0.074, 400 Hz 0.004; at 50 Hz 0.45 x 1024 and 77 degrees late (a constant delay: windows still span
#   whole cycles). The kernels (firmware/kernel.py run(), firmware/kernel_span.py, boards/pico/kernel_thumb.py)
#   judge sample i's crossing on the output through sample i - 1 (state S_FY), then feed sample i in: a kernel
#   that stops before a sample has not fed it, so the one that takes the sample feeds it once. After a start, a
#   reference change or the voltage's return the chain settles (high-pass time constant 8 ms): the free-running
#   window closes (and synchronisation starts) only at its HOLD-th crossing, so the first synchronised window
#   starts on a settled output.
import micropython
from micropython import const

from firmware.words import SIGN_BIT

S_FY = const(163)  # kernel.S_FY: the chain's output through the last sample fed
S_FILT = const(164)  # kernel.S_FILT: the six stage states (2 high-pass, 4 low-pass)
SCALE = const(10)  # input scaled by 2**10: the low-pass stages' truncation stays far below a code
HP = const(6)  # high-pass stages: l += (x - l) >> 6
LP = const(4)  # low-pass stages: z += (x - z) >> 4
HOLD = const(5)  # an unsynchronised window closes at its 5th crossing: 4 cycles for the chain to settle
HYST = const(150000)  # 10 V peak at 50 Hz through the chain (328 codes x 0.45 x 1024): the crossing hysteresis


@micropython.viper
def feed(st: ptr32, r: int):
    """One reference sample r (reduced codes, |r| < 2**17) into the chain; its output into st[S_FY]."""
    h = int(SIGN_BIT)
    f = int(S_FILT)
    x = r << 10
    l = (st[f] ^ h) - h
    l += (x - l) >> 6
    st[f] = l
    x -= l
    l = (st[f + 1] ^ h) - h
    l += (x - l) >> 6
    st[f + 1] = l
    x -= l
    k = 2
    while k < 6:
        z = (st[f + k] ^ h) - h
        z += (x - z) >> 4
        st[f + k] = z
        x = z
        k += 1
    st[int(S_FY)] = x
