# SPDX-License-Identifier: MIT
# The pico board's Thumb-1 spreading loop for the harmonics capture (boards/pico/grid_thumb.py) against its viper
# twin (firmware/harmonics_grid.py): the same guest script (host_tests/device/spread_twin.py) on the emulated
# RP2040 and on the unix port must print the same returns, states and grid digests, bit for bit: window starts
# and ends (at, before and past a span's end), the grid's wrap (points 254, 255, 0), full-scale samples, grids
# that wrap at 2**32, a capture across blocks of many sizes. Needs the firmware toolchain and Node.js: a missing
# one fails the test with the Debian package to install, it never passes silently (image rebuilt when stale).
import os

from chip import run_both

GUEST = os.path.join("host_tests", "device", "spread_twin.py")
BUDGET = 400  # cycles per sample (the viper twin: ~1,776)


def _records(out):
    return [ln.strip() for ln in out.splitlines() if ln[:2] == "C "]


def test_constants_match_the_grid_layout():
    from boards.pico import grid_thumb as gt
    from firmware import harmonics_grid as hg

    assert gt.BASE == hg.G_PH == hg.GRID
    for name, word in (("PH", hg.G_PH), ("STEP", hg.G_STEP), ("LEFT", hg.G_LEFT), ("A", hg.G_A), ("B", hg.G_B)):
        assert getattr(gt, "_" + name) == 4 * (word - gt.BASE), name
    assert 4 * (hg.G_X - gt.BASE) <= gt._END and gt._BLK + 4 <= 4 * (hg.G_LAST - gt.BASE)  # scratch in G_X


def test_thumb_spread_on_the_chip_matches_the_viper_twin():
    out, host_out = run_both(GUEST, timeout=60)
    chip, twin = _records(out), _records(host_out)
    assert len(twin) >= 50 and host_out.rstrip().endswith("END"), host_out[-2000:]
    assert len(chip) == len(twin), (len(chip), len(twin))
    for a, b in zip(chip, twin):
        assert a == b, "chip: %s\nunix: %s" % (a, b)
    # the cases reach what they are for: an end inside, at and past a span, nothing left, the chain's end
    got = {ln.split()[1]: ln for ln in twin}
    assert " j=8 " in got["wrap-end"] and "left=0" in got["end-at-b"] and " j=1 " in got["first"]
    assert " j=0 " in got["left0"] and " j=400 " in got["block"]
    cyc = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("CYCLES")]
    assert cyc and cyc[0] < BUDGET, out[-500:]
