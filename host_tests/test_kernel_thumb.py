# SPDX-License-Identifier: MIT
# The pico board's Thumb-1 span kernel (boards/pico/kernel_thumb.py) against its viper twin
# (firmware/kernel_span.py): the same guest script (host_tests/device/span_twin.py) on the emulated RP2040 and on
# the unix port must print the same windows and state, bit for bit. Needs the firmware toolchain and Node.js: a
# missing one fails the test with the Debian package to install, it never passes silently. The image is rebuilt
# when firmware/ or boards/pico changed (first build: minutes; then the test takes ~20-40 s).
import os

from chip import run_both

GUEST = os.path.join("host_tests", "device", "span_twin.py")
BUDGET = 1250  # cycles per 8-channel sample: 8 % of 125 MHz at 8000 samples/s


def _records(out):
    return [ln.strip() for ln in out.splitlines() if ln[:1] in ("W", "S")]


def test_constants_match_the_kernel_layout():
    from boards.pico import kernel_thumb as kt
    from firmware import kernel as k
    from firmware import kernel_span as ks
    from firmware import refilter

    assert kt.BASE == k.S_NS and k.S_NATIVE + 10 == k.S_FY and k.S_FY + 1 == k.S_FILT and k.S_FILT + 6 == k.S_SIZE
    assert kt._FY == 4 * (k.S_FY - kt.BASE) and kt._FILT == 4 * (k.S_FILT - kt.BASE)
    assert kt.HOLD == ks._HOLD == refilter.HOLD and refilter.S_FY == k.S_FY and refilter.S_FILT == k.S_FILT
    assert ks._FY == k.S_FY and ks._FILT == k.S_FILT
    for name in ("NS", "PHASE", "STEP", "CYC", "TARGET", "ARMED", "SYNC", "PREV", "RA", "RB", "HYST", "FIXED",
                 "MAXN", "ISH", "DERIVE", "TCODE", "SAT", "END"):
        assert getattr(kt, "_" + name) == 4 * (getattr(k, "S_" + name) - kt.BASE), name
        assert getattr(ks, "_" + name) == getattr(k, "S_" + name), name
    assert 4 * (k.S_NATIVE - kt.BASE) <= kt._T_ST and kt._T_BLK < kt._FY  # scratch within S_NATIVE
    assert kt._WORK_OFF == 4 * (k.S_SIZE - kt.BASE) and kt.WORK * 4 == kt.CHUNK * kt.SLOT and ks.WORK == 0
    assert ks._P == k._P and kt.SLOT * 3 <= 124


def test_thumb_kernel_on_the_chip_matches_the_viper_twin():
    out, host_out = run_both(GUEST, timeout=120)
    chip, twin = _records(out), _records(host_out)
    assert len(twin) >= 15 and twin[-1].startswith("S "), host_out[-2000:]
    assert len(chip) == len(twin), (len(chip), len(twin))
    for a, b in zip(chip, twin):
        assert a == b, "chip:\n%s\nunix:\n%s" % (a, b)
    # the signals cover: free-running, 10- and 12-cycle windows, sync lost (2400) and fixed (1600) windows,
    # current shifts 2, 6 and 8, a window widened from shift 2 to 3 by a larger current and one from 2 to 8 by
    # currents at the ADC's full scale, 2LL2CT, a line-voltage reference
    wins = [[int(v, 16) for v in ln.split()[1:]] for ln in twin[:-1]]
    assert {w[69] for w in wins} >= {0, 10, 12} and {w[66] for w in wins} >= {1600, 2400}
    assert {w[75] for w in wins} >= {2, 3, 6, 8}
    assert 0 in {w[77] for w in wins} and {w[77] for w in wins} >= {8, 0x6F}  # D_SAT: full-scale codes
    cyc = [int(ln.split()[1]) for ln in out.splitlines() if ln.startswith("CYCLES")]
    assert cyc and cyc[0] < BUDGET, out[-500:]
