# SPDX-License-Identifier: MIT
# Power-quality accuracy benchmark: THD, HR 2..31 and unbalance of the firmware (run by the MicroPython unix port)
# against tools/truth.py over generated scenarios; prints quantity / worst error / limit / ratio and the CPU cost.
#
# CPython side (numpy): builds the scenarios, writes the generator's samples to a file, runs this same file under
# micropython with --run (the firmware side: sampler + harmonics, no numpy), compares the JSON it prints.
# Usage: python -m tools.accuracy_pq [--quick] [--runtime micropython|python]
import json
import math
import os
import sys

SECONDS = 2.0  # 10 windows: 2 analyses at one window in four, plus the start
LIMITS = {"HR": 0.1, "THD": 0.1, "UNB": 0.05}  # percentage points (one tenth of the class)
CHANNELS = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic")


# --- firmware side (MicroPython or CPython with tools/upy_compat) ---------------------------------------------
def run_firmware(path, syss, passes=1):
    """Feed the samples in `path` (int32 LE, 8 channels) through Sampler + Harmonics; print one JSON line per
    harmonic update and a final line with the time spent (us) in the sampler and in harmonics."""
    import time
    from array import array

    if not hasattr(time, "ticks_us"):  # CPython
        time.ticks_us = lambda: int(time.perf_counter() * 1e6)
        time.ticks_diff = lambda a, b: a - b

    from boards.sim.board import BLOCK
    from firmware import regmap
    from firmware.harmonics import Harmonics
    from firmware.sampler import Sampler

    best_s = best_h = None
    for p in range(passes):
        s = Sampler()
        s.configure(syss)
        vals = array("f", [0.0] * regmap.N_MEAS)
        h = Harmonics(vals, s, bytearray(2 * regmap.block_end()))
        buf = bytearray(32 * BLOCK)
        seen = 0
        ts = th = 0
        total = 0
        with open(path, "rb") as f:
            while True:
                got = f.readinto(buf)
                if not got:
                    break
                n = got // 32
                t0 = time.ticks_us()
                d = s.feed(buf, n)
                t1 = time.ticks_us()
                h.feed(buf, n, d)
                t2 = time.ticks_us()
                ts += time.ticks_diff(t1, t0)
                th += time.ticks_diff(t2, t1)
                total += n
                if p == 0 and h.updates != seen:
                    seen = h.updates
                    out = {"thd": [vals[regmap.slot("THD_" + c)] for c in CHANNELS + ("Uab", "Ubc", "Uca")],
                           "hr": list(h.hr),
                           "unb": [vals[regmap.slot("UNB_U")], vals[regmap.slot("UNB_I")]]}
                    print(json.dumps(out))
        best_s = ts if best_s is None else min(best_s, ts)
        best_h = th if best_h is None else min(best_h, th)
    print(json.dumps({"samples": total, "sampler_us": best_s, "harmonics_us": best_h}))


# --- CPython side ------------------------------------------------------------------------------------------------
def scenarios(quick=False):
    """(name, scenario dict) pairs covering the power-quality matrix."""
    import math

    from tools import scenario as scn

    def load(name):
        with open(os.path.join(scn.DIR, name + ".json")) as f:
            return json.load(f)

    h60 = load("harmonics_60")
    out = []
    freqs = (50.0, 65.0) if quick else (45.0, 49.5, 50.0, 50.5, 55.0, 60.0, 65.0)
    for f in freqs:
        s = json.loads(json.dumps(h60))
        s["name"] = "harmonics_%g" % f
        s["frequency"] = f
        out.append((s["name"], s))
    # current THD 40 % with every order 2..31 present, unbalanced phases, voltage THD 8 %
    c40 = 0.4 / math.sqrt(sum(1.0 / h for h in range(2, 32)))  # ratios c / sqrt(h): THD exactly 40 %
    ch = {str(h): [c40 / math.sqrt(h), (37.0 * h) % 360 - 180] for h in range(2, 32)}
    vh = {"3": [0.05, 0.0], "5": [0.05, 30.0], "7": [0.03, -60.0], "11": [0.02, 10.0], "31": [0.01, 45.0]}
    ph = {}
    for p, (u, i, a, ua) in zip("abc", ((230.0, 5.0, 25.0, 0.0), (215.0, 3.0, 40.0, -117.0),
                                        (225.0, 4.0, -10.0, 122.0))):
        ph[p] = {"voltage": u, "current": i, "angle": a, "voltage_angle": ua, "voltage_harmonics": vh,
                 "current_harmonics": ch}
    out.append(("all_orders_unbalanced_52_3", {"version": 1, "name": "all_orders_unbalanced_52_3",
                                               "frequency": 52.3, "phases": ph}))
    if quick:
        out.append(("one_phase_open", load("one_phase_open")))
        s = load("unbalanced_49_8")
        s["name"] = "unbalanced_49_8_2LL2CT"
        s["settings"]["SYSS"] = "2LL2CT"
        out.append((s["name"], s))
        return out
    for name in ("unbalanced_49_8", "one_phase_open", "export", "default"):
        out.append((name, load(name)))
    # three-wire: line-voltage harmonics, two-element current sets (2LL2CT derives Ib)
    for w in ("2LL3CT", "2LL2CT"):
        for base in ("unbalanced_49_8", "harmonics_60"):
            s = load(base)
            s["name"] = "%s_%s" % (base, w)
            s.setdefault("settings", {})["SYSS"] = w
            out.append((s["name"], s))
    # offsets and noise on the board (the DFT ignores DC; noise sets the floor)
    s = json.loads(json.dumps(h60))
    s["name"] = "harmonics_noise_50_3"
    s["frequency"] = 50.3
    s["imperfections"] = {c: {"offset": 0.3 if c[0] == "U" else 0.01, "noise": 0.05 if c[0] == "U" else 0.002}
                          for c in ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "In")}
    out.append((s["name"], s))
    # a drifting line frequency (0.5 Hz/s): the capture's phase step is extrapolated from the last two windows
    s = json.loads(json.dumps(h60))
    s["name"] = "harmonics_drift_0.5_per_s"
    s["frequency"] = 50.0
    s["frequency_drift"] = 0.5
    out.append((s["name"], s))
    return out


def measure(name, scn_dict, runtime, tmpdir, passes=1):
    """Run one scenario through the firmware; returns (errors {quantity: worst pp}, timing dict, updates)."""
    import subprocess

    from tools import generator, scenario, truth

    from firmware.frontend import SAMPLE_RATE

    sc = scenario.parse(scn_dict)
    gen = generator.Generator(sc)
    path = os.path.join(tmpdir, name + ".bin")
    with open(path, "wb") as f:
        f.write(gen.block(int(SECONDS * SAMPLE_RATE)))
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    syss = int(sc.settings["SYSS"])  # parse() gives the register value: 0 3Ln3CT, 1 2LL3CT, 2 2LL2CT
    if runtime == "micropython":
        exe = [os.path.join(root, ".venv", "bin", "micropython"), "-X", "heapsize=4M"]
    else:
        exe = [sys.executable]
    r = subprocess.run(exe + [os.path.join(root, "tools", "accuracy_pq.py"), "--run", path, str(syss),
                              str(passes)], cwd=root, capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError(r.stdout + r.stderr)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    timing = lines[-1]
    updates = lines[:-1]
    hd, thd, unb = expected(sc, syss)
    err = {"HR": 0.0, "THD": 0.0, "UNB_U": 0.0, "UNB_I": 0.0}
    for u in updates:
        for c in range(9):  # the six channels, then the line voltages Uab Ubc Uca
            err["THD"] = max(err["THD"], abs(u["thd"][c] - thd[c]))
        for c in range(6):
            for k in range(30):
                err["HR"] = max(err["HR"], abs(u["hr"][30 * c + k] - hd[c].get(k + 2, 0.0)))
        err["UNB_U"] = max(err["UNB_U"], abs(u["unb"][0] - unb[0]))
        err["UNB_I"] = max(err["UNB_I"], abs(u["unb"][1] - unb[1]))
    return err, timing, len(updates)


def expected(sc, syss):
    """What the six HR/THD slots (then the THD of Uab Ubc Uca) and UNB_U, UNB_I should read, from tools/truth.py's phase spectra: per phase
    in 3Ln3CT; in 2LL the voltage slots are the line voltages Uab, Ubc, Uca, and in 2LL2CT Ib is -(Ia + Ic)
    (what a meter with two CTs can know). Percent."""
    from tools import truth

    sp = {ch: truth.spectrum(sc, ch) for ch in CHANNELS}
    if syss:
        sp["Ua"], sp["Ub"], sp["Uc"] = (truth._sub(sp["Ua"], sp["Ub"]), truth._sub(sp["Ub"], sp["Uc"]),
                                        truth._sub(sp["Uc"], sp["Ua"]))
    if syss == 2:
        sp["Ib"] = {h: -x for h, x in truth._sub(sp["Ia"], sp["Ic"], -1.0).items()}
    hd, thd = [], []
    for ch in CHANNELS:
        x1 = abs(sp[ch].get(1, 0j))
        r = {h: 100.0 * abs(x) / x1 for h, x in sp[ch].items() if h > 1 and x1 > 0}
        hd.append(r)
        thd.append(math.sqrt(sum(v * v for v in r.values())))
    for a, b in (("Ua", "Ub"), ("Ub", "Uc"), ("Uc", "Ua")):  # the line voltages' THD (physical in every wiring)
        ul = truth._sub(truth.spectrum(sc, a), truth.spectrum(sc, b))
        x1 = abs(ul.get(1, 0j))
        thd.append(100.0 * math.sqrt(sum(abs(x) ** 2 for h, x in ul.items() if h > 1)) / x1 if x1 > 0 else 0.0)
    unb = []
    for k in (0, 3):
        pos, neg, zero = truth._sequences(*(sp[CHANNELS[k + j]].get(1, 0j) for j in range(3)))
        unb.append(100.0 * neg / pos if pos > 0 else 0.0)
    return hd, thd, unb


def limit(q):
    return LIMITS["UNB"] if q.startswith("UNB") else LIMITS[q]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--run":  # firmware side
        run_firmware(argv[1], int(argv[2]), int(argv[3]) if len(argv) > 3 else 1)
        return 0
    import tempfile

    quick = "--quick" in argv
    runtime = "python" if "--runtime" in argv and argv[argv.index("--runtime") + 1] == "python" else "micropython"
    worst = {}
    ok = True
    print("Power quality accuracy (%s runtime): worst error in percentage points over every update" % runtime)
    print("%-30s %7s %7s %7s %7s %4s" % ("scenario", "HR", "THD", "UNB_U", "UNB_I", "upd"))
    timing = None
    with tempfile.TemporaryDirectory() as tmp:
        for name, s in scenarios(quick):
            passes = 3 if name == "harmonics_50" else 1
            err, tm, nup = measure(name, s, runtime, tmp, passes)
            if passes > 1:
                timing = tm
            print("%-30s %7.4f %7.4f %7.4f %7.4f %4d" % (name, err["HR"], err["THD"], err["UNB_U"], err["UNB_I"],
                                                         nup))
            if nup == 0:
                ok = False
            for q, e in err.items():
                if e > worst.get(q, (-1, ""))[0]:
                    worst[q] = (e, name)
    print()
    print("%-8s %12s %8s %7s  %s" % ("quantity", "worst error", "limit", "ratio", "scenario"))
    for q in ("HR", "THD", "UNB_U", "UNB_I"):
        e, where = worst[q]
        lim = limit(q)
        print("%-8s %9.4f pp %5.2f pp %7.3f  %s" % (q, e, lim, e / lim, where))
        ok = ok and e <= lim
    if timing is not None:
        from firmware.frontend import SAMPLE_RATE

        sec = timing["samples"] / float(SAMPLE_RATE)
        print()
        print("CPU per second of signal (%s, this host, best of 3): harmonics %.1f ms, sampler kernel %.1f ms"
              % (runtime, timing["harmonics_us"] / sec / 1000.0, timing["sampler_us"] / sec / 1000.0))
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.implementation.name != "micropython":
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        sys.path.insert(0, root)
        sys.path.insert(0, os.path.join(root, "tools", "upy_compat"))
    else:
        sys.path.insert(0, ".")
    sys.exit(main())
