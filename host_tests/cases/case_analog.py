# SPDX-License-Identifier: MIT
# The 4-20 mA analog output (manual 3.6, docs/analog.md): ranges, the manual's power formula, clamping, the
# An wiring rule in the config, the AO register and the board callback; update() heap-locked.
import math
import struct
from array import array

import micropython

from firmware import regmap
from firmware.analog import Analog, current, span
from firmware.config import Config
from firmware.meter import Meter
from firmware.regbank import RegisterBank
from firmware.store import Store
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from case_meter import _block

AO = regmap.slot("AO")


def _near(a, b, tol=2e-6):
    return abs(a - b) <= tol * max(1.0, abs(b))


def _ao(name, x, syss=0, un=220, rated_i=5, pt=1, ct=1):
    vals = array("f", [0.0] * regmap.N_MEAS)
    a = Analog(vals)
    vals[regmap.slot(name)] = x
    a.configure(regmap.AN_NAMES.index(name), syss, un, rated_i, pt, ct)
    a.update()  # the next window
    return vals[AO], a.ua


def test_pe_from_the_manual_table():
    # 220 V / 5 A: 3300 W, 220 V / 1 A: 660 W, 100 V / 5 A: 1500 W; a single phase: Un x In
    assert span("P", 0, 220, 5, 1, 1) == (-3300.0, 3300.0, True)
    assert span("Q", 0, 220, 1, 1, 1)[1] == 660.0 and span("S", 0, 100, 5, 1, 1)[1] == 1500.0
    assert span("Pa", 0, 220, 5, 1, 1)[1] == 1100.0 and span("Qc", 0, 100, 1, 1, 1)[1] == 100.0
    # primary side: x CT x PT
    assert span("P", 0, 100, 5, 100, 80)[1] == 1500.0 * 8000


def test_manual_formula_reads_back():
    # P = (Px - 12) x Pe x CT x PT / 8 with 10 kV/100 V, 400 A/5 A (manual 3.5's example ratios)
    for p in (0.0, 1.2e6, -3.0e6, 6.0e6, -1.5e5):
        ma, ua = _ao("P", p, un=100, rated_i=5, pt=100, ct=80)
        assert _near((ma - 12) * 1500 * 80 * 100 / 8, p, 1e-5) or abs(p) < 1, (p, ma)
        assert abs(ua - ma * 1000) <= 0.5 + 1e-3


def test_unipolar_ranges_and_clamps():
    s3 = math.sqrt(3)
    cases = (("Ua", 0.0, 4.0), ("Ua", 110.0, 12.0), ("Ua", 220.0, 20.0), ("Ua", 264.0, 23.2), ("Ua", 400.0, 23.2),
             ("Uab", 220 * s3, 20.0), ("Uca", 110 * s3, 12.0), ("Ib", 2.5, 12.0), ("Ic", 5.0, 20.0),
             ("Ia", 7.0, 23.2))
    for name, x, want in cases:
        assert _near(_ao(name, x)[0], want), (name, x, want)
    assert _near(_ao("Ia", 250.0, ct=100)[0], 12.0)  # primary amperes: In x CT = 500 A
    # 2LL: Un is the line voltage, F 45..65 Hz
    assert _near(_ao("Uab", 400.0, syss=1, un=400)[0], 20.0) and _near(_ao("Ubc", 200.0, syss=2, un=400)[0], 12.0)
    assert _near(_ao("F", 50.0, syss=1)[0], 8.0) and _near(_ao("F", 65.0, syss=1)[0], 20.0)
    assert _near(_ao("F", 30.0, syss=1)[0], 4.0) and _near(_ao("F", 0.0, syss=2)[0], 4.0)


def test_bipolar_powers_and_pf():
    cases = (("P", 0.0, 12.0), ("P", 3300.0, 20.0), ("P", -3300.0, 4.0), ("P", -1650.0, 8.0),
             ("P", 3960.0, 21.6), ("P", -9999.0, 2.4), ("Q", 1650.0, 16.0), ("S", 3300.0, 20.0),
             ("Pb", -550.0, 8.0), ("Sa", 1100.0, 20.0), ("PF", 1.0, 20.0), ("PF", -1.0, 4.0),
             ("PFc", 0.5, 16.0), ("PFa", 0.0, 12.0))
    for name, x, want in cases:
        assert _near(_ao(name, x)[0], want), (name, x, want)
    # the float32 slot against the reference formula over a sweep (same numbers as tools/truth.py's)
    for k in range(-30, 31):
        x = 137.0 * k
        lo, hi, bi = span("P", 0, 220, 5, 1, 1)
        assert _near(_ao("P", x)[0], current(x, lo, hi, bi), 1e-6)


def test_callback_in_microamps_only_on_change_heap_locked():
    got = array("i", [0, 0])  # last value, calls

    def out(ua):
        got[0] = ua
        got[1] += 1

    vals = array("f", [0.0] * regmap.N_MEAS)
    a = Analog(vals, out)
    assert got[0] == 4000 and got[1] == 1  # configured at start: Ua = 0 -> 4 mA
    a.configure(0, 0, 220, 5, 1, 1)
    a.update()
    assert got[1] == 1  # unchanged: no call
    vals[0] = 165.0
    nan = float("nan")
    micropython.heap_lock()
    try:
        a.update()
        a.update()
        vals[0] = nan  # a broken value still gives a bounded current
        a.update()
    finally:
        micropython.heap_unlock()
    assert got[1] == 3 and 4000 <= got[0] <= 23200
    vals[0] = 165.0
    a.update()
    assert got[0] == 16000 and _near(vals[AO], 16.0)  # 165 V of 220 V: 4 + 12 mA


def test_config_an_follows_the_wiring():
    cfg = Config(None)
    an = cfg.index("An")
    assert cfg.get("An") == 0  # factory default Ua
    assert not cfg.set("An", 25)  # F: only in the 2LL modes
    for c in range(25):
        assert cfg.valid_index(an, c)
    assert cfg.set("SYSS", 1) and cfg.get("An") == 6  # Ua does not exist in 2LL: falls back to Uab
    for c in range(26):
        assert cfg.valid_index(an, c) == (c in (3, 4, 5, 6, 7, 8, 12, 16, 20, 25)), c
    assert cfg.set("An", 25) and cfg.get("An") == 25
    assert cfg.set("SYSS", 2) and cfg.get("An") == 25  # allowed in both 2LL modes: kept
    assert cfg.set("SYSS", 0) and cfg.get("An") == 0
    assert not cfg.set("An", 26)


def test_modbus_write_of_a_foreign_quantity_gets_exception_03():
    cfg = Config(None)
    bank = RegisterBank(cfg, array("f", [0.0] * regmap.N_MEAS))
    an = regmap.CONFIG_BASE + cfg.index("An")
    assert cfg.set("SYSS", 2)
    assert bank.write(an, 1, bytes([0, 9]), 0) == -ILLEGAL_DATA_VALUE and cfg.get("An") == 6  # Pa in 2LL2CT
    assert bank.write(an, 1, bytes([0, 12]), 0) == 0 and cfg.get("An") == 12
    assert bank.image[2 * an + 1] == 12


def test_record_from_a_build_without_an_loads():
    st = Store(None)
    old = Config(st)
    assert old.set("Pt_U", 100) and old.set("SYSS", 1)
    old.save()
    rec = st.load("config")
    st.save("config", bytes(rec[:2 * (len(regmap.CONFIG) - 1)]))  # the 16-row record of the last release
    cfg = Config(st)
    assert cfg.get("Pt_U") == 100 and cfg.get("SYSS") == 1
    assert cfg.get("An") == 6  # the default Ua is not in 2LL: the wiring rule holds after loading too


def test_meter_publishes_ao_and_drives_the_board():
    got = array("i", [0])

    def out(ua):
        got[0] = ua

    m = Meter(None, ao_out=out)
    assert m.set("An", 3)  # Ia
    n = 400
    for j in range(12):
        m.feed(_block(j * n, n, u=220.0, i=3.75), n)
    assert abs(m.vals[AO] - 16.0) < 0.01 and abs(got[0] - 16000) <= 10  # 3.75 A of 5 A: 4 + 12 mA
    o = 2 * (regmap.MEAS_BASE + 2 * AO)
    img = m.regs.image
    assert struct.unpack(">f", bytes(img[o:o + 4]))[0] == m.vals[AO]
    assert m.set("Ct_I", 10)  # 37.5 A of a rated 50 A primary: still 16 mA (no glitch from the old Ia)
    assert abs(got[0] - 16000) <= 10
    for j in range(12, 16):
        m.feed(_block(j * n, n, u=220.0, i=3.75), n)
    assert abs(m.vals[AO] - 16.0) < 0.01 and abs(got[0] - 16000) <= 10
    assert m.set("In", 10)  # 37.5 A of 100 A: 10 mA
    for j in range(16, 20):
        m.feed(_block(j * n, n, u=220.0, i=3.75), n)
    assert abs(m.vals[AO] - 10.0) < 0.01 and abs(got[0] - 10000) <= 10
