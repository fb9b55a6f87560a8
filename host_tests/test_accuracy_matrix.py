# SPDX-License-Identifier: MIT
# A representative part of `make accuracy` (tools/accuracy.py --quick): every wiring mode, 1 % and 100 % In,
# PF 0.5 ind / 0.8 cap / sin 1, 120 % Un, 45 and 65 Hz, THD, open and reversed phases, export, a 1 A meter,
# and the imperfect board after calibration; the firmware runs in micropython. Same limits as the benchmark.
from conftest import MICROPYTHON
from tools import accuracy


def test_accuracy_matrix_quick():
    assert MICROPYTHON, "micropython is not installed"
    results, us, samples = accuracy.run(accuracy.matrix(quick=True), MICROPYTHON)
    print("\n" + accuracy.table(results, us, samples))
    modes = {c["scenario"]["settings"]["SYSS"] for c, _ in results}
    assert modes == set(accuracy.MODES) and any(c["cal"] for c, _ in results) and len(results) >= 40
    bad = accuracy.failures(results)
    assert not bad, "\n".join(bad)
