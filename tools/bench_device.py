# SPDX-License-Identifier: MIT
# make bench-device: the board inside the emulated RP2040 at 125 MHz (tools/emu) with its drivers: the ADS131M08
# model streams 8 channels x 8000 samples/s of three scenarios in turn (default, harmonics_60, a 2LL2CT one) over
# SPI0 into the DMA ring, 10 Modbus requests a second (FC03 x 125, FC04 x 80), a key every few seconds, the LCD
# drawn and sent over SPI1 twice a second, the panel's pins polled every block, for 10 simulated minutes. Prints
# the table of figures and one summary line:
#   device: heap_free_min=<bytes> cpu=<percent of 125 MHz> kernel=<percent> worst_step_ms=<ms> powerfail_save_ms=<ms>
import argparse
import os
import re
import sys
import tempfile

from tools import emu
from tools import scenario as scn

HZ = 125e6
SCENARIOS = ("default", "harmonics_60", "three_wire_2ll2ct")
SETTINGS = ("SYSS", "Un", "In", "Pt_U", "Ct_I")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUEST = os.path.join(ROOT, "tools", "device", "bench_meter.py")
LIMITS = {"heap_free_min": 64 * 1024, "cpu": 35.0, "kernel": 8.0, "worst_step_ms": 20.0, "powerfail_save_ms": 10.0}


def guest_script(seconds):
    settings = []
    for name in SCENARIOS:
        s = scn.load(emu.scenario_path(name))
        settings.append([(k, int(s.settings[k])) for k in SETTINGS])
    params = {"seconds": seconds, "requests": 10, "key_every": 7,
              "keys": ["down", "down", "right", "up", "left", "down", "right", "left"],
              "switch": [seconds // 3, 2 * seconds // 3], "settings": settings}
    with open(GUEST) as f:
        return "PARAMS = %r\n" % (params,) + f.read()


def parse(out):
    r = {"steps": {}}
    for line in out.splitlines():
        if not line.startswith("R "):
            continue
        kv = dict(re.findall(r"(\w+)=(-?\d+|\w+)", line[2:]))
        if line.startswith("R part="):
            r[kv["part"]] = kv
        elif line.startswith("R step "):
            r["steps"][kv["part"]] = kv
        elif line.startswith("R run "):
            r["run"] = kv
        elif line.startswith("R kernel "):
            r["kernel"] = int(kv["cycles_per_s"])
        elif line.startswith("R powerfail "):
            r["powerfail"] = int(kv["cycles"])
    return r


def report(r):
    """The table (markdown) and the summary figures."""
    run = r["run"]
    secs = int(run["seconds"])
    lines = ["| part | figure |", "|---|---|"]
    imp, con = r["imports"], r["construction"]
    lines.append("| heap (GC) | %d bytes |" % int(imp["heap"]))
    lines.append("| imports hold | %d bytes (free after: %d) |" % (int(imp["held"]), int(imp["free"])))
    lines.append("| construction holds | %d bytes (free after: %d; %.0f ms) |" % (
        int(con["held"]), int(con["free"]), int(con["cycles"]) / HZ * 1e3))
    lines.append("| running: lowest free | %d bytes |" % int(run["free_min"]))
    lines.append("")
    lines.append("| step (%d s of signal) | CPU, %% of 125 MHz | longest single call, ms |" % secs)
    lines.append("|---|---|---|")
    total = 0.0
    worst = 0.0
    for part, kv in r["steps"].items():
        pct = int(kv["kcycles"]) * 1000 / secs / HZ * 100
        w = int(kv["worst"]) / HZ * 1e3
        total += pct
        worst = max(worst, w)
        lines.append("| %s | %.2f | %.2f |" % (part, pct, w))
    lines.append("| **all** (average; busiest second %.1f) | **%.2f** | **%.2f** |" % (
        int(run["cpu_max"]) / HZ * 100, total, worst))
    kernel = r["kernel"] / HZ * 100
    pf = r["powerfail"] / HZ * 1e3
    lines.append("| of which the sampling kernel | %.2f | |" % kernel)
    lines.append("| power-fail save (Meter.power_down) | | %.2f |" % pf)
    fig = {"heap_free_min": int(run["free_min"]), "cpu": total, "kernel": kernel, "worst_step_ms": worst,
           "powerfail_save_ms": pf}
    return "\n".join(lines), fig


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=600, help="simulated seconds of signal (default 600)")
    ap.add_argument("--uf2", help="firmware image (default build/pico/firmware.uf2, rebuilt when stale)")
    ap.add_argument("--update-readme", action="store_true", help="write the table into README.md as well")
    a = ap.parse_args(argv)
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(guest_script(a.seconds))
        path = f.name
    try:
        code, out, err, st = emu.run([path], uf2=a.uf2, scenarios=SCENARIOS, timeout=4 * 3600, stream=sys.stderr,
                                     adc=True)
    finally:
        os.unlink(path)
    if code:
        sys.stderr.write(err)
        print("bench-device: the run on the emulated chip failed (exit %d)" % code)
        return 1
    table, fig = report(parse(out))
    print(table)
    print("emulator: %.0f s wall, %.0f s of emulated CPU time (%.1f M cycles/s)" % (st["wall_s"], st["sim_s"],
                                                                         st["emulated_mhz"]))
    bad = [k for k, lim in LIMITS.items() if (fig[k] < lim if k == "heap_free_min" else fig[k] > lim)]
    if bad:
        print("over the budget: " + ", ".join("%s (limit %s)" % (k, LIMITS[k]) for k in bad))
    summary = "device: heap_free_min=%d cpu=%.1f kernel=%.1f worst_step_ms=%.1f powerfail_save_ms=%.1f" % (
        fig["heap_free_min"], fig["cpu"], fig["kernel"], fig["worst_step_ms"], fig["powerfail_save_ms"])
    if a.update_readme:
        update_readme(table, summary, a.seconds, st)
    print(summary)
    return 1 if bad else 0


def update_readme(table, summary, seconds, st):
    path = os.path.join(ROOT, "README.md")
    with open(path) as f:
        text = f.read()
    begin, end = "<!-- bench-device:begin -->\n", "<!-- bench-device:end -->"
    i, j = text.index(begin) + len(begin), text.index(end)
    body = "%s\n\n`%s` (%d s of signal; %.0f s wall here, %.0f M emulated cycles/s)\n" % (
        table, summary, seconds, st["wall_s"], st["emulated_mhz"])
    with open(path, "w") as f:
        f.write(text[:i] + body + text[j:])


if __name__ == "__main__":
    sys.exit(main())
