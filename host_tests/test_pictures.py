# SPDX-License-Identifier: MIT
# tools/pictures.py (make pictures): the firmware draws the chosen pages under the MicroPython unix port (viper
# compiled to native code) bit for bit as under CPython (tools/upy_compat), and the PNGs show those pixels.
import os

from conftest import MICROPYTHON, ROOT
from tools import glass, pictures


def test_unix_port_and_cpython_draw_the_same_glass(capsys):
    upy = pictures.run_guest(MICROPYTHON)
    assert len(upy) >= 6 and all(len(b) == 1024 and any(b) for b in upy.values())
    pictures.guest()
    cpy = {}
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("PIC "):
            _, name, hx = line.split()
            cpy[name] = bytes.fromhex(hx)
    assert cpy == upy
    for name in upy:
        assert os.path.exists(os.path.join(ROOT, pictures.OUT, name + ".png")), "run make pictures"


def test_png_shows_the_buffer(tmp_path):
    from PIL import Image

    buf = pictures.run_guest(MICROPYTHON)["settings_edit"]
    p = glass.to_png(buf, str(tmp_path / "s.png"), 2)
    img = Image.open(p).convert("RGB")
    for y in range(64):
        for x in range(128):
            c = img.getpixel(((x + 2) * 2 + 1, (y + 2) * 2 + 1))
            assert c == (glass.PIXEL_ON if glass.pixel(buf, x, y) else glass.PIXEL_OFF), (x, y)


def test_committed_pictures_are_what_make_pictures_draws():
    # docs/pictures/*.png show exactly the glass the firmware draws now (make pictures after a change to the
    # renderer, the fonts, the menu or the pages), pixel for pixel at make's scale, and no picture is left over
    from PIL import Image

    bufs = pictures.run_guest(MICROPYTHON)
    d = os.path.join(ROOT, pictures.OUT)
    assert sorted(n[:-4] for n in os.listdir(d) if n.endswith(".png")) == sorted(bufs)
    for name, buf in bufs.items():
        want = glass.to_image(buf, 4)  # make pictures: the default --scale
        got = Image.open(os.path.join(d, name + ".png")).convert("RGB")
        assert got.size == want.size and got.tobytes() == want.tobytes(), "%s.png is stale: run make pictures" % name


def test_pictures_come_from_the_real_meter():
    # the guest draws with firmware.meter.Meter's own Ui: its settings list has the panel rows (dATE, tinE, the
    # clears) the live meter lists, so the settings picture's position reads as on the meter (5/24, not 5/18)
    import tools.upy_host
    from firmware import regmap
    from firmware.ui import menu, pages

    m = pictures.meter()
    names = [menu.prow(p)[0] for p in m.ui.menu.params]
    assert all(r[0] in names for r in pages.PANEL_ROWS), names
    assert all(r[0] in names for r in regmap.CONFIG if r[0] in pages.MANUAL_ORDER)
