# SPDX-License-Identifier: MIT
# The meter says when its inputs are wrong (firmware/inputflags.py): three scenarios through the
# assembled meter (over range, a blown voltage fuse, a reversed sequence) flag what they should and nothing else,
# the default load flags nothing; exact STATUS and counter bytes; the per-window path with the heap locked.
import math
from array import array

import micropython

from firmware import events as ev
from firmware import regmap
from firmware.meter import Meter
from firmware.modbus.codes import ILLEGAL_DATA_VALUE

FS = 8000
CODE_V = 8388608 / 1000.0
CODE_A = 8388608 / 25.0
_N = 400  # samples per block (50 ms)
_STATUS = regmap.block("status")[0]
_OVR_N = regmap.block("ovr_n")[0]


def _period(phases, f=50.0):
    """One period (160 samples at 50 Hz) of 8 interleaved channels, clamped to the ADC's 24-bit codes as the
    front end does: phases = [(U, I, lag, voltage angle)] for a b c (degrees; angle 0 / -120 / +120 is a-b-c)."""
    n = int(FS / f)
    b = array("i", [0] * (8 * n))
    for k in range(n):
        t = 2 * math.pi * f * k / FS
        for p in range(3):
            u, i, lag, va = phases[p]
            a = t + math.radians(va)
            for c, x in ((p, u * math.sqrt(2) * CODE_V * math.sin(a)),
                         (3 + p, i * math.sqrt(2) * CODE_A * math.sin(a - math.radians(lag)))):
                b[8 * k + c] = max(-8388608, min(8388607, int(round(x))))
    return b


def _blocks(per):
    # 400-sample blocks cut from the repeating period (160 samples: 5 periods make 2 blocks)
    n = len(per) // 8
    big = array("i", [0] * (8 * 2 * _N))
    for k in range(2 * _N):
        for c in range(8):
            big[8 * k + c] = per[8 * (k % n) + c]
    return [big[:8 * _N], big[8 * _N:]]


BALANCED = [(220.0, 5.0, 30.0, 0.0), (220.0, 5.0, 30.0, -120.0), (220.0, 5.0, 30.0, 120.0)]
OVER = [(220.0, 20.0, 0.0, 0.0), (220.0, 20.0, 0.0, -120.0), (220.0, 20.0, 0.0, 120.0)]
FUSE = [(220.0, 5.0, 30.0, 0.0), (0.0, 5.0, 30.0, -120.0), (220.0, 5.0, 30.0, 120.0)]
REVERSED = [(220.0, 5.0, 30.0, 0.0), (220.0, 5.0, 30.0, 120.0), (220.0, 5.0, 30.0, -120.0)]


def _run(m, blks, seconds):
    for j in range(int(seconds * FS / _N)):
        m.feed(blks[j % 2], _N)
        m.service()


def _status(m):
    a = 2 * _STATUS
    return [(m.regs.image[a + 2 * k] << 8) | m.regs.image[a + 2 * k + 1] for k in range(9)]


def _counts(m):
    a = 2 * _OVR_N
    img = m.regs.image
    return [(img[a + 4 * k] << 24) | (img[a + 4 * k + 1] << 16) | (img[a + 4 * k + 2] << 8) | img[a + 4 * k + 3]
            for k in range(7)]


def _events(m, kinds):
    out = []
    log = m.journal.log
    for k in range(log.kept):
        e = log.get(k)
        if e[3] in kinds:
            out.append((e[3], e[4], e[7]))
    return out


_INPUT_KINDS = (ev.OVER_RANGE, ev.NO_VOLTAGE, ev.PHASE_SEQ)


def test_default_load_flags_nothing():
    m = Meter(None)
    _run(m, _blocks(_period(BALANCED)), 3.0)
    st = _status(m)
    assert st[5:] == [1, 0, 0, 0], st  # SEQ a-b-c, no over range (now, latched), no current without voltage
    assert _counts(m) == [0] * 7
    assert _events(m, _INPUT_KINDS) == []
    assert m.flags.mark() == "" and m.ui.screen().warn == ""
    assert m.vals[regmap.slot("UNB_U")] < 0.01


def test_over_range_is_flagged_counted_and_logged_once():
    # 20 A on every phase (28.3 A peak, the ADC's full scale is 25 A): bits 3-5 every window, counted, latched;
    # one event per channel on entering and one on leaving (1 s after the load is back in range)
    m = Meter(None)
    _run(m, _blocks(_period(BALANCED)), 1.0)
    w0 = m.metering.windows
    _run(m, _blocks(_period(OVER)), 2.0)
    w = m.metering.windows - w0
    st = _status(m)
    assert st[5:] == [1, 0x38, 0x38, 0], st
    c = _counts(m)
    assert c[:3] == [0, 0, 0] and c[6] == 0 and w - 1 <= c[3] == c[4] == c[5] <= w, (c, w)
    img = m.regs.image
    a = 2 * (_OVR_N + 2 * 3)  # OVR_Ia, uint32 high word first: the exact bytes
    assert bytes(img[a:a + 4]) == bytes((0, 0, 0, c[3]))
    mk = m.metering.mask
    for name in ("Ia", "Ib", "Ic", "Pa", "P", "Sa", "S", "I_avg"):
        assert mk[regmap.slot(name)] == 0, name  # not measured, not known: statistics skip the window
    assert mk[regmap.slot("Ua")] == 3 and mk[regmap.slot("F")] == 3  # the voltages are fine
    assert m.ui.screen().warn == "OVR" and "OVR Ia Ib Ic" in m.lcd_text()
    assert _events(m, _INPUT_KINDS) == [(ev.OVER_RANGE, 5, 1), (ev.OVER_RANGE, 4, 1), (ev.OVER_RANGE, 3, 1)]
    _run(m, _blocks(_period(BALANCED)), 2.0)
    st = _status(m)
    assert st[5:] == [1, 0, 0x38, 0], st  # over range now gone, still latched
    c2 = _counts(m)  # the window the switch fell in had over-range samples too
    assert c2[3] == c2[4] == c2[5] and c[3] <= c2[3] <= c[3] + 1, (c, c2)
    got = _events(m, _INPUT_KINDS)
    assert got[:3] == [(ev.OVER_RANGE, 5, 0), (ev.OVER_RANGE, 4, 0), (ev.OVER_RANGE, 3, 0)], got
    assert len(got) == 6 and m.ui.screen().warn == ""
    # cLr_OVR with the password clears the latch and the counters (and says so in the log); a wrong one: 03
    clr = regmap.block("commands")[0] + 6
    assert m.flags.cmd_write(clr, 1, b"\x00\x01", 0) == -ILLEGAL_DATA_VALUE
    assert m.flags.cmd_write(clr, 1, bytes((6666 >> 8, 6666 & 255)), 0) == 0
    m.service()
    assert _status(m)[7] == 0 and _counts(m) == [0] * 7
    e = m.journal.log.get(0)
    assert (e[3], e[4]) == (ev.CLEAR, 3)


def test_blown_fuse_flags_phase_b_only():
    # Ub = 0 V while phase B's CT carries 5 A: NOV bit 1 after a second, one event, the LCD says NO U
    m = Meter(None)
    _run(m, _blocks(_period(BALANCED)), 1.0)
    _run(m, _blocks(_period(FUSE)), 0.6)
    assert _status(m)[8] == 0  # held 1 s before it is said
    _run(m, _blocks(_period(FUSE)), 1.4)
    st = _status(m)
    assert st[5:] == [1, 0, 0, 2], st  # the sequence stays known from two voltages (|U2| = |U1| / 2)
    assert _counts(m) == [0] * 7
    got = _events(m, _INPUT_KINDS)
    assert got == [(ev.NO_VOLTAGE, 1, 1)], got
    assert abs(m.journal.log.get(0)[6] - 5.0) < 0.01  # the current it is about
    assert m.ui.screen().warn == "NO U" and "noU B" in m.lcd_text()
    _run(m, _blocks(_period(BALANCED)), 1.6)
    assert _status(m)[8] == 0 and _events(m, _INPUT_KINDS)[0] == (ev.NO_VOLTAGE, 1, 0)


def test_reversed_sequence_reads_as_such():
    # a-c-b: SEQ 2, the unbalance at its cap (never 0), one event; P and Q untouched; back to a-b-c: one more
    m = Meter(None)
    _run(m, _blocks(_period(REVERSED)), 3.0)
    st = _status(m)
    assert st[5:] == [2, 0, 0, 0], st
    assert m.vals[regmap.slot("UNB_U")] == 100.0 and m.vals[regmap.slot("UNB_I")] == 100.0
    assert abs(m.vals[regmap.slot("P")] / (3 * 1100 * math.cos(math.pi / 6)) - 1) < 0.002
    assert _events(m, _INPUT_KINDS) == [(ev.PHASE_SEQ, 2, 1)]
    assert m.ui.screen().warn == "ACB" and "acb" in m.lcd_text()
    _run(m, _blocks(_period(BALANCED)), 3.0)
    assert _status(m)[5] == 1 and _events(m, _INPUT_KINDS)[0] == (ev.PHASE_SEQ, 1, 2)
    assert m.vals[regmap.slot("UNB_U")] < 0.01


def test_per_window_flags_heap_locked():
    # over range and a blown fuse at once, 2 s of windows with the heap locked (metering, flags, status, counters)
    m = Meter(None)
    mix = [OVER[0], FUSE[1], OVER[2]]
    blks = _blocks(_period(mix))
    _run(m, blks, 0.5)
    w0 = m.metering.windows
    micropython.heap_lock()
    try:
        for j in range(40):
            m.feed(blks[j % 2], _N)
    finally:
        micropython.heap_unlock()
    assert m.metering.windows - w0 >= 9
    st = _status(m)
    assert st[6] == 0x28 and st[7] == 0x28 and st[8] == 2, st


def test_current_rms_is_the_ac_part():
    # A half-wave rectified sine of 10 A peak on Ia (a diode load): its rms is 5.000 A with the DC of A / pi =
    # 3.183 A; the meter reads the AC part, A sqrt(1/4 - 1/pi**2) = 3.856 A (docs/metering.md, "Quantities")
    from firmware.metering import Metering
    from firmware.sampler import Sampler

    n = 160
    per = _period(BALANCED)
    for k in range(n):
        per[8 * k + 3] = int(round(max(0.0, 10.0 * CODE_A * math.sin(2 * math.pi * k / n))))
    blks = _blocks(per)
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(1, 1, 0, 220, 5)
    for j in range(40):
        s.feed(blks[j % 2], _N)
        m.update()
    want = 10.0 * math.sqrt(0.25 - 1 / math.pi ** 2)
    assert abs(vals[regmap.slot("Ia")] / want - 1) < 0.001, vals[regmap.slot("Ia")]
    assert abs(vals[regmap.slot("Ib")] / 5.0 - 1) < 0.001


def _line(per):
    # the three-wire front end: channel a carries Uab = ua - ub, channel c Ucb = uc - ub, channel b nothing
    for k in range(len(per) // 8):
        ua, ub, uc = per[8 * k], per[8 * k + 1], per[8 * k + 2]
        per[8 * k], per[8 * k + 1], per[8 * k + 2] = ua - ub, 0, uc - ub
    return per


def test_three_wire_sequence_and_element_without_voltage():
    # 2LL3CT: a-b-c flags nothing; a-c-b reads SEQ 2 from the line voltages; Uab lost (channel a at 0 V) while
    # Ia flows: NOV bit 0 (the element Uab Ia), nothing for Ib (no element)
    m = Meter(None)
    m.set("SYSS", 1)
    _run(m, _blocks(_line(_period(BALANCED))), 3.0)
    assert _status(m)[5:] == [1, 0, 0, 0]
    _run(m, _blocks(_line(_period(REVERSED))), 3.0)
    assert _status(m)[5:] == [2, 0, 0, 0]
    per = _line(_period(BALANCED))
    for k in range(len(per) // 8):
        per[8 * k] = 0
    _run(m, _blocks(per), 2.0)
    st = _status(m)
    assert st[8] == 1 and st[6] == 0, st


def test_voltage_over_range_makes_a_transition():
    # 750 V on Ua (1061 V peak, beyond the ADC's 1000 V): OVR bit 0, and the window measured nothing
    m = Meter(None)
    _run(m, _blocks(_period([(750.0, 5.0, 30.0, 0.0)] + BALANCED[1:])), 2.0)
    st = _status(m)
    assert st[6] == 1 and st[7] == 1, st
    mk = m.metering.mask
    assert mk[regmap.slot("Ua")] == 0 and mk[regmap.slot("Ib")] == 0 and mk[regmap.slot("F")] == 0
    assert m.metering.complete == 0
