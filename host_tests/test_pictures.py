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
