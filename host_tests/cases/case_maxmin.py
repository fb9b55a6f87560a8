# Max/min history (firmware/maxmin.py): extremes of the 26 real-time quantities with clock stamps, the MAXMIN
# blocks in the register image, cLr_MaxMin with the password, the store record; update() heap-locked.
import struct
from array import array

import micropython

from firmware import regmap
from firmware.config import Config
from firmware.history import hms_text, ymd_text
from firmware.maxmin import N, MaxMin
from case_demand import FakeClock, FakeStore


def _make(store=None):
    vals = array("f", [0.0] * regmap.N_MEAS)
    clk = FakeClock()
    img = bytearray(2 * regmap.block_end())
    cfg = Config()
    return MaxMin(vals, clk, store, img, cfg), vals, clk, img, cfg


def _reg(img, block, name):
    base, typ, acc, rows = regmap.block(block)
    k = [r[0] for r in rows].index(name)
    off = 2 * (base + 2 * k)
    return struct.unpack(">f" if typ == "float32" else ">I", bytes(img[off:off + 4]))[0]


def _feed(mm, vals, clk, seq, name):
    s = regmap.slot(name)
    micropython.heap_lock()
    try:
        for k in range(len(seq)):
            vals[s] = seq[k]
            clk.hms = 120000 + k
            mm.update()
    finally:
        micropython.heap_unlock()


def test_extremes_with_stamps_in_the_image():
    mm, vals, clk, img, cfg = _make()
    seq = [0.0] * 5 + [220.0, 231.5, 219.0, -3.0, 225.0, 231.5]  # the first 5 windows settle (skipped)
    _feed(mm, vals, clk, seq, "Ua")
    assert _reg(img, "maxmin", "Ua_max") == 231.5 and _reg(img, "maxmin_t", "Ua_max_T") == 120006
    assert _reg(img, "maxmin", "Ua_min") == -3.0 and _reg(img, "maxmin_t", "Ua_min_T") == 120008
    assert _reg(img, "maxmin_t", "Ua_min_D") == 20261126
    # negative values order correctly (sign-magnitude float bits): PF between -1 and 1
    _feed(mm, vals, clk, [-0.5, -0.9, 0.3, -0.1], "PFa")
    assert abs(_reg(img, "maxmin", "PFa_max") - 0.3) < 1e-7 and abs(_reg(img, "maxmin", "PFa_min") + 0.9) < 1e-7
    # the other quantities saw 0.0 all along
    assert _reg(img, "maxmin", "F_max") == 0.0 and _reg(img, "maxmin_t", "F_max_D") == 20261126


def test_clear_with_password():
    mm, vals, clk, img, cfg = _make()
    _feed(mm, vals, clk, [0.0] * 5 + [5.0], "Ia")
    assert mm.cmd_write(0x32, 1, bytes((0, 1)), 0) == 3 and _reg(img, "maxmin", "Ia_max") == 5.0
    pw = cfg.get("PASS")
    assert mm.cmd_write(0x32, 1, bytes((pw >> 8, pw & 0xFF)), 0) == 0
    assert _reg(img, "maxmin", "Ia_max") == 0.0 and _reg(img, "maxmin_t", "Ia_max_D") == 0
    _feed(mm, vals, clk, [2.0, 1.0], "Ia")  # after a clear the next window sets both again
    assert _reg(img, "maxmin", "Ia_max") == 2.0 and _reg(img, "maxmin", "Ia_min") == 1.0


def test_record_survives_restart_and_save_policy():
    st = FakeStore()
    mm, vals, clk, img, cfg = _make(st)
    _feed(mm, vals, clk, [0.0] * 5 + [50.0, 49.9], "F")
    mm.service(0)
    assert st.writes == 1
    _feed(mm, vals, clk, [50.2], "F")
    mm.service(59)
    assert st.writes == 1  # at most once a minute
    mm.service(60)
    assert st.writes == 2
    mm2, vals2, clk2, img2, cfg2 = _make(st)
    assert abs(_reg(img2, "maxmin", "F_max") - 50.2) < 1e-5 and abs(_reg(img2, "maxmin", "F_min") - 49.9) < 1e-5
    assert _reg(img2, "maxmin_t", "F_max_T") == 120000


def test_texts_and_sources():
    assert ymd_text(20260229) == "2026.02.29" and ymd_text(0) == "----" and hms_text(73005) == "07:30:05"
    mm, vals, clk, img, cfg = _make()
    assert mm.source("Ua_max_D")() == "----" and mm.source("Ua_min")() == 0.0 and mm.source("Ua") is None
    names = [r[0] for r in regmap.MAXMIN] + [r[0] for r in regmap.MAXMIN_T]
    assert len(names) == 6 * N and all(mm.source(n) is not None for n in names)
    _feed(mm, vals, clk, [0.0] * 5 + [50.5, 49.5], "F")  # the page rows read the same slots as the registers
    assert mm.source("F_max")() == 50.5 and mm.source("F_min")() == 49.5
    assert mm.source("F_max_D")() == "2026.11.26" and mm.source("F_min_T")() == "12:00:06"


def test_meter_wiring_history_harmonics_and_clear_over_modbus():
    from case_meter import _block
    from firmware.meter import Meter
    from rtu_ref import frame

    m = Meter(None)
    n = 400
    blocks = [_block(j * n, n) for j in range(4)]
    micropython.heap_lock()
    try:
        for j in range(30):  # 1.5 s: windows metered, tracked, one harmonic analysis at least
            m.feed(blocks[j % 4], n)
    finally:
        micropython.heap_unlock()
    img = m.regs.image
    assert abs(_reg(img, "maxmin", "Ua_max") - 220.0) < 0.05 and abs(_reg(img, "maxmin", "F_min") - 50.0) < 0.01
    assert _reg(img, "maxmin_t", "Ua_max_D") == m.clock.ymd
    assert m.harm.updates >= 1 and m.vals[regmap.slot("THD_Ua")] < 0.1 and m.vals[regmap.slot("UNB_U")] < 0.05
    # cLr_MaxMin (0x0032) over Modbus: a wrong password gets exception 03, the right one clears
    req = bytearray(frame(bytes((1, 6, 0, 0x32, 0x12, 0x34))))
    r = m.modbus(req, len(req))
    assert r == 5 and m.tx[1] == 0x86 and m.tx[2] == 3
    pw = m.config.get("PASS")
    req = bytearray(frame(bytes((1, 6, 0, 0x32, pw >> 8, pw & 0xFF))))
    r = m.modbus(req, len(req))
    assert r == 8 and m.tx[1] == 6
    assert _reg(img, "maxmin", "Ua_max") == 0.0 and _reg(img, "maxmin_t", "Ua_max_D") == 0
    # the LCD's History screen shows the (now cleared) maximum of Ua
    m.key("left")
    m.key("left")
    assert m.lcd_text().split("\n")[1].startswith("Ua")
