# SPDX-License-Identifier: MIT
# Front panel additions of manual 4.3: the backlight timer BLt (a first key in the dark only lights the panel),
# the read-only firmware version Ver and the analog output quantity An in the settings list.
import micropython

from firmware import version
from firmware.meter import Meter
from firmware.ui import keymap, menu
from case_ui import FakeCfg, enter_password, keys, lines, make
from case_ui_fb import render
from tools.glass import find_text
from firmware.ui import glyphs


def test_backlight_goes_off_after_blt_minutes():
    ui, v, io = make()  # BLt = 1 (factory default)
    ui.tick(59999)
    assert ui.screen().backlight and lines(ui)[-1] == "DI-- DO--"
    ui.tick(1)
    assert not ui.screen().backlight
    assert lines(ui)[0] == "Meter U" and lines(ui)[-2:] == ["DI-- DO--", "(backlight off)"]
    keys(ui, "left")  # wakes only: the page stays
    assert ui.screen().backlight and lines(ui)[0] == "Meter U" and lines(ui)[-1] == "DI-- DO--"
    keys(ui, "left")  # the next key acts
    assert lines(ui)[0] == "PQM DM"


def test_blt_values():
    cfg = FakeCfg()
    cfg.values["BLt"] = 0  # always on
    ui, v, io = make(cfg)
    for _ in range(200):
        ui.tick(3600000)
    assert ui.screen().backlight and ui.menu.idle_ms <= 1 << 29  # idle time saturates: a small int for ever
    cfg.values["BLt"] = 99
    ui.tick(1)
    assert not ui.screen().backlight  # idle far beyond 99 minutes already
    keys(ui, "up")
    ui.tick(99 * 60000 - 1)
    assert ui.screen().backlight
    ui.tick(1)
    assert not ui.screen().backlight
    cfg.values["BLt"] = 0
    ui.tick(1)
    assert ui.screen().backlight  # BLt 0 set while dark: on at once


def test_keys_keep_the_light_and_the_settings_time_out_in_the_dark():
    cfg = FakeCfg()
    cfg.values["BLt"] = 2
    ui, v, io = make(cfg)
    for _ in range(5):
        ui.tick(100000)
        keys(ui, "down")
    assert ui.screen().backlight
    keys(ui, "enter")
    ui.tick(120000)  # the settings leave at 60 s, the light goes at 120 s
    assert lines(ui)[0] == "Meter S" and not ui.screen().backlight  # page 6 (five DOWNs)


def test_framebuf_draws_in_the_dark_and_the_board_reads_the_flag():
    ui, v, io = make(Ua=230.0)
    ui.tick(60000)
    buf = render(ui)
    assert find_text(buf, glyphs.SEG_L, "230.0") and not ui.model.backlight
    assert not find_text(buf, glyphs.SMALL, "back")  # the pin's job, not a glyph


def test_wake_and_timer_allocate_nothing():
    ui, v, io = make()
    m = ui.menu
    menu.tick(m, 60000)
    micropython.heap_lock()
    try:
        keymap.step(m, "down")
        menu.tick(m, 60000)
        keymap.step(m, "down")
        keymap.step(m, "down")
    finally:
        micropython.heap_unlock()
    assert m.backlight and m.page == 1


def test_ver_is_read_only_in_the_manuals_place():
    m = Meter(None)
    enter_password(m.ui, "6666")
    # PASS SYSS Un In Pt_U Ct_I Adr baud dATA BLt An dATE tinE cLr_Eny cLr_MaxMin, then Ver (manual 4.3 table)
    keys(m.ui, " ".join(["down"] * 15))
    n = len(m.ui.menu.params)
    d = version.DATE
    want = ["Set        16/%d" % n, "Ver         %d.%02d" % (version.VERSION // 100, version.VERSION % 100),
            "      %d.%02d.%02d" % (d // 10000, d // 100 % 100, d % 100), "DI-- DO--"]
    assert m.lcd_text().split("\n") == want and want[1] == "Ver         1.00"
    m.key("enter")  # nothing to edit
    assert m.lcd_text().split("\n") == want and m.ui.menu.mode == menu.LIST
    m.key("down")
    assert m.lcd_text().split("\n")[1] == "Pulse       3200"


def test_an_on_the_panel_follows_the_wiring():
    m = Meter(None)
    enter_password(m.ui, "6666")
    keys(m.ui, " ".join(["down"] * 10))  # PASS SYSS Un In Pt_U Ct_I Adr baud dATA BLt An (manual order)
    assert m.lcd_text().split("\n")[1] == "An            Ua"
    m.key("enter")
    m.key("down")  # Ua -> PF (wraps): F is not transmitted in 3Ln3CT, so it is not offered (manual 4.3)
    assert m.lcd_text().split("\n")[1] == "An          [PF]"
    m.key("left")  # cancel
    keys(m.ui, "enter up up up enter")  # Ia
    assert m.lcd_text().split("\n")[1] == "An            Ia" and m.config.get("An") == 3
    assert m.set("SYSS", 1) and m.config.get("An") == 3  # Ia exists in 2LL too
    m.key("enter")  # 2LL: the list is the manual's Ia Ib Ic Uab Ubc Uca P Q S F
    seen = []
    for _ in range(10):
        seen.append(m.lcd_text().split("\n")[1].split()[-1].strip("[]"))
        m.key("up")
    assert seen == ["Ia", "Ib", "Ic", "Uab", "Ubc", "Uca", "P", "Q", "S", "F"], seen
    m.key("left")
