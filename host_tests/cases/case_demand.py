# SPDX-License-Identifier: MIT
# Demand (firmware/demand.py): sliding-window means from integer sums per subinterval, maximum demand with its
# clock stamp (only over a whole DM_P of whole subintervals), only known values (metering's mask), cLr_DM, the
# DM_S | DM_P rule, the store record; window/second heap-locked.
import struct
from array import array

import micropython

from firmware import regmap
from firmware.config import Config
from firmware.demand import Demand
from firmware.modbus.codes import ILLEGAL_DATA_VALUE


class FakeClock:
    def __init__(self):
        self.ymd = 20261126
        self.hms = 0


class FakeStore:
    def __init__(self):
        self.d = {}
        self.writes = 0

    def load(self, name):
        return self.d.get(name)

    def save(self, name, data):
        self.d[name] = bytes(data)
        self.writes += 1


def _make(period=3, sub=1, store=None):
    vals = array("f", [0.0] * regmap.N_MEAS)
    clk = FakeClock()
    img = bytearray(2 * regmap.block_end())
    cfg = Config()
    d = Demand(vals, clk, store, img, cfg)
    d.configure(10, 20, period, sub)
    return d, vals, clk, img, cfg


def _minute(d, vals, clk, p, ia, locked=True):
    """One minute of 1600-sample windows (5 per second) at P = p W, Ia = ia A; the clock runs and the demand
    object gets its second() calls, like Meter.each_second."""
    vals[regmap.slot("P")] = p
    vals[regmap.slot("Ia")] = ia
    vals[regmap.slot("Q")] = -0.5 * p
    if locked:
        micropython.heap_lock()
    try:
        for s in range(60):
            for k in range(5):
                d.window(1600)
            clk.hms = (clk.hms // 10000) * 10000 + ((clk.hms // 100 % 100 + (s + 1) // 60) % 60) * 100 \
                + (s + 1) % 60
            d.second(clk.hms)
    finally:
        if locked:
            micropython.heap_unlock()


def _f32(img, name, block="demand"):
    base, typ, acc, rows = regmap.block(block)
    k = [r[0] for r in rows].index(name)
    off = 2 * (base + 2 * k)
    return struct.unpack(">f" if typ == "float32" else ">I", bytes(img[off:off + 4]))[0]


def test_sliding_mean_and_maximum_with_stamp():
    d, vals, clk, img, cfg = _make()
    clk.hms = 101500  # 10:15:00
    for p in (1000.0, 1000.0, 4000.0, 1000.0, 1000.0, 1000.0):
        _minute(d, vals, clk, p, 5.0)
        if p == 4000.0:
            assert abs(d.value(0) - 2000.0) < 0.05, d.value(0)  # (1000 + 1000 + 4000) / 3
    assert clk.hms == 102100
    assert abs(d.value(0) - 1000.0) < 0.05 and abs(d.value(1) + 500.0) < 0.05 and abs(d.value(3) - 5.0) < 1e-4
    assert abs(d.maximum(0) - 2000.0) < 0.05
    # the maximum was reached when the third minute closed (10:18:00) and equal means later do not move it
    assert _f32(img, "MaxDmd_P_D", "demand_t") == 20261126 and _f32(img, "MaxDmd_P_T", "demand_t") == 101800
    assert abs(_f32(img, "MaxDmd_P") - 2000.0) < 0.05 and abs(_f32(img, "Dmd_P") - 1000.0) < 0.05
    # Q is negative all along: its maximum demand is the algebraic maximum (-500 var)
    assert abs(d.maximum(1) + 500.0) < 0.05


def test_ratio_change_restarts_the_window():
    # subintervals measured under one Pt_U x Ct_I are not averaged with later ones (docs/demand.md)
    d, vals, clk, img, cfg = _make(3, 1)  # Pt_U 10, Ct_I 20
    clk.hms = 101500
    for _ in range(3):
        _minute(d, vals, clk, 1000.0, 5.0)
    assert d.full == 3 and abs(d.value(0) - 1000.0) < 0.05
    d.configure(10, 20, 3, 1)  # the same settings again (another setting changed): the window stays
    assert d.full == 3
    d.configure(10, 40, 3, 1)  # Ct_I doubled
    assert d.full == 0 and d.samples == 0
    _minute(d, vals, clk, 2000.0, 10.0)
    assert d.full == 1 and abs(d.value(0) - 2000.0) < 0.1, d.value(0)  # the new minute alone
    assert abs(d.maximum(0) - 1000.0) < 0.1  # a maximum needs a whole demand period under the new ratio
    _minute(d, vals, clk, 2000.0, 10.0)
    _minute(d, vals, clk, 2000.0, 10.0)
    assert abs(d.maximum(0) - 2000.0) < 0.1


def test_restart_empties_every_sum_of_the_window():
    # restart() zeroes the arrays in viper (limbs.zero, word counts by hand): every word of the running and
    # completed subintervals, counts and flags, not only the first ones; the maxima and their stamps stay
    d, vals, clk, img, cfg = _make(3, 1)
    for a in (d.ring, d.cur, d.cnt, d.known, d.total, d.ts):
        for k in range(len(a)):
            a[k] = k + 1
    for k in range(len(d.whole)):
        d.whole[k] = 1
    d.wholes = d.full = d.head = d.samples = 5
    micropython.heap_lock()
    try:
        d.restart()
    finally:
        micropython.heap_unlock()
    for a in (d.ring, d.cur, d.cnt, d.known, d.total, d.whole):
        assert len(a) and all(x == 0 for x in a), a
    assert d.wholes == d.full == d.head == d.samples == 0
    assert all(d.ts[k] == k + 1 for k in range(len(d.ts)))  # the maxima's stamps are kept


def test_first_subintervals_average_what_there_is():
    d, vals, clk, img, cfg = _make(15, 5)
    _minute(d, vals, clk, 300.0, 1.0)  # 00:01:00: not a 5-minute boundary, nothing closes
    assert d.value(0) == 0.0 and d.full == 0
    for k in range(4):
        _minute(d, vals, clk, 300.0, 1.0)
    assert d.full == 1 and abs(d.value(0) - 300.0) < 0.05


def test_clear_needs_the_password():
    d, vals, clk, img, cfg = _make(1, 1)  # DM_P = DM_S: one whole minute makes a maximum
    _minute(d, vals, clk, 1000.0, 5.0, locked=False)
    assert d.maximum(0) > 0 and _f32(img, "MaxDmd_P_D", "demand_t") != 0
    wrong = bytes((0x12, 0x34))
    assert d.cmd_write(0x33, 1, wrong, 0) == -ILLEGAL_DATA_VALUE and d.maximum(0) > 0
    pw = cfg.get("PASS")
    ok = bytes((pw >> 8, pw & 0xFF))
    micropython.heap_lock()
    try:
        r = d.cmd_write(0x33, 1, ok, 0)
    finally:
        micropython.heap_unlock()
    assert r == 0 and d.maximum(0) == 0.0 and _f32(img, "MaxDmd_P_D", "demand_t") == 0
    assert abs(d.value(0) - 1000.0) < 0.05  # the present demand goes on


def test_subinterval_must_divide_period():
    cfg = Config()
    assert cfg.get("DM_P") == 15 and cfg.get("DM_S") == 1
    assert not cfg.set("DM_S", 4) and cfg.set("DM_S", 5)
    assert not cfg.set("DM_P", 12) and cfg.set("DM_P", 20) and cfg.set("DM_P", 60)
    assert cfg.set("DM_S", 60) and not cfg.set("DM_P", 30)
    k = regmap.config_index("DM_S")
    assert not cfg.valid_index(k, 7) and cfg.valid_index(k, 6)


def test_maximum_survives_a_restart():
    st = FakeStore()
    d, vals, clk, img, cfg = _make(1, 1, store=st)
    _minute(d, vals, clk, 1234.0, 2.0, locked=False)
    d.service(30)  # first save at once: nothing saved before
    assert st.writes == 1
    _minute(d, vals, clk, 2000.0, 2.0, locked=False)
    d.service(60)  # changed, but saved less than a minute ago
    assert st.writes == 1
    d.power_down()
    assert st.writes == 2
    d2, vals2, clk2, img2, cfg2 = _make(store=st)
    assert abs(d2.maximum(0) - d.maximum(0)) < 1e-3 and d2.ts[1] == d.ts[1]
    assert abs(_f32(img2, "MaxDmd_P") - d.maximum(0)) < 1e-3


def test_import_export_and_neutral_demand():
    # SDM630 0x0058..0x005E, 0x0068/0x006A: import demand averages P while importing (0 while exporting), export
    # demand -P while exporting; the neutral current's demand like the phase currents'. Over 3 minutes of
    # +3000 W, -1500 W, +3000 W: P demand 1500, import (3000 + 0 + 3000) / 3 = 2000, export 500; the maxima are
    # those of the first whole DM_P (3 minutes), at 00:03:00.
    d, vals, clk, img, cfg = _make()
    vals[regmap.slot("I_N")] = 0.75
    for p in (3000.0, -1500.0, 3000.0):
        _minute(d, vals, clk, p, 5.0)
    i = list(regmap.DMD_Q)
    assert abs(d.value(0) - 1500.0) < 0.05
    assert abs(d.value(i.index("P_imp")) - 2000.0) < 0.05 and abs(d.value(i.index("P_exp")) - 500.0) < 0.05
    assert abs(d.value(i.index("I_N")) - 0.75) < 1e-4
    assert abs(_f32(img, "Dmd_P_imp") - 2000.0) < 0.05 and abs(_f32(img, "Dmd_P_exp") - 500.0) < 0.05
    assert abs(_f32(img, "MaxDmd_P_imp") - 2000.0) < 0.05
    assert abs(_f32(img, "MaxDmd_P_exp") - 500.0) < 0.05 and abs(_f32(img, "MaxDmd_I_N") - 0.75) < 1e-4
    assert _f32(img, "MaxDmd_P_exp_D", "demand_t") == 20261126 and _f32(img, "MaxDmd_P_imp_T", "demand_t") == 300
    # the first six quantities kept their addresses (rows 0-11): MaxDmd_P still 12 registers after Dmd_P
    assert regmap.locate({"MaxDmd_P"})["MaxDmd_P"][1] == regmap.block("demand")[0] + 12


def test_demand_record_from_before_the_new_quantities_loads():
    st = FakeStore()
    d, vals, clk, img, cfg = _make(1, 1, store=st)  # DM_P = DM_S: one whole minute makes a maximum
    _minute(d, vals, clk, 1234.0, 2.0, locked=False)
    d.power_down()
    rec = st.d["demand"]
    assert len(rec) == 16 * 9
    old = array("f", [d.value(k) for k in range(6)] + [d.maximum(k) for k in range(6)])
    ts = array("i", list(d.ts)[:12])
    st.d["demand"] = bytes(old) + bytes(ts)  # the 6-quantity record of the last release
    d2, vals2, clk2, img2, cfg2 = _make(store=st)
    assert abs(d2.maximum(0) - 1234.0) < 0.05 and d2.ts[1] == d.ts[1] and d2.maximum(6) == 0.0
    assert abs(_f32(img2, "MaxDmd_Ib") - d.maximum(4)) < 1e-6


def _tick(clk):
    h, m, s = clk.hms // 10000, clk.hms // 100 % 100, clk.hms % 100 + 1
    if s == 60:
        s = 0
        m += 1
    if m == 60:
        m = 0
        h += 1
    clk.hms = h * 10000 + m * 100 + s


def _seconds(d, vals, clk, n, p):
    """n seconds of 1600-sample windows (5 per second) at P = p W, the clock ticking, as in Meter.each_second."""
    vals[regmap.slot("P")] = p
    micropython.heap_lock()
    try:
        for s in range(n):
            for k in range(5):
                d.window(1600)
            _tick(clk)
            d.second(clk.hms)
    finally:
        micropython.heap_unlock()


def test_maximum_only_over_a_whole_demand_period():
    # powered up at 10:15:30: the subinterval closing at 10:16:00 lasted 30 s, so no window holding it is a whole
    # DM_P (2 minutes): its 30 s at 9 kW shows in the present demand but is no maximum demand
    d, vals, clk, img, cfg = _make(2, 1)
    clk.hms = 101530
    _seconds(d, vals, clk, 30, 9000.0)
    assert abs(d.value(0) - 9000.0) < 0.5 and d.ts[0] == 0
    _seconds(d, vals, clk, 60, 1000.0)
    assert clk.hms == 101700 and abs(d.value(0) - (9000.0 * 30 + 1000.0 * 60) / 90) < 0.5
    assert d.maximum(0) == 0.0 and _f32(img, "MaxDmd_P_D", "demand_t") == 0
    _seconds(d, vals, clk, 60, 1000.0)  # 10:18:00: two whole minutes
    assert abs(d.maximum(0) - 1000.0) < 0.05 and _f32(img, "MaxDmd_P_T", "demand_t") == 101800
    # a clock set mid-minute cuts a subinterval short: again no maximum until a whole DM_P has passed
    clk.hms = 102045
    _seconds(d, vals, clk, 15, 5000.0)  # 10:21:00 after 15 s
    _seconds(d, vals, clk, 60, 1000.0)
    assert abs(d.value(0) - (5000.0 * 15 + 1000.0 * 60) / 75) < 0.5 and abs(d.maximum(0) - 1000.0) < 0.05


def test_only_known_values_count():
    # metering's mask: a window in which Q was not known (a transition: stale or partial values) adds neither its
    # value nor its time to Q's subinterval; a window known for nothing adds nothing to any quantity
    from firmware.metering_codes import KNOWN, MEAS

    vals = array("f", [0.0] * regmap.N_MEAS)
    clk = FakeClock()
    mask = bytearray([MEAS | KNOWN] * regmap.N_MEAS)
    d = Demand(vals, clk, None, bytearray(2 * regmap.block_end()), Config(), mask)
    d.configure(1, 1, 1, 1)
    sq, sp = regmap.slot("Q"), regmap.slot("P")
    micropython.heap_lock()
    try:
        for s in range(60):
            for k in range(5):
                vals[sp] = 1000.0
                vals[sq] = -500.0
                mask[sq] = MEAS | KNOWN
                mask[sp] = MEAS | KNOWN
                if k == 2:
                    vals[sq] = 99999.0  # not known in this window
                    mask[sq] = MEAS
                if k == 4:
                    vals[sp] = 0.0  # F = 0-like: nothing known
                    vals[sq] = 0.0
                    mask[sp] = 0
                    mask[sq] = 0
                d.window(1600)
            _tick(clk)
            d.second(clk.hms)
    finally:
        micropython.heap_unlock()
    assert abs(d.value(0) - 1000.0) < 0.05 and abs(d.value(1) + 500.0) < 0.05, (d.value(0), d.value(1))
    assert list(d.cnt[:3]) == [4 * 60 * 1600, 3 * 60 * 1600, 5 * 60 * 1600], list(d.cnt[:3])  # P, Q, S (always known)
    assert abs(d.maximum(1) + 500.0) < 0.05  # the minute was whole (its windows all count as time)
