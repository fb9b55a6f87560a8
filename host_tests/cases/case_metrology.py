# Cases for issue 3's metrology in firmware/metering.py + powers.py + pt100.py + calib.py: three-wire
# two-element method, Ib derivation, IST gate, neutral, temperature, status codes, calibration; no allocation.
import math
from array import array

import micropython

from firmware import pt100, regmap
from firmware.calib import CAL_BASE, CMD_BASE, Calib
from firmware.config import Config
from firmware.metering import NAT_C, NAT_L, Metering
from firmware.sampler import Sampler
from case_sampler import signal as _signal


def signal(*args, **kw):
    """case_sampler.signal through the ADC's filter and RC (what metering divides out)."""
    return _signal(*args, front=True, **kw)


FS = 8000


def _three_wire(blk, n, ib=True):
    """Rewire a star signal as the three-wire board sees it: B common, so Ua carries ua - ub, Ub 0, Uc uc - ub;
    without ib the B CT is missing."""
    out = array("i", blk)
    for k in range(n):
        b = 8 * k
        ub = blk[b + 1]
        out[b] = blk[b] - ub
        out[b + 1] = 0
        out[b + 2] = blk[b + 2] - ub
        if not ib:
            out[b + 4] = 0
    return out


def _meter(blk, n, syss=0, ist=10, rated_i=5, temp=None):
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(1, 1, syss, 220, rated_i, None, ist)
    got = None
    for a in range(0, n, 400):
        k = min(400, n - a)
        s.feed(blk[8 * a:8 * (a + k)], k)
        if m.update():
            got = dict((r[0], vals[regmap.slot(r[0])]) for r in regmap.MEASUREMENTS)
    return got, m


def _near(a, b, tol=5e-4):
    return abs(a - b) <= tol * max(abs(b), 1e-9)


def test_two_element_method_2ll3ct():
    # balanced currents (they sum to 0, as in any three-wire system), unequal angles
    u, i, phi = (220.0, 220.0, 220.0), (4.0, 4.0, 4.0), (30.0, 30.0, 30.0)
    n = 4400
    blk = _three_wire(signal(n, 50.3, u, i, phi, t0=2.0), n)
    got, m = _meter(blk, n, syss=1)
    p = 3 * 220 * 4 * math.cos(math.radians(30))
    q = 3 * 220 * 4 * math.sin(math.radians(30))
    ul = 220 * math.sqrt(3)
    assert _near(got["P"], p) and _near(got["Q"], q), (got["P"], p, got["Q"], q)
    assert _near(got["S"], 3 * 220 * 4) and _near(got["PF"], math.cos(math.radians(30)))
    for name in ("Uab", "Ubc", "Uca", "UL_avg"):
        assert _near(got[name], ul), (name, got[name])
    for name in ("Ua", "Ub", "Uc", "U_avg", "Pa", "Pb", "Pc", "Qa", "Sb", "PFc", "I_N"):
        assert got[name] == 0.0, (name, got[name])
    assert _near(got["Ib"], 4.0) and abs(got["F"] - 50.3) < 2e-3
    assert list(m.gate) == [1, 0, 1] and list(m.status) == [1, 0, 0, 0, NAT_L]


def test_2ll2ct_derives_ib_from_ia_and_ic():
    u, i, phi = (100.0, 100.0, 100.0), (2.0, 2.0, 2.0), (-40.0, -40.0, -40.0)  # capacitive
    n = 4400
    blk = _three_wire(signal(n, 49.6, u, i, phi, t0=1.0), n, ib=False)
    got, m = _meter(blk, n, syss=2)
    assert _near(got["Ib"], 2.0) and _near(got["I_avg"], 2.0), got["Ib"]
    assert _near(got["Q"], -3 * 100 * 2 * math.sin(math.radians(40)))
    assert m.status[0] == 4 and m.status[4] == NAT_C


def test_starting_current_gates_a_phase():
    u, i, phi = (230.0, 230.0, 230.0), (0.008, 1.0, 0.012), (0.0, 0.0, 0.0)
    n = 4400
    got, m = _meter(signal(n, 50.0, u, i, phi), n, ist=10)
    assert got["Ia"] == 0.0 and got["Pa"] == 0.0 and got["Sa"] == 0.0 and got["PFa"] == 0.0
    assert _near(got["Ic"], 0.012, 2e-3) and got["Pc"] > 0
    assert list(m.gate) == [0, 1, 1]
    assert _near(got["P"], 230 * 1.012, 1e-3)


def test_voltage_threshold_reads_zero():
    u, i, phi = (0.3, 230.0, 230.0), (5.0, 5.0, 5.0), (0.0, 0.0, 0.0)
    n = 4400
    got, m = _meter(signal(n, 50.0, u, i, phi), n)
    assert got["Ua"] == 0.0 and got["Pa"] == 0.0 and m.gate[0] == 0 and _near(got["Ia"], 5.0)


def test_neutral_vector_sum_and_measured():
    # phase c open: In = |Ia + Ib| = 5 A for equal currents 120 degrees apart; the In channel carries the sum
    u, i, phi = (230.0, 230.0, 230.0), (5.0, 5.0, 0.0), (0.0, 0.0, 0.0)
    n = 4400
    got, m = _meter(signal(n, 50.0, u, i, phi), n)
    assert _near(got["I_N"], 5.0, 1e-3) and _near(got["I_N_m"], 5.0, 1e-3), (got["I_N"], got["I_N_m"])
    assert _near(got["I_avg"], 10.0 / 3) and _near(got["U_avg"], 230.0)


def test_temperature_pt100():
    n = 2000
    for t in (-40.0, 0.0, 25.0, 99.6, 250.2):
        blk = signal(n, 50.0)
        c = pt100.code(t)
        for k in range(n):
            blk[8 * k + 7] = c
        got, m = _meter(blk, n)
        assert got["T"] == round(t), (t, got["T"])
    assert abs(pt100.ohms(100.0) - 138.5055) < 1e-3 and abs(pt100.ohms(-100.0) - 60.2558) < 1e-3


def test_status_quadrants():
    n = 4400
    for phi, quad in ((30.0, 1), (150.0, 2), (210.0, 3), (-30.0, 4)):
        got, m = _meter(signal(n, 50.0, phi=(phi, phi, phi)), n)
        nat = NAT_L if quad in (1, 3) else NAT_C
        assert list(m.status) == [quad, nat, nat, nat, nat], (phi, list(m.status))


class _Store:
    def __init__(self):
        self.d = {}

    def load(self, name):
        return self.d.get(name)

    def save(self, name, data):
        self.d[name] = bytes(data)


def _u16(v):
    return bytes([v >> 8, v & 0xFF])


def test_calibration_commands_and_record():
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    store = _Store()
    cfg = Config()
    c = Calib(m, store, cfg)
    assert c.cmd_write(CMD_BASE + 1, 1, _u16(1), 0) == 3  # not unlocked
    assert c.cmd_write(CMD_BASE, 2, _u16(1234) + _u16(1), 0) == 3  # wrong password
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(9), 0) == 3  # unknown code
    # factors: refused without the unlock (Key within 5 minutes, or the password latched in CAL_Pass)
    g = bytes([0x3F, 0x80, 0, 0])  # 1.0
    assert c.block_write(CAL_BASE + 8, 2, g, 0) == 3
    assert c.block_write(CAL_BASE, 2, bytes([0x43, 0x5C, 0, 0]), 0) == 0 and c.rows[0] == 220.0  # Ref_U
    assert c.block_write(CAL_BASE + 6, 2, g, 0) == 3  # Cal_State is read-only
    c._pass = 6666
    assert c.block_write(CAL_BASE + 8, 2, bytes([0x3F, 0xC0, 0, 0]), 0) == 0  # G_Ua = 1.5 (unlocked)
    assert c.service(1, 1) and m.cal[0] == 1.5 and "calib" in store.d
    c2 = Calib(Metering(array("f", [0.0] * regmap.N_MEAS)), store, cfg)
    assert c2.metering.cal[0] == 1.5  # from the record
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(2), 0) == 0 and c.service(1, 1) and m.cal[0] == 1.0
    cfg.set("SYSS", 1)
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(1), 0) == 4  # three-wire: not here


def test_three_wire_update_and_calibration_window_allocate_nothing():
    n = 4400
    blk = _three_wire(signal(n, 50.7, t0=3.0), n, ib=False)
    blocks = [blk[8 * a:8 * (a + 400)] for a in range(0, n, 400)]
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(1, 1, 2, 400, 5, None, 10)
    c = Calib(m, None, Config())
    c.config.set("SYSS", 2)
    frame = _u16(6666) + _u16(1)
    done = 0
    micropython.heap_lock()
    try:
        r = c.cmd_write(CMD_BASE, 2, frame, 0)
        for b in blocks:
            if s.feed(b, 400):
                done += m.update()
                c.window()
    finally:
        micropython.heap_unlock()
    assert r == 4 and done >= 2  # 2LL2CT refuses the calibration (04) without allocating
    m.configure(1, 1, 0, 220, 5, None, 10)
    c.config.set("SYSS", 0)
    micropython.heap_lock()
    try:
        r = c.cmd_write(CMD_BASE, 2, frame, 0)
        for b in blocks:
            if s.feed(b, 400):
                m.update()
                c.window()
    finally:
        micropython.heap_unlock()
    assert r == 0 and c.busy < 11
