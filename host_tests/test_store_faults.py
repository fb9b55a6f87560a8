# SPDX-License-Identifier: MIT
# The full fault-injection sweep (CPython): power cut after every byte of every program and erase of a config save
# and an energy-record save, appending and rotating; the MicroPython run of the same sweep is `make faults`.
import os
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "host_tests", "cases"))
import case_store


@pytest.mark.parametrize("kind", ["config", "energy"])
@pytest.mark.parametrize("rotate", [False, True])
@pytest.mark.parametrize("align", [1, 256])  # byte-addressed programs (sim, esp32) and whole pages (rp2)
def test_cut_at_every_byte(kind, rotate, align):
    cuts, total, programs, erases = case_store.sweep(kind, rotate, 1, align)
    assert cuts == total + 1  # every byte position, and the uncut save
    assert erases == (1 if rotate else 0)
    if rotate:
        assert total > 4096 and programs > 1  # copies of live records, an erase, the record itself
