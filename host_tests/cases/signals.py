# Pure-Python test signals in ADC codes (no numpy: these run under MicroPython too), straight from the formula.
# Front end: +-2**23 codes = +-1000 V / +-25 A peak (firmware/frontend.py), 8000 samples/s, 8 channels.
import math
from array import array

FS = 8000
CODE_V = 8388608 / 1000.0  # codes per volt
CODE_A = 8388608 / 25.0  # codes per ampere


def balanced_block(k0, n, u=220.0, i=5.0, lag=30.0, f=50.0, sign=1):
    """n samples from sample index k0: balanced three-phase load, current lagging by `lag` degrees
    (sign=-1 reverses the currents: export)."""
    b = array("i", [0] * (8 * n))
    w = 2 * math.pi * f / FS
    su = u * math.sqrt(2) * CODE_V
    si = sign * i * math.sqrt(2) * CODE_A
    for k in range(n):
        t = (k0 + k) * w
        for p in range(3):
            a = t - p * 2 * math.pi / 3
            b[8 * k + p] = int(round(su * math.sin(a)))
            b[8 * k + 3 + p] = int(round(si * math.sin(a - lag * math.pi / 180)))
    return b
