# SPDX-License-Identifier: MIT
# firmware/tables.py is what tools/gen_tables.py writes, and its sines are the formula's (an independent check).
import math
import struct

from tools import gen_tables


def test_tables_file_is_generated():
    assert gen_tables.main(["--check"]) == 0


def test_sine_1024_against_formula():
    from firmware import tables

    v = struct.unpack("<1024h", tables.SINE_1024)
    assert v[0] == round(32767 * math.sin(math.pi / 1024))
    assert v[255] == v[256] == 32767  # the peak straddles the quarter cycle (steps sampled at their middles)
    for k in range(1024):
        assert abs(v[k] - 32767 * math.sin(2 * math.pi * (k + 0.5) / 1024)) <= 0.5
        assert v[k] == -v[(k + 512) % 1024]  # odd symmetry


def test_pt100_codes_against_callendar_van_dusen():
    # IEC 60751 with its own constants here: R(t) = 100 (1 + A t + B t^2 + C (t - 100) t^3), C below 0 degC only;
    # the front end's 2**23 codes = 400 ohm
    from firmware import tables

    a, b, c = 3.9083e-3, -5.775e-7, -4.183e-12
    v = struct.unpack("<402I", tables.PT100)
    for k in range(402):
        t = -100.5 + k
        r = 100 * (1 + a * t + b * t * t + (c * (t - 100) * t ** 3 if t < 0 else 0))
        assert v[k] == round(r * 2 ** 23 / 400)
