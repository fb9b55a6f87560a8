# SPDX-License-Identifier: MIT
# A representative part of `make accuracy-pq` (tools/accuracy_pq.py) in the test suite: THD, HR 2..31 and
# unbalance of the firmware under the MicroPython runtime against tools/truth.py, with the benchmark's limits.
import tempfile

import pytest

from conftest import MICROPYTHON
from tools import accuracy_pq as apq


@pytest.mark.parametrize("name,scn", apq.scenarios(quick=True), ids=[n for n, _ in apq.scenarios(quick=True)])
def test_power_quality_within_limits(name, scn):
    assert MICROPYTHON, "micropython is not installed: run make setup"
    with tempfile.TemporaryDirectory() as tmp:
        err, timing, updates = apq.measure(name, scn, "micropython", tmp)
    assert updates >= 2, updates  # at least one update per second of signal (2 s fed)
    for q, e in err.items():
        assert e <= apq.limit(q), (q, e, apq.limit(q))


def test_expected_values_from_the_definitions():
    # the tool's expectations are the truth's: 3Ln3CT per phase, one open phase gives u2 = i2 = 50 %
    import json
    import os

    from tools import scenario

    with open(os.path.join(scenario.DIR, "one_phase_open.json")) as f:
        sc = scenario.parse(json.load(f))
    hd, thd, unb = apq.expected(sc, 0)
    assert thd == [0.0] * 9 and abs(unb[0] - 50.0) < 1e-9 and abs(unb[1] - 50.0) < 1e-9  # 6 channels, 3 lines
