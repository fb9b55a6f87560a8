# SPDX-License-Identifier: MIT
# Pure-Python test signals in ADC codes (no numpy: these run under MicroPython too), straight from the formula.
# Front end: +-2**23 codes = +-1000 V / +-25 A peak (firmware/frontend.py), 8000 samples/s, 8 channels.
import math
from array import array

FS = 8000
CODE_V = 8388608 / 1000.0  # codes per volt
CODE_A = 8388608 / 25.0  # codes per ampere


F_MOD = 4096000  # the ADC's modulator clock (Hz) and sinc3 decimation: 8000 samples/s
OSR = 512
RC = 10000.0  # Hz, the anti-alias RC corner


def front_end(f):
    """What the ADC and its RC do to a sine of f Hz: (gain, phase shift in radians), written from the formulas
    (sinc3 |sin(pi f OSR / fMOD) / (OSR sin(pi f / fMOD))|**3 with its delay of 3 (OSR - 1) / 2 modulator
    periods; the RC 1 / (1 + j f / fc)). The firmware divides the gain out, so signals carry it."""
    if f <= 0:
        return 1.0, 0.0
    x = math.pi * f / F_MOD
    g = (math.sin(OSR * x) / (OSR * math.sin(x))) ** 3 / math.sqrt(1 + (f / RC) ** 2)
    return g, -2 * math.pi * f * 3 * (OSR - 1) / (2.0 * F_MOD) - math.atan(f / RC)


def balanced_block(k0, n, u=220.0, i=5.0, lag=30.0, f=50.0, sign=1):
    """n samples from sample index k0: balanced three-phase load, current lagging by `lag` degrees
    (sign=-1 reverses the currents: export); through the front end (front_end)."""
    b = array("i", [0] * (8 * n))
    w = 2 * math.pi * f / FS
    g, d = front_end(f)
    su = u * math.sqrt(2) * CODE_V * g
    si = sign * i * math.sqrt(2) * CODE_A * g
    for k in range(n):
        t = (k0 + k) * w + d
        for p in range(3):
            a = t - p * 2 * math.pi / 3
            b[8 * k + p] = int(round(su * math.sin(a)))
            b[8 * k + 3 + p] = int(round(si * math.sin(a - lag * math.pi / 180)))
    return b
