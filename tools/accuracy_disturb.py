# SPDX-License-Identifier: MIT
# `make accuracy-disturb`: the whole firmware under grid disturbances (extra zero crossings, notches,
# interharmonics, over-range, a blown voltage fuse, a reversed sequence, load steps, DC) against the scenarios'
# truth. Samples from tools/generator.py go through the meter (firmware/meter.py, tools/accuracy_disturb_upy.py)
# under MicroPython; each window's register image is judged against tools/truth.py (periodic signals) or the
# ideal meter over the same whole cycles (tools/truth_window.py: interharmonics, steps), energy against the exact
# integral. Prints a markdown table (case, wiring, quantity, worst error, limit, result); exit 1 on a failure.
# Usage: python -m tools.accuracy_disturb [--case NAME ...] [--mode 3Ln3CT|2LL3CT|2LL2CT] [--runtime python]
import argparse
import math
import os
import struct
import subprocess
import sys
import threading
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from tools import accuracy, generator, scenario, truth, truth_window  # noqa: E402  (after the sys.path set-up)
from boards.sim import proto  # noqa: E402  (after the sys.path set-up)
from firmware import frontend, regmap  # noqa: E402  (after the sys.path set-up)
from firmware.metering_config import U_TH  # noqa: E402  (after the sys.path set-up)

MODES = accuracy.MODES
UN = accuracy.UN  # rated voltage per wiring (2LL: the line voltage, 400 V)
SKIP = 3  # start-up windows not judged: make accuracy skips 2; the third is the first with the harmonic analysis's
# rms factors (the filter's droop at harmonic orders, docs/metering.md), which the half-wave case needs
NOV_FROM = 1.5  # s: NOV is set once current without voltage held 1 s (firmware/inputflags.py), from ~0.3 s on
PQ_FROM = 6  # THD and unbalance come from the harmonic analysis (one window in four): judged from this window on
F_LIMIT = 0.01  # Hz (the goal under disturbances; make accuracy's 0.002 Hz is for clean waveforms)
LIMITS = dict(accuracy.LIMITS, F=F_LIMIT, THD=0.1, UNB=0.05, NAT=0, EP=5e-4, FLAG=0)
METROLOGY = ("U", "I", "P", "Q", "S", "PF", "F")
# The indications the meter gives of bad inputs, read by register name from the register image (any block of firmware/
# regmap.py). Contract (rename here if the firmware publishes them otherwise): OVR bit k = channel k (Ua Ub Uc Ia
# Ib Ic In) went beyond the ADC's range in the last window; NOV bit p = phase p (a b c) carries current (>= IST)
# without voltage (< U_TH); SEQ the voltages' phase sequence, 0 undetermined, 1 a-b-c, 2 a-c-b.
FLAG_REGS = {"over_range": "OVR", "no_voltage": "NOV", "sequence": "SEQ"}

# A notch's content above the 31st order (0.3 % of U^2 in notches_6pulse) passes the ADC's sinc3 and RC with up
# to 75 % less amplitude, and the firmware divides the filter out for orders 1..31 only (docs/metering.md): the
# rms of a notched voltage reads ~0.1 % low on any synchronisation. U, and S and PF made of it, are shown for
# the notch cases, not judged; I, P, Q (the currents are sinusoidal) and F, THD (2..31) are.
NOTCHED = ("I", "P", "Q", "F", "THD", "NAT", "info:U", "info:S", "info:PF")
# name: (scenario file (or {wiring: file}), wiring modes, seconds, what is judged). Kinds: METROLOGY per window
# (make accuracy's errors()), THD (voltages; "THD_I": currents too), UNB, NAT (STATUS codes vs the truth's
# directions), EP (energy: net active, total and per element, over the judged windows), flags (FLAG_REGS);
# "info:X": shown, not judged.
CASES = {
    "zero_crossings": ("zero_crossings", MODES, 2.4, METROLOGY + ("THD", "NAT")),
    "notches": ({"3Ln3CT": "notches_6pulse", "2LL3CT": "notches_6pulse_2ll", "2LL2CT": "notches_6pulse_2ll"},
                MODES, 2.4, NOTCHED),
    "interharmonic": ("interharmonic_172", MODES, 2.4, METROLOGY),
    "subharmonic": ("subharmonic_8hz", MODES, 2.4, METROLOGY),
    "over_range_20A": ("over_range_20a", MODES, 2.4, ("U", "F", "over_range", "info:I", "info:P")),
    "over_range_30A": ("over_range_30a", ("3Ln3CT",), 2.4, ("U", "F", "over_range", "info:I", "info:P")),
    "blown_fuse": ("blown_fuse_b", ("3Ln3CT",), 2.4, METROLOGY + ("no_voltage",)),
    "reversed": ("reversed_sequence", MODES, 2.4, METROLOGY + ("UNB", "sequence")),
    "welder": ("welder", MODES, 5.2, ("EP",)),
    "random_steps": ("random_steps", ("3Ln3CT",), 60.0, ("EP",)),
    # four wires only: three wires cannot carry the currents' DC and zero-sequence (triplen) parts
    "half_wave_dc": ("half_wave_dc", ("3Ln3CT",), 2.4, METROLOGY + ("THD_I",)),
}
FWH = 2.0 ** -40  # Wh per unit of the energy accumulators


def case_scenario(name, mode):
    """The scenario dict of a case in a wiring mode (its settings with SYSS and Un for the wiring)."""
    f = CASES[name][0]
    d = scenario.load(f[mode] if isinstance(f, dict) else f).to_dict()
    d["settings"]["SYSS"] = mode
    d["settings"]["Un"] = UN[mode]
    return d


class Firmware(accuracy.Firmware):
    """The micropython process running tools/accuracy_disturb_upy.py (the whole meter)."""

    def __init__(self, exe=None):
        exe = exe or (accuracy.MICROPYTHON if os.path.exists(accuracy.MICROPYTHON) else sys.executable)
        self.p = subprocess.Popen([exe, "tools/accuracy_disturb_upy.py"], cwd=ROOT, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    def meter(self, sc, seconds):
        """Run the scenario through a fresh meter; returns [(windows, end in samples, energy accs, image)], us."""
        st = sc.settings
        settings = ",".join("%s=%d" % (k, st[k]) for k in ("SYSS", "Un", "In", "Pt_U", "Ct_I", "IST"))
        self._send(proto.ACC_CONFIGURE, settings.encode())
        gen = generator.Generator(sc)
        out = []
        reader = threading.Thread(target=self._read, args=(out,))  # its window lines fill the pipe meanwhile
        reader.start()
        left = int(round(seconds * frontend.SAMPLE_RATE))
        try:
            while left > 0:  # a second at a time: the meter runs while the next second is generated
                n = min(left, frontend.SAMPLE_RATE)
                self._send(proto.SAMPLES, gen.block(n))
                self.p.stdin.flush()
                left -= n
            self._send(proto.ACC_END)
            self.p.stdin.flush()
        finally:
            reader.join()
        if not out or not out[-1].startswith("E "):
            raise RuntimeError("firmware process ended: " + self.p.stderr.read().decode()[-2000:])
        wins = []
        for line in out[:-1]:
            f = line.split()
            wins.append((int(f[1]), int(f[2]) / 32768.0, [int(x) for x in f[3:11]], bytes.fromhex(f[11])))
        return wins, int(out[-1].split()[1])

    def _read(self, out):
        while True:
            line = self.p.stdout.readline().decode()
            if not line:
                return
            out.append(line)
            if line.startswith("E "):
                return


_ROWS = None


def _registers():
    global _ROWS
    if _ROWS is None:
        _ROWS = {r["name"]: r for r in regmap.rows()}
    return _ROWS


def read(image, name):
    """A register's value from the image (big-endian, as FC03 reads it) by regmap name; None if there is none."""
    r = _registers().get(name)
    if r is None:
        return None
    a = 2 * r["address"]
    fmt = {"uint16": ">H", "int16": ">h", "uint32": ">I", "int32": ">i", "float32": ">f", "uint64": ">Q"}[r["type"]]
    return struct.unpack(fmt, image[a:a + struct.calcsize(fmt)])[0]


def values(image):
    """{measurement name: float} from the image's real-time block."""
    a = 2 * regmap.MEAS_BASE
    v = np.frombuffer(image[a:a + 4 * regmap.N_MEAS], dtype=">f4")
    return {m[0]: float(v[k]) for k, m in enumerate(regmap.MEASUREMENTS)}


def delay(sc):
    """Seconds by which the sampled stream lags the terminals at the fundamental: the sinc3 and the voltage RC."""
    if not sc.adc_filter:
        return 0.0
    f = sc.frequency
    return 3 * (frontend.OSR - 1) / (2.0 * frontend.F_MOD) + math.atan(f / sc.rc_corner["U"]) / (2 * math.pi * f)


def end_time(sc, end):
    """Terminal time (seconds) of a window end at sampler position `end` (Q15 positions / 2**15: sample k, taken
    at k / fs, is position k + 1 and stands for [k, k + 1), so a window's sums see the signal half a sample
    after its edges), less the filter's delay."""
    return (end - 0.5) / float(frontend.SAMPLE_RATE) - delay(sc)


def window_span(sc, start, end):
    """[t0, t1] (terminal seconds) of the whole cycles nearest to the window [start, end] (sampler positions),
    ending where it ends: a window that is not whole cycles is judged against whole cycles, not against itself."""
    n = max(1, int(round((end - start) / float(frontend.SAMPLE_RATE) * sc.frequency)))
    t1 = end_time(sc, end)
    return truth_window.whole_cycles(sc, t1, n), t1


def directions(t, mode):
    """STATUS codes Quad NAT_a NAT_b NAT_c NAT from the truth's P and Q (dead band 0.5 % of S, docs/metering.md)."""
    def d(x, s):
        return 0 if abs(x) <= 0.005 * s else (1 if x > 0 else -1)

    def nat(p, q, s):
        dq = d(q, s)
        if dq == 0:
            return 0
        return 1 if (d(p, s) >= 0) == (dq > 0) else 2

    quad = {(1, 1): 1, (-1, 1): 2, (-1, -1): 3, (1, -1): 4}.get((d(t["P"], t["S"]), d(t["Q"], t["S"])), 0)
    ph = [nat(t["P" + p], t["Q" + p], t["S" + p]) if mode == "3Ln3CT" else 0 for p in "abc"]
    return [quad] + ph + [nat(t["P"], t["Q"], t["S"])]


def expected_flags(sc, t):
    """{flag: expected register value}: the channels whose peak (as wired, DC included) reaches full scale, the
    phases with current and no voltage (3Ln3CT), the voltages' sequence."""
    tt = np.arange(4096) / 4096.0 / sc.frequency
    ovr = 0
    for k, ch in enumerate(scenario.CHANNELS):
        full = frontend.U_FULL_SCALE if ch[0] == "U" else frontend.I_FULL_SCALE
        x = truth.channel_dc(sc, ch) + sum(math.sqrt(2) * np.imag(c * np.exp(2j * math.pi * h * sc.frequency * tt))
                                           for h, c in truth.channel_spectrum(sc, ch).items())
        if np.max(np.abs(x)) >= full:
            ovr |= 1 << k
    nou = 0
    if sc.settings["SYSS"] == 0:
        for k, p in enumerate("abc"):
            if t["I" + p] > 0 and t["U" + p] < U_TH * sc.pt:
                nou |= 1 << k
    return {"over_range": ovr, "no_voltage": nou, "sequence": t["sequence"]}


class Worst:
    """The worst error per quantity and where it was."""

    def __init__(self):
        self.d = {}

    def note(self, kind, e, where):
        if e > self.d.get(kind, (-1.0, None))[0]:
            self.d[kind] = (e, where)

    def count(self, kind, bad, where):
        """Windows in which a code or flag was wrong (where: the first such window's reading)."""
        n, w = self.d.get(kind, (0.0, None))
        if n == math.inf:
            return
        self.d[kind] = (n + (1 if bad else 0), w if w or not bad else where)


def _window_checks(name, mode, sc, wins, kinds, t_steady, worst):
    steady = not sc.timeline and not any(sc.phases[p][k] for p in "abc"
                                         for k in ("voltage_interharmonics", "current_interharmonics"))
    flags = expected_flags(sc, t_steady) if any(k in FLAG_REGS for k in kinds) else {}
    metrology = any(k in kinds or "info:" + k in kinds for k in METROLOGY)
    for j in range(SKIP, len(wins)):
        img = wins[j][3]
        got = values(img)
        if metrology or "NAT" in kinds:
            want = t_steady if steady else dict(t_steady, **truth_window.window(
                sc, *window_span(sc, wins[j - 1][1], wins[j][1])))
        if metrology:
            for k, (e, q) in accuracy.errors(got, want).items():
                worst.note(k, e, q)
        if "NAT" in kinds:
            st = [read(img, x) for x in ("Quad", "NAT_a", "NAT_b", "NAT_c", "NAT")]
            exp = directions(want, mode)
            worst.count("NAT", st != exp, "Quad NAT_a..c NAT %s, want %s" % (st, exp))
        if j >= PQ_FROM and ("THD" in kinds or "THD_I" in kinds):
            line = {"Ua": "THD_Uab", "Ub": "THD_Ubc", "Uc": "THD_Uca"}  # 2LL: the voltage slots are line voltages
            for ch in ("Ua", "Ub", "Uc") + (("Ia", "Ib", "Ic") if "THD_I" in kinds else ()):
                if mode == "2LL2CT" and ch == "Ib":
                    continue  # derived from Ia and Ic
                w = t_steady[line[ch]] if mode != "3Ln3CT" and ch in line else t_steady["THD_" + ch]
                worst.note("THD", abs(got["THD_" + ch] - w), "THD_" + ch)
        if j >= PQ_FROM and "UNB" in kinds:
            for q in ("UNB_U", "UNB_I"):
                worst.note("UNB", abs(got[q] - t_steady[q]), q)
        for k in kinds:
            if k == "sequence" and j < PQ_FROM:
                continue  # the sequence comes with the unbalance
            if k == "no_voltage" and end_time(sc, wins[j][1]) < NOV_FROM:
                continue
            if k in FLAG_REGS:
                v = read(img, FLAG_REGS[k])
                if v is None:
                    worst.d["flag " + k] = (math.inf, "no register %s; want %d" % (FLAG_REGS[k], flags[k]))
                else:
                    worst.count("flag " + k, v != flags[k], "%s %d, want %d" % (FLAG_REGS[k], v, flags[k]))


def _energy_checks(mode, sc, wins, worst):
    """Net active energy (import - export accumulators) over the judged windows against the exact integral."""
    (_, e0, acc0, _), (_, e1, acc1, _) = wins[SKIP], wins[-1]
    t0, t1 = end_time(sc, e0), end_time(sc, e1)
    want = truth_window.energy(sc, t0, t1)
    parts = [("EP", 0, "total")] + ([("EPa", 2, "a"), ("EPb", 4, "b"), ("EPc", 6, "c")] if mode == "3Ln3CT" else [])
    for q, k, key in parts:
        got = ((acc1[k] - acc0[k]) - (acc1[k + 1] - acc0[k + 1])) * FWH
        worst.note("EP", abs(got - want[key]) / max(abs(want[key]), 1e-12),
                   "%s %.5f Wh, truth %.5f Wh (%.2f s)" % (q, got, want[key], t1 - t0))


def judge(name, mode, sc, wins):
    """[(quantity, worst error, limit (None: shown, not judged), where)] for one case in one wiring mode."""
    kinds = CASES[name][3]
    if len(wins) <= SKIP + 1:
        raise RuntimeError("%s %s: only %d windows" % (name, mode, len(wins)))
    worst = Worst()
    _window_checks(name, mode, sc, wins, kinds, truth.truth(sc), worst)
    if "EP" in kinds:
        _energy_checks(mode, sc, wins, worst)
    out = []
    for k in kinds:
        info = k.startswith("info:")
        key = k[5:] if info else ("flag " + k if k in FLAG_REGS else {"THD_I": "THD"}.get(k, k))
        if key in worst.d:
            e, where = worst.d.pop(key)
            out.append((key, e, None if info else LIMITS["FLAG" if k in FLAG_REGS else key], where))
    return out


def fmt(kind, e):
    if kind.startswith("flag") or kind == "NAT":  # windows with a flag or STATUS code unlike the truth's
        return "-" if e == math.inf else "%d windows" % e
    if kind in ("U", "I", "P", "Q", "S", "EP"):
        return "%.4f %%" % (100 * e)
    if kind == "PF":
        return "%.5f" % e
    if kind == "F":
        return "%.4f Hz" % e
    if kind in ("THD", "UNB"):
        return "%.3f pp" % e
    return "%g" % e


def run(names, modes, exe=None):
    """[(case, wiring, quantity, worst error, limit, where)], us in the meter, samples."""
    rows = []
    fw = Firmware(exe)
    us = samples = 0
    try:
        for name in names:
            _, wirings, seconds, _ = CASES[name]
            for mode in wirings:
                if modes and mode not in modes:
                    continue
                sc = scenario.parse(case_scenario(name, mode))
                wins, t = fw.meter(sc, seconds)
                us += t
                samples += int(round(seconds * frontend.SAMPLE_RATE))
                for kind, e, lim, where in judge(name, mode, sc, wins):
                    rows.append((name, mode, kind, e, lim, where))
    finally:
        fw.close()
    return rows, us, samples


# a result row: (case, wiring, quantity, worst error, limit or None for information only, where), read through these
_CASE, _MODE, _KIND, _ERR, _LIM, _WHERE = range(6)


def table(rows):
    out = ["| case | wiring | quantity | worst error | limit | result | where |", "|---|---|---|---|---|---|---|"]
    for name, mode, kind, e, lim, where in rows:
        res = "info" if lim is None else ("pass" if e <= lim else "**FAIL**")
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (name, mode, kind, fmt(kind, e),
                                                              "-" if lim is None else fmt(kind, lim), res, where))
    return "\n".join(out)


def summary(rows):
    """One row per case: each quantity beyond its limit in some wiring (its worst error, and the wirings where
    it fails: all, or which), then those within in every wiring. For the README."""
    out = ["| case | wirings | beyond the limit: worst error (limit) where | within the limit |", "|---|---|---|---|"]
    for name in dict.fromkeys(r[_CASE] for r in rows):
        modes = list(dict.fromkeys(r[_MODE] for r in rows if r[_CASE] == name))
        kinds = list(dict.fromkeys(r[_KIND] for r in rows if r[_CASE] == name and r[_LIM] is not None))
        bad, good = [], []
        for k in kinds:
            mine = [r for r in rows if r[_CASE] == name and r[_KIND] == k]
            fails = [r for r in mine if not r[_ERR] <= r[_LIM]]
            if not fails:
                good.append(k)
                continue
            w = max(fails, key=lambda r: r[_ERR])
            where = "" if len(modes) == 1 else (" all" if len(fails) == len(modes) else
                                                 " " + " ".join(r[_MODE] for r in fails))
            if w[_ERR] == math.inf:
                bad.append("%s: %s%s" % (k, w[_WHERE].split(";")[0], where))
            else:
                bad.append("%s %s (%s)%s" % (k, fmt(k, w[_ERR]), fmt(k, w[_LIM]), where))
        out.append("| %s | %s | %s | %s |" % (name, " ".join(modes), "; ".join(bad) or "-", " ".join(good) or "-"))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description="metrology under grid disturbances (docs/scenarios.md)")
    ap.add_argument("--case", action="append", choices=sorted(CASES), help="only this case (repeatable)")
    ap.add_argument("--mode", action="append", choices=MODES, help="only this wiring (repeatable)")
    ap.add_argument("--runtime", choices=("micropython", "python"), default="micropython")
    ap.add_argument("--summary", action="store_true", help="one row per case (the README's table)")
    a = ap.parse_args(argv)
    t0 = time.time()
    rows, us, samples = run(a.case or list(CASES), a.mode, None if a.runtime == "micropython" else sys.executable)
    print(summary(rows) if a.summary else table(rows))
    sec = samples / float(frontend.SAMPLE_RATE)
    bad = [r for r in rows if r[_LIM] is not None and not r[_ERR] <= r[_LIM]]
    print()
    print("%d rows, %d beyond the limit; %.1f s of signal, the meter (%s) %.1f ms per second of it; wall time "
          "%.1f s" % (len(rows), len(bad), sec, a.runtime, us / 1000.0 / sec, time.time() - t0))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
