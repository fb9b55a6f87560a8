# SPDX-License-Identifier: MIT
# Cases for the metrology in firmware/metering.py + powers.py + pt100.py + calib.py: three-wire
# two-element method, Ib derivation, IST gate, neutral, temperature, status codes, calibration; no allocation.
import math
from array import array

import micropython

from firmware import pt100, regmap
from firmware.calib import CAL_BASE, CMD_BASE, Calib
from firmware.config import Config
from firmware.metering import Metering
from firmware.metering_codes import NAT_C, NAT_L
from firmware.sampler import Sampler
from firmware.modbus.codes import ILLEGAL_DATA_VALUE, SERVER_DEVICE_FAILURE
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
            got = {r[0]: vals[regmap.slot(r[0])] for r in regmap.MEASUREMENTS}
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
    n = 2800
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
    assert c.cmd_write(CMD_BASE + 1, 1, _u16(1), 0) == -ILLEGAL_DATA_VALUE  # not unlocked
    assert c.cmd_write(CMD_BASE, 2, _u16(1234) + _u16(1), 0) == -ILLEGAL_DATA_VALUE  # wrong password
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(9), 0) == -ILLEGAL_DATA_VALUE  # unknown code
    # factors: refused without the unlock (Key within 5 minutes, or the password latched in CAL_Pass)
    g = bytes([0x3F, 0x80, 0, 0])  # 1.0
    assert c.block_write(CAL_BASE + 8, 2, g, 0) == -ILLEGAL_DATA_VALUE
    assert c.block_write(CAL_BASE, 2, bytes([0x43, 0x5C, 0, 0]), 0) == 0 and c.rows[0] == 220.0  # Ref_U
    assert c.block_write(CAL_BASE + 6, 2, g, 0) == -ILLEGAL_DATA_VALUE  # Cal_State is read-only
    c._pass = 6666
    assert c.block_write(CAL_BASE + 8, 2, bytes([0x3F, 0xC0, 0, 0]), 0) == 0  # G_Ua = 1.5 (unlocked)
    assert c.service(1, 1) and m.cal[0] == 1.5 and "calib" in store.d
    c2 = Calib(Metering(array("f", [0.0] * regmap.N_MEAS)), store, cfg)
    assert c2.metering.cal[0] == 1.5  # from the record
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(2), 0) == 0 and c.service(1, 1) and m.cal[0] == 1.0
    cfg.set("SYSS", 1)
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(1), 0) == -SERVER_DEVICE_FAILURE  # three-wire: not here


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
    assert r == -SERVER_DEVICE_FAILURE and done >= 2  # 2LL2CT refuses the calibration (04) without allocating
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


def test_mask_what_each_window_measured():
    # metering's mask per regmap slot: MEAS (above its threshold in a complete window: max/min take it) and KNOWN
    # (a complete window, the quantity exists in the wiring: averages over time take it, 0 below a threshold)
    from firmware.metering_codes import KNOWN, MEAS

    both = MEAS | KNOWN
    u, i, phi = (230.0, 0.3, 230.0), (0.008, 5.0, 5.0), (30.0, 30.0, 30.0)  # Ia below IST, Ub below U_TH
    got, m = _meter(signal(4400, 50.0, u, i, phi), 4400)
    mk = {r[0]: m.mask[regmap.slot(r[0])] for r in regmap.MEASUREMENTS}
    assert m.complete == 1 and got["Ub"] == 0.0 and got["Ia"] == 0.0
    assert mk["Ua"] == both and mk["Ub"] == KNOWN and mk["Ia"] == KNOWN and mk["Ib"] == both, mk
    assert mk["Pa"] == KNOWN and mk["Qb"] == KNOWN and mk["Sc"] == both and mk["PFa"] == 0 and mk["PFc"] == both
    assert mk["P"] == both and mk["PF"] == both and mk["F"] == both and mk["Uab"] == both and mk["I_avg"] == both
    assert mk["Phi_a"] == 0 and mk["Phi_c"] == both and mk["Phi"] == both  # as the PFs
    assert mk["T"] == 0 and mk["THD_Ua"] == 0  # T: code 2500 is no PT100; THD is not metering's
    # three-wire: no phase voltages, no per-phase powers, no I_N; line voltages, currents and totals measured
    got, m = _meter(_three_wire(signal(4400, 50.0, (220.0,) * 3, (4.0,) * 3), 4400), 4400, syss=1)
    mk = {r[0]: m.mask[regmap.slot(r[0])] for r in regmap.MEASUREMENTS}
    assert mk["Ua"] == 0 and mk["U_avg"] == 0 and mk["Pa"] == 0 and mk["PFb"] == 0 and mk["I_N"] == 0, mk
    assert mk["Uab"] == both and mk["Ib"] == both and mk["P"] == both and mk["Q"] == both and mk["F"] == both
    # currents alone: free-running windows of full length are complete, F is not measured (no voltage)
    got, m = _meter(signal(4400, 50.0, (0.0,) * 3, (5.0,) * 3), 4400)
    mk = {r[0]: m.mask[regmap.slot(r[0])] for r in regmap.MEASUREMENTS}
    assert m.complete == 1 and mk["Ia"] == both and mk["F"] == 0 and mk["Ua"] == KNOWN and mk["P"] == KNOWN, mk


def test_transition_window_is_not_complete():
    # 60 Hz from the start: the first synchronised window ran the NCO at 50 Hz (not locked): a transition, nothing in
    # it is measured and STATUS keeps its codes; the next window is complete
    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(1, 1, 0, 220, 5, None, 10)
    blk = signal(6000, 60.0)
    seen = []
    for a in range(0, 6000, 100):
        s.feed(blk[8 * a:8 * (a + 100)], 100)
        if m.update():
            seen.append((m.complete, bytes(m.mask[:26]), list(m.status)))
    assert seen[0][0] == 0 and seen[0][1] == bytes(26) and seen[0][2] == [0] * 5, seen[0]
    assert seen[1][0] == 1 and seen[1][1] == bytes([3] * 26) and seen[1][2] == [1, 1, 1, 1, 1], seen[1]


def test_status_dead_band_on_real_signals():
    # Q within the dead band (0.01 degree: Q = 1.7e-4 S, either sign) shows no direction and no quadrant; PF 0.999
    # (2.5625 degrees: Q = 4.5 % of S, 9 x the band) shows it; the sign of P alone (an export at PF -1) does not
    # make a quadrant either
    from firmware.metering_codes import NAT_NONE

    for phi, want in ((0.01, [0] + [NAT_NONE] * 4), (-0.01, [0] + [NAT_NONE] * 4),
                      (2.5625, [1] + [NAT_L] * 4), (-2.5625, [4] + [NAT_C] * 4), (180.01, [0] + [NAT_NONE] * 4),
                      (182.5625, [3] + [NAT_L] * 4)):
        got, m = _meter(signal(4400, 50.0, phi=(phi, phi, phi)), 4400)
        assert list(m.status) == want, (phi, list(m.status), got["Q"])
        # the phase angle's sign follows Q's direction: within the band it reads positive (about 0 or 180)
        ref = (phi + 180.0) % 360.0 - 180.0
        if want[4] == NAT_NONE:
            ref = abs(ref)
        for name in ("Phi_a", "Phi_c", "Phi"):
            assert abs(got[name] - ref) < 0.01, (phi, name, got[name], ref)


def test_direction_kernel_follows_deadband_direction():
    # metering's viper dead band (float32 bits) against firmware/deadband.py's pure function, window by window with
    # its hysteresis, over a pseudo-random walk of (P, Q, S) per element, ratios 1 and 100 x 80 (the floor scales)
    from firmware import deadband
    from firmware import workspace as ws

    vals = array("f", [0.0] * regmap.N_MEAS)
    m = Metering(vals)
    w = m.w
    x = 12345
    for pt, ct in ((1, 1), (100, 80)):
        m.configure(pt, ct, 0)
        floor = deadband.FLOOR * pt * ct
        prev = [0] * 8
        for k in range(8):
            m.dirs[k] = 0
        for n in range(400):
            for e in range(4):
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                s = (x % 2000) * 0.01 * floor * (1 + (x >> 20) % 400)  # S from 0 to 8000 x the floor
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                r = ((x % 20001) - 10000) * 1e-6  # |P|, |Q| within +-1 % of S (the band is 0.5 %) ...
                x = (x * 1103515245 + 12345) & 0x7FFFFFFF
                if x % 4 == 0:
                    r = ((x >> 3) % 2001 - 1000) * 1e-4 * floor / max(s, floor)  # ... or near the floor
                w[ws.O_S + e] = s
                w[ws.O_P + e] = r * s
                w[ws.O_Q + e] = -r * s * 0.7
            m._status()
            for k in range(8):
                e = k & 3
                v = w[(ws.O_P if k < 4 else ws.O_Q) + e]
                on = max(deadband.K_ON * w[ws.O_S + e], floor)
                if min(abs(abs(v) - on), abs(abs(v) - on / 2)) < 1e-5 * on:
                    prev[k] = m.dirs[k]  # at a threshold float32 and double may round apart: take the kernel's
                    continue
                prev[k] = deadband.direction(v, w[ws.O_S + e], prev[k], floor)
                assert m.dirs[k] == prev[k], (pt, n, k, v, w[ws.O_S + e], m.dirs[k], prev[k])


def test_calibration_averages_measured_windows_only():
    # the reference's current arrives 0.8 s after the command: the windows without current (elements not
    # measured) are skipped, not averaged in (which read CT gains 1.4); 10 measured windows follow. (The range
    # was set for no current: the window the current arrives in widens it at its first big sample, see
    # firmware/kernel_range.py, so no window clips)
    import struct

    from firmware.calib import DONE, R_STATE

    vals = array("f", [0.0] * regmap.N_MEAS)
    s = Sampler()
    m = Metering(vals, s)
    m.configure(1, 1, 0, 220, 5, None, 10)
    c = Calib(m, None, Config())
    ref = struct.pack(">fff", 220.0, 5.0, 30.0)
    c._pass = 6666
    assert c.block_write(CAL_BASE, 6, ref, 0) == 0
    n0, n1 = 6400, 24000
    off = signal(n0, 50.0, (220.0,) * 3, (0.0,) * 3)
    on = signal(n1, 50.0, (220.0,) * 3, (5.0,) * 3, t0=n0)
    assert c.cmd_write(CMD_BASE, 2, _u16(6666) + _u16(1), 0) == 0
    taken = []
    for blk, n in ((off, n0), (on, n1)):
        for a in range(0, n, 400):
            if s.feed(blk[8 * a:8 * (a + 400)], 400) and m.update():
                b = c.busy
                c.window()
                taken.append(b != c.busy)
    assert c.service(1, 1) and c.rows[R_STATE] == DONE, (c.rows[R_STATE], taken)
    assert c.waited >= 3 and taken.count(True) == 11, taken  # the command's window, then 10 measured ones
    for k in range(6):
        assert abs(m.cal[k] - 1.0) < 2e-4, (k, list(m.cal))
    for k in range(3, 6):
        assert abs(m.lag[k]) < 0.01, list(m.lag)
