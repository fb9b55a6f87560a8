# SPDX-License-Identifier: MIT
# Shared pytest set-up: repo root and the CPython stand-in for `micropython` on sys.path; the `sim` fixture
# (the simulated meter at its default scenario, one per test module) for the tests that talk to it over its pty.
import os
import shutil
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "upy_compat"))
sys.path.insert(0, ROOT)
import micropython  # noqa: E402  (the stand-in registers itself)

MICROPYTHON = shutil.which("micropython", path=os.path.dirname(sys.executable)) or shutil.which("micropython")


@pytest.fixture(scope="module")
def sim(tmp_path_factory, request):
    from headless_sim import HeadlessSim

    s = HeadlessSim(tmp_path_factory.mktemp(request.module.__name__.replace("test_", "")))
    s.wait_time(0.5)
    yield s
    s.stop()


def pytest_configure(config):
    config.addinivalue_line("markers", "rp2040: the meter's UF2 on the emulated RP2040 (slow: tens of seconds each)")
