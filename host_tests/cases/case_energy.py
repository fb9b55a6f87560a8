# SPDX-License-Identifier: MIT
# Energy, periods, pulses and the clock: limb arithmetic against Python's unbounded ints, calendar
# rollovers, pulses == energy, overflow arithmetic, register writes, and the hot paths under heap_lock.
import math
import struct
from array import array

import micropython

from firmware import limbs, regmap
from firmware.clock import Clock, day_number, valid_hms, valid_ymd
from firmware.energy import AH, ES, FRAC, NL, Energy
from firmware.ledger import Ledger, lcd_energy
from firmware.meter import Meter
from firmware.periods import Periods
from firmware.regbank import RegisterBank
from firmware.config import Config
from firmware.store import Store
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from signals import balanced_block as _block



def _rng(seed):
    s = [seed]

    def r(bits):
        s[0] = (s[0] * 1103515245 + 12345) & 0x7FFFFFFF
        v = s[0]
        out = 0
        while bits > 0:
            s[0] = (s[0] * 1103515245 + 12345) & 0x7FFFFFFF
            out = (out << 15) | (s[0] >> 16 & 0x7FFF)
            bits -= 15
        return out ^ v

    return r


def test_limbs_match_unbounded_ints():
    r = _rng(7)
    a = array("i", [0] * 32)
    for _ in range(200):
        x = r(90) % (1 << 75)
        y = r(30) % (1 << 30)
        limbs.from_int(a, 0, 5, x)
        limbs.from_int(a, 5, 2, y)
        limbs.mul(a, 0, 5, a, 5, 2, a, 8)
        assert limbs.to_int(a, 8, 7) == x * y
        sh = r(15) % 70
        limbs.shr(a, 8, 7, sh, a, 16, 5)
        assert limbs.to_int(a, 16, 5) == ((x * y) >> sh) % (1 << 75)
        limbs.from_int(a, 24, 8, x)
        limbs.add(a, 24, 8, a, 8, 7)
        assert limbs.to_int(a, 24, 8) == x + x * y
        c = limbs.cmp(a, 24, a, 8, 7)
        assert c == (1 if x else 0)
        limbs.sub(a, 24, a, 8, 8)
        assert limbs.to_int(a, 24, 8) == x
    # signed 64-bit pairs (the sampler's sums) to magnitude + sign
    dn = array("i", [0, 0])
    for v in (0, 1, -1, (1 << 57) - 1, -(1 << 57), 123456789012345, -98765432109876, 1 << 32, -(1 << 32)):
        lo = v & 0xFFFFFFFF
        hi = (v >> 32) & 0xFFFFFFFF
        dn[0] = lo - (1 << 32) if lo >= 1 << 31 else lo
        dn[1] = hi - (1 << 32) if hi >= 1 << 31 else hi
        neg = limbs.from_i64(dn, 0, a, 0)
        assert neg == (1 if v < 0 else 0) and limbs.to_int(a, 0, 5) == abs(v)
    buf = bytearray(8)
    limbs.from_int(a, 0, 5, 0x0123456789ABCDEF)
    limbs.put_u64(a, 0, buf, 0)
    assert bytes(buf) == b"\x01\x23\x45\x67\x89\xab\xcd\xef"


def test_clock_ticks_through_month_ends_and_leap_days():
    c = Clock(20280228, 235959)
    c.tick()
    assert (c.ymd, c.hms) == (20280229, 0)  # 2028 is a leap year
    c = Clock(20270228, 235959)
    c.tick()
    assert c.ymd == 20270301
    c = Clock(20001231, 235959)
    c.tick()
    assert (c.ymd, c.hms) == (20010101, 0)
    c = Clock(20260430, 235958)
    c.tick()
    assert (c.ymd, c.hms) == (20260430, 235959)
    c.tick()
    assert (c.ymd, c.hms) == (20260501, 0)
    c = Clock(20260101, 5959)
    c.tick()
    assert c.hms == 10000
    assert valid_ymd(20000229) and not valid_ymd(20270229) and not valid_ymd(20260431)
    assert not valid_ymd(21000101) and not valid_ymd(20261301) and not valid_ymd(20260100)
    assert valid_hms(235959) and not valid_hms(240000) and not valid_hms(126000) and not valid_hms(120060)
    assert not c.set_ymd(20270229) and c.set_ymd(20280229) and c.ymd == 20280229
    assert day_number(20000101) == 0 and day_number(20010101) == 366 and day_number(20280301) - day_number(
        20280228) == 2
    # a whole leap year second by second would be slow: a day by ticks, then day numbers over 4 years
    c = Clock(20231231, 0)
    for _ in range(86400):
        c.tick()
    assert (c.ymd, c.hms) == (20240101, 0)


def _add(e, q, wh):
    t = array("i", [0] * NL)
    limbs.from_int(t, 0, NL, wh << FRAC)
    limbs.add(e.acc, q * NL, NL, t, 0, NL)


def test_periods_roll_at_midnight_and_month_end():
    e = Energy()
    p = Periods(e, 20280227)
    p.restart()
    _add(e, 0, 100)  # EP_imp today (Feb 27)
    assert p.check(20280227) == 0 and p.wh(3, 0) == 100 and p.wh(0, 0) == 100
    assert p.check(20280228) == 1
    _add(e, 0, 7)
    assert (p.wh(3, 0), p.wh(4, 0), p.wh(5, 0)) == (7, 100, 0)
    p.check(20280229)  # leap day
    _add(e, 2, 5)  # EQ_imp
    assert (p.wh(3, 0), p.wh(4, 0), p.wh(5, 0), p.wh(3, 2)) == (0, 7, 100, 5)
    assert p.wh(0, 0) == 107  # the month runs on
    p.check(20280301)  # month end
    assert (p.wh(0, 0), p.wh(1, 0), p.wh(2, 0), p.wh(1, 2)) == (0, 107, 0, 5)
    assert (p.wh(3, 0), p.wh(4, 0), p.wh(4, 2), p.wh(5, 0)) == (0, 0, 5, 7)
    _add(e, 1, 3)
    p.check(20280303)  # a day without power: yesterday is empty, the day before holds the 3 Wh
    assert (p.wh(3, 1), p.wh(4, 1), p.wh(5, 1)) == (0, 0, 3)
    p.check(20280601)  # three months later: all closed months are empty
    assert (p.wh(0, 1), p.wh(1, 1), p.wh(2, 1)) == (0, 0, 0)
    img = bytearray(200)
    p.publish(img, 0)
    b = p.to_bytes()
    q = Periods(e, 0)
    assert q.from_bytes(b) and q.ymd == 20280601 and q.to_bytes() == b


def test_meter_energy_analytic_pulses_and_no_allocation():
    m = Meter(None)
    m.set("Pt_U", 10)
    m.set("Ct_I", 20)
    n = 400
    blocks = [_block(j * n, n) for j in range(4)]
    for j in range(8):
        m.feed(blocks[j % 4], n)
    led = m.ledger
    e = led.energy
    w0 = e.windows
    acc0 = limbs.to_int(e.acc, 0, NL)
    q0 = limbs.to_int(e.acc, 2 * NL, NL)
    s0 = limbs.to_int(e.acc, ES * NL, NL)
    a0 = limbs.to_int(e.acc, AH * NL, NL)
    m.clock.set_hms(235958)  # midnight (a period rollover) falls inside the locked run
    micropython.heap_lock()
    try:
        for j in range(60):  # 3 s: windows, 3 clock seconds, publishes, pulses
            m.feed(blocks[j % 4], n)
    finally:
        micropython.heap_unlock()
    windows = e.windows - w0
    assert windows == 15
    assert m.clock.ymd == 20260102 and led.periods.rolls == 1
    got = (limbs.to_int(e.acc, 0, NL) - acc0) / 2**FRAC
    qgot = (limbs.to_int(e.acc, 2 * NL, NL) - q0) / 2**FRAC
    want = 3 * 220 * 5 * math.cos(math.pi / 6) * 200 * 3 / 3600  # 15 windows = 3 s exactly at 50 Hz, PtCt 200
    assert abs(got / want - 1) < 1e-4, (got, want)
    assert abs(qgot / (want * math.tan(math.pi / 6)) - 1) < 1e-4
    # apparent energy 3 U I Pt Ct t (VAh) and ampere-hours 3 I Ct t (kept in mAh) over the same 3 s
    sgot = (limbs.to_int(e.acc, ES * NL, NL) - s0) / 2**FRAC
    agot = (limbs.to_int(e.acc, AH * NL, NL) - a0) / 2**FRAC
    assert abs(sgot / (3 * 220 * 5 * 200 * 3 / 3600) - 1) < 1e-4, sgot
    assert abs(agot / (1000 * 3 * 5 * 20 * 3 / 3600) - 1) < 1e-4, agot
    # pulses: floor(secondary EP_total x constant / 1 kWh), exactly, from the same increments
    tot = limbs.to_int(e.acc, 0, NL) + limbs.to_int(e.acc, NL, NL)
    assert e.gen[0] == tot * 3200 // 200 // (1000 << FRAC) or e.gen[0] == (tot // 200) * 3200 // (1000 << FRAC)
    # registers: uint64 Wh, high word first (published each second: publish now to compare)
    led.publish()
    img = m.regs.image
    a = 2 * regmap.block("energy")[0]
    reg = 0
    for k in range(8):
        reg = (reg << 8) | img[a + k]
    assert reg == limbs.to_int(e.acc, 0, NL) >> FRAC and reg == e.wh("EP_imp")
    assert m.state()["energy"]["pulses"][0] == e.gen[0]


def test_export_goes_to_export_registers():
    m = Meter(None)
    m.set("Ct_I", 100)
    n = 400
    blocks = [_block(j * n, n, sign=-1) for j in range(4)]
    for j in range(30):
        m.feed(blocks[j % 4], n)
    e = m.ledger.energy
    assert e.wh("EP_imp") == 0 and e.wh("EP_exp") > 0 and e.wh("EPa_exp") > 0 and e.wh("EPa_imp") == 0
    assert e.wh("EP_net") == e.wh("EP_exp") and e.wh("EP_total") == e.wh("EP_exp")
    # current 30 deg lagging, reversed: quadrant III, Q < 0 (negative reactive)
    assert e.wh("EQ_exp") > 0 and e.wh("EQ_imp") == 0


def test_overflow_arithmetic_ten_years_full_scale():
    # worst window: 2400 samples (300 ms) of |u i| = 2**30 reduced codes (1000 V x 25 A peak, DC), Q15
    r = 2400 * (1 << 30) * (1 << 15)
    g = int(round(2.0 * 2**33 / 9))  # gains up to 2.0 (calibration factors of 1.41 each)
    d = (r * g) >> 45  # F units (2**-40 Wh), secondary, per phase
    assert d < 1 << 75  # 5 limbs
    prim = d * 9999 * 9999
    assert prim < 1 << 105  # 7 limbs into an 8-limb accumulator
    windows_10y = (10 * 366 * 86400 * 8000) // 2400
    total = 3 * prim * windows_10y  # EP_total over 10 years, three phases at DC full scale
    assert total < 1 << 120  # the accumulator (8 x 15 bits)
    wh = total >> FRAC
    assert wh < 1 << 64  # the uint64 register (Wh)
    assert wh > 10**18  # sanity: 2.5 kW... x 1e8 x 87840 h is of that order
    # and the accumulator really carries it: add the 10-year total, then a window, and read it back
    e = Energy()
    limbs.from_int(e.acc, 0, NL, total)
    t = array("i", [0] * NL)
    limbs.from_int(t, 0, NL, prim)
    assert limbs.add(e.acc, 0, NL, t, 0, NL) == 0
    assert limbs.to_int(e.acc, 0, NL) == total + prim
    img = bytearray(2 * 4 * len(regmap.ENERGY))
    e.publish(img, 0)
    assert struct.unpack(">Q", img[0:8])[0] == (total + prim) >> FRAC


def test_lcd_hex_above_99999999_9():
    assert lcd_energy(0) == "0.0" and lcd_energy(1234567) == "1234.5"
    assert lcd_energy(99999999999) == "99999999.9"
    big = 100000000000  # 1e8 kWh
    assert lcd_energy(big) == "%08X" % struct.unpack(">I", struct.pack(">f", 1e8))[0] == "4CBEBC20"


def test_clock_and_clear_over_registers():
    cfg = Config(None)
    regs = RegisterBank(cfg, array("f", [0.0] * regmap.N_MEAS))
    led = Ledger(Store(None), regs, cfg, regs.vals, regmap.slot)
    base = regmap.block("clock")[0]
    src = bytearray(struct.pack(">II", 20280229, 123456))
    assert regs.write(base, 4, src, 0) == 0 and (led.clock.ymd, led.clock.hms) == (20280229, 123456)
    assert regs.write(base, 4, bytearray(struct.pack(">II", 20270229, 0)), 0) == -ILLEGAL_DATA_VALUE
    assert regs.write(base + 2, 2, bytearray(struct.pack(">I", 240000)), 0) == -ILLEGAL_DATA_VALUE
    assert regs.write(base + 2, 2, bytearray(struct.pack(">I", 235959)), 0) == 0 and led.clock.hms == 235959
    assert regs.write(base + 1, 2, src, 0) == -ILLEGAL_DATA_VALUE  # half of each uint32
    assert regs.write(base, 2, bytearray(b"\xff\xff\xff\xff"), 0) == -ILLEGAL_DATA_VALUE
    assert bytes(regs.image[2 * base:2 * base + 8]) == struct.pack(">II", 20280229, 235959)
    _add(led.energy, 0, 5000)
    clr = regmap.block("commands")[0] + 1
    assert regs.write(clr, 1, bytearray(b"\x00\x01"), 0) == -ILLEGAL_DATA_VALUE and led.energy.wh("EP_imp") == 5000
    pw = cfg.get("PASS")
    assert regs.write(clr, 1, bytearray(bytes((pw >> 8, pw & 0xFF))), 0) == 0 and led.energy.wh("EP_imp") == 0
    led.service()
    assert led.saves >= 1


def test_save_policy_and_restore():
    st = Store(None)
    cfg = Config(None)
    regs = RegisterBank(cfg, array("f", [0.0] * regmap.N_MEAS))
    led = Ledger(st, regs, cfg, regs.vals, regmap.slot)
    led.configure(None)
    assert led.energy.save_wh == 55  # 60 s of 3 x 220 V x 5 A = 55 Wh > 10 Wh
    for _ in range(29):
        led.second()
    led.service()
    assert led.saves == 0
    t = array("i", [0] * NL)
    limbs.from_int(t, 0, NL, 100 << FRAC)
    limbs.add(led.energy.unsaved, 0, NL, t, 0, NL)
    led.service()
    assert led.saves == 0  # due, but the last save (start-up) is not 30 s old yet
    led.second()
    led.service()
    assert led.saves == 1
    for _ in range(30):
        led.second()
    limbs.from_int(t, 0, NL, 54 << FRAC)
    limbs.add(led.energy.unsaved, 0, NL, t, 0, NL)
    led.service()
    assert led.saves == 1  # 54 Wh unsaved: below the 55 Wh bound
    limbs.from_int(t, 0, NL, 1 << FRAC)
    limbs.add(led.energy.unsaved, 0, NL, t, 0, NL)
    _add(led.energy, 0, 55)
    led.service()
    assert led.saves == 2
    led.clock.set_ymd(20300515)
    led.power_down()
    led2 = Ledger(st, RegisterBank(cfg, regs.vals), cfg, regs.vals, regmap.slot)
    assert led2.energy.wh("EP_imp") == 55 and led2.clock.ymd == 20300515


def test_energy_record_with_and_without_apparent_energy():
    # the record keeps ES and AH across a power cut; a record written before they existed (16 accumulators)
    # still loads, with ES and AH from 0
    e = Energy()
    for q in range(18):
        t = array("i", [0] * NL)
        limbs.from_int(t, 0, NL, (1000 + q) << FRAC)
        limbs.add(e.acc, q * NL, NL, t, 0, NL)
    e.rtime = 77
    b = e.to_bytes()
    f = Energy()
    assert f.from_bytes(b) and f.wh("ES") == 1016 and f.wh("AH") == 1017 and f.wh("EP_imp") == 1000
    assert f.to_bytes() == b and f.rtime == 77
    old = b[:8 + 2 * 16 * NL] + b[8 + 2 * 18 * NL:]  # 16 accumulators, then the pulse buckets
    g = Energy()
    assert g.from_bytes(old) and g.wh("EQc_exp") == 1015 and g.wh("ES") == 0 and g.wh("AH") == 0
    assert not g.from_bytes(old[:-2])


def _unlock(m):
    m.key("enter")
    for _ in range(4):
        for _ in range(6):
            m.key("up")
        m.key("right")
    m.key("enter")  # password 6666: the settings list


def _goto(m, name):
    menu = m.ui.menu
    for _ in range(len(menu.params)):
        if menu.param_name() == name:
            return
        m.key("down")
    raise AssertionError(name)


def test_panel_sets_clock_and_clears_energy():
    m = Meter(None)
    _unlock(m)
    _goto(m, "dATE")
    assert "2026.01.01" in m.lcd_text()
    for k in "enter up up right up right down enter".split():  # field by field: 2028, 02, 01 -> 29 (leap)
        m.key(k)
    assert m.clock.ymd == 20280229 and "dATE  2028.02.29" in m.lcd_text()
    for k in "enter down enter".split():  # 2027.02.29: refused by the clock
        m.key(k)
    assert "Err" in m.lcd_text() and m.clock.ymd == 20280229
    _goto(m, "tinE")
    for k in "enter down right down right down enter".split():  # 00 -> 23, 00 -> 59, 00 -> 59
        m.key(k)
    assert m.clock.hms == 235959
    _add(m.ledger.energy, 0, 1234)
    _goto(m, "cLr_Eny")
    m.key("enter")
    m.key("up")  # no -> YES
    m.key("enter")
    assert m.ledger.energy.wh("EP_imp") == 0 and m.ledger.cleared == 1
    m.key("left")  # dismisses "cLEAr donE": back in the list
    m.key("left")
    m.key("right")  # Meter: energy group, EP page
    assert "Imp" in m.lcd_text()
    m.key("up")  # the clock page is the last of the group: UP wraps to it
    t = m.lcd_text()
    assert "2028.02.29" in t and "23:59:59" in t, t


def test_pulse_output_widths_and_no_pulse_lost():
    from firmware.pulse import Pulse, width_ms

    assert width_ms(3) == 80 and width_ms(6) == 76 and width_ms(40) == 12 and width_ms(1000) == 5
    gen = array("i", [0, 0])
    edges = bytearray(4)  # rising/falling edges per channel: [ch0 fall, ch0 rise, ch1 fall, ch1 rise]

    def out(ch, lv):
        edges[2 * ch + lv] += 1

    p = Pulse(gen, out)
    p.configure(3, 0)  # 80 ms = 640 samples
    gen[0] = 5  # a burst of 5 pulses due at once
    gen[1] = 3  # reactive pulses while Pulse_Q = 0 (terminals 29/30 off): counted, not played
    micropython.heap_lock()
    try:
        for _ in range(40):  # 40 x 50 ms = 2 s: 5 x (80 on + 80 off) fits
            p.advance(400)
    finally:
        micropython.heap_unlock()
    assert p.emitted[0] == 5 and p.emitted[1] == 3 and p.level[0] == 0
    assert edges[1] == 5 and edges[0] == 5 and edges[3] == 0
    p.configure(3, 1)
    gen[1] = 4
    for _ in range(10):
        p.advance(400)
    assert p.emitted[1] == 4 and edges[3] == 1
