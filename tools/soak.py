# SPDX-License-Identifier: MIT
# Power-cut soak: runs the sim at --speed max on one --state-dir, SIGKILLs it at random moments and restarts it,
# checking that energy never goes backwards and never loses more than the save policy's bound (docs/storage.md).
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "upy_compat"))  # firmware.store under CPython (inspection only)
SETTINGS = ("address", "baud", "data", "wiring")  # what "configuration intact" compares across restarts


def bound_wh(un=220, rated_i=5, pt=1, ct=1, syss=0):
    """The energy save threshold (firmware/energy.py configure): 60 s of rated load, at least 0.01 kWh."""
    full = 3 * un * rated_i if syss == 0 else 1732 * un * rated_i // 1000
    return max(10, full * pt * ct // 60)


class Run:
    """One life of the sim: the launcher (tools.sim) and, inside it, the firmware process."""

    def __init__(self, state_dir, runtime):
        cmd = [sys.executable, "-m", "tools.sim", "--headless", "--speed", "max", "--runtime", runtime,
               "--state-dir", state_dir]
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line.startswith("READY "):
            self.p.kill()
            self.p.wait()
            raise RuntimeError("sim did not start: %r" % line)

    def state(self):
        self.p.stdin.write("state\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError("sim died")
        return json.loads(line)

    def cut(self, fw_pid):
        # the power cut: the firmware first (it may be in the middle of a save), then the launcher
        for pid in (fw_pid, self.p.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.p.wait()


def flash_after_cut(state_dir):
    """(cut inside a save?, EP_imp Wh of the energy record on flash) from a copy of the flash image (the real one
    is left untouched). A torn record or an unfinished rotation shows as a sector tail that is not erased or as
    repair work at mount."""
    from firmware.energy import Energy
    from boards.sim.norflash import from_image
    from firmware.store import FLASH_FILE, Store

    with open(os.path.join(state_dir, FLASH_FILE), "rb") as f:
        chip = from_image(f.read())
    s = Store(chip)
    inside = chip.op_bytes > 0 or any(not sec[2] for sec in s.sectors)
    b = s.load("energy")  # firmware/ledger.py: Energy.to_bytes() + clock (8 bytes)
    e = Energy()
    wh = e.wh("EP_imp") if b is not None and e.from_bytes(b[:-8]) else 0
    return inside, wh


def _energy(st):
    return st["energy"]["EP_imp_Wh"]


def soak(kills=100, seed=1, runtime="micropython", state_dir=None, low=30.0, high=200.0, log=print, terms=None):
    """Returns the figures as a dict; raises AssertionError at the first broken promise. Besides the kills,
    `terms` (default kills // 10, at least 1) orderly power-downs (SIGTERM: the power-fail early save) must
    lose nothing at all."""
    if terms is None:
        terms = max(1, kills // 10)
    stops = []
    for k in range(kills):
        stops.append("kill")
        if terms and (k + 1) % max(1, kills // terms) == 0 and stops.count("term") < terms:
            stops.append("term")
    rnd = random.Random(seed)
    own = state_dir is None
    state_dir = state_dir or tempfile.mkdtemp(prefix="kpm53-soak-")
    t0 = time.monotonic()
    losses = []
    gaps = []
    prev = None  # (energy on flash after the cut, energy at the last poll before the cut, settings, writes)
    sim_s = 0.0
    saves = 0
    inside = 0  # cuts that landed inside a save
    term_loss = 0  # worst loss over a SIGTERM (must be 0)
    how = None
    saved_before = 0  # energy of the record on flash after the previous cut: must never decrease
    bound = bound_wh()
    try:
        for i in range(len(stops) + 1):
            run = Run(state_dir, runtime)
            st = run.state()
            e0 = _energy(st)
            w0 = st["store"]["writes"]
            settings = [st[k] for k in SETTINGS]
            if prev is not None:
                e_saved, e_last, s_prev, w_prev = prev
                # the meter resumes from the record on flash (e0 may already hold a little of the new run)
                assert e0 >= e_saved, "the meter restarted below its saved energy: %d -> %d Wh" % (e_saved, e0)
                e0 = e_saved
                loss = e_last - e0
                assert loss <= bound, "lost %d Wh > bound %d Wh at kill %d" % (loss, bound, i)
                if how == "term":
                    assert loss <= 0, "lost %d Wh over an orderly power-down" % loss
                    term_loss = max(term_loss, loss)
                assert settings == s_prev, "configuration changed across a cut: %s -> %s" % (s_prev, settings)
                assert w0 >= w_prev, "the write counter went backwards: %d -> %d" % (w_prev, w0)
                if how == "kill":
                    losses.append(max(loss, 0))
            if i == len(stops):
                run.p.stdin.write("quit\n")
                run.p.stdin.flush()
                run.p.wait(30)
                break
            # run to a random simulated time (the machine's load changes the wall time, not the test), polling:
            # energy must only grow while the meter runs
            until = rnd.uniform(low, high)
            last = st
            while last["time_s"] < until:
                time.sleep(rnd.uniform(0.0, 0.1))
                cur = run.state()
                assert _energy(cur) >= _energy(last), "energy went backwards while running"
                last = cur
            how = stops[i]
            if how == "term":
                run.p.send_signal(signal.SIGTERM)  # the power-fail input: the early save, then exit
                run.p.wait(30)
            else:
                t_poll = time.monotonic()
                run.cut(last["sim"]["pid"])
                gaps.append(time.monotonic() - t_poll)
            cut_inside, e_flash = flash_after_cut(state_dir)
            inside += cut_inside
            assert e_flash >= saved_before, "energy on flash went backwards: %d -> %d Wh" % (saved_before, e_flash)
            saved_before = e_flash
            sim_s += last["time_s"]
            saves += last["energy"]["energy_saves"]
            prev = (e_flash, _energy(last), settings, last["store"]["writes"])
            if (i + 1) % 10 == 0 or kills < 10:
                log("stop %3d/%d  energy %d Wh  max loss %d Wh (bound %d)  %.0f s"
                    % (i + 1, len(stops), _energy(last), max(losses) if losses else 0, bound, time.monotonic() - t0))
    finally:
        if own:
            shutil.rmtree(state_dir, ignore_errors=True)
    return {"kills": kills, "terms": stops.count("term"), "term_loss_wh": term_loss, "max_loss_wh": max(losses) if losses else 0,
            "mean_loss_wh": sum(losses) / len(losses) if losses else 0, "bound_wh": bound,
            "sim_s": sim_s, "wall_s": time.monotonic() - t0, "saves_seen": saves, "cuts_inside_a_save": inside,
            "max_poll_to_kill_ms": 1000 * max(gaps) if gaps else 0}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--terms", type=int, default=None, help="orderly power-downs besides the kills (kills // 10)")
    ap.add_argument("--runtime", default="micropython", choices=("micropython", "cpython"))
    ap.add_argument("--state-dir", default=None, help="keep the flash image here (default: a temporary dir)")
    ap.add_argument("--min", type=float, default=30.0, help="shortest run between cuts, simulated seconds")
    ap.add_argument("--max", type=float, default=200.0, help="longest run between cuts, simulated seconds")
    a = ap.parse_args()
    r = soak(a.kills, a.seed, a.runtime, a.state_dir, a.min, a.max, terms=a.terms)
    print("soak: %d SIGKILLs (%d inside a save), %.0f s simulated in %.0f s wall, energy saves seen %d" % (
        r["kills"], r["cuts_inside_a_save"], r["sim_s"], r["wall_s"], r["saves_seen"]))
    print("soak: %d orderly power-downs (SIGTERM) lost %d Wh" % (r["terms"], r["term_loss_wh"]))
    print("soak: energy never went backwards; loss per cut max %d Wh, mean %.1f Wh (bound %d Wh = 60 s of rated "
          "load); configuration intact; poll-to-kill at most %.1f ms" % (
              r["max_loss_wh"], r["mean_loss_wh"], r["bound_wh"], r["max_poll_to_kill_ms"]))
    print(json.dumps(r))


if __name__ == "__main__":
    main()
