# SPDX-License-Identifier: MIT
# Short power-cut soak (make test): the sim SIGKILLed 5 times at random moments on one --state-dir; the 100-kill
# run is `make soak` (tools/soak.py). Energy never goes backwards, loses at most the save bound, config intact;
# one SIGTERM (the power-fail early save) loses nothing.
from tools import soak


def test_five_random_sigkills(tmp_path):
    r = soak.soak(kills=5, seed=7, state_dir=str(tmp_path), low=70.0, high=140.0, log=lambda *a: None)
    assert r["kills"] == 5 and r["max_loss_wh"] <= r["bound_wh"] == 55
    assert r["terms"] == 1 and r["term_loss_wh"] == 0  # SIGTERM = the power-fail input: the early save
    assert r["saves_seen"] >= 3 and r["sim_s"] > 250  # runs long enough that saves happen between the cuts
