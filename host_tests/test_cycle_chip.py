# SPDX-License-Identifier: MIT
# The one-cycle RMS (firmware/cyclerms.py) on the emulated RP2040 (32-bit words, the Thumb-1 span kernel) against
# the unix port (64-bit words, the viper span kernel): host_tests/device/cycle_twin.py prints every ring entry,
# every level crossing, every window's verdict and the final state on both; the lines must be the same, bit for
# bit. Needs the
# firmware toolchain and Node.js (a missing one fails the test naming the Debian package).
import os

from chip import run_both

GUEST = os.path.join("host_tests", "device", "cycle_twin.py")


def _records(out):
    return [ln.strip() for ln in out.splitlines() if ln[:2] in ("R ", "E ", "N ", "J ", "S ", "L ")]


def test_one_cycle_rms_on_the_chip_matches_the_unix_port():
    out, host_out = run_both(GUEST, timeout=120)
    chip, twin = _records(out), _records(host_out)
    assert len(twin) > 250 and twin[-1] == "L 0", host_out[-2000:]
    assert len(chip) == len(twin), (len(chip), len(twin))
    for a, b in zip(chip, twin):
        assert a == b, "chip: %s\nunix: %s" % (a, b)
    # the signals cover: starts and ends of dips, swells and interruptions, in 3Ln and 2LL, and windows judged
    # off frequency (the first, unsynchronised, and the 49.8 -> 60 Hz step) besides good ones
    ev = [int(ln.split()[1]) for ln in twin if ln.startswith("E ")]
    assert {(r >> 4) & 3 for r in ev} == {1, 2} and any(ln != "N 0" for ln in twin if ln.startswith("N ")), ev
    bad = [int(ln.split()[2], 16) & 1 for ln in twin if ln.startswith("J ")]
    assert 0 in bad and sum(bad) >= 2, bad
    print([ln for ln in out.splitlines() if ln.startswith("CYCLES")])
