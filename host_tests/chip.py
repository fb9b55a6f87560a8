# SPDX-License-Identifier: MIT
# Shared by the tests that run guest scripts on the emulated RP2040: the toolchain check (a missing package fails
# the test with its name, never a silent pass) and a script run on the chip and on the unix port side by side.
import os
import subprocess

import pytest

from conftest import MICROPYTHON, ROOT


def toolchain():
    """tools.emu, once the image can be built and rp2040js is installed; else the test fails naming what is missing."""
    from tools import emu, firmware

    miss = firmware.missing_packages()
    if miss:
        pytest.fail("the RP2040 firmware image cannot be built: missing Debian packages %s "
                    "(make setup-device, or apt-get install -y %s)" % (", ".join(miss), " ".join(miss)))
    try:
        emu.ensure_node()
    except emu.EmuError as e:
        pytest.fail(str(e))
    return emu


def run_both(guest, timeout=120):
    """Run the guest script (a path under the repo) on the emulated chip and on the unix port; both must end
    without an exception. Returns (chip stdout, unix stdout)."""
    emu = toolchain()
    assert MICROPYTHON, "micropython (the unix port) is not installed: run make setup"
    host = subprocess.run([MICROPYTHON, "-X", "heapsize=8M", guest], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)
    assert host.returncode == 0, host.stdout + host.stderr
    code, out, err, _ = emu.run([os.path.join(ROOT, guest)], timeout=300)
    assert code == 0, out[-3000:] + err[-3000:]
    return out, host.stdout
