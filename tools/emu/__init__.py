# SPDX-License-Identifier: MIT
# The emulated RP2040 as a project tool: rp2040js (npm, pinned in package-lock.json) running the project's UF2.
# run() boots the image, runs MicroPython scripts through the raw REPL and returns what they printed.
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BOOTROM = os.path.join(ROOT, "..", "shared", "vendor", "rp2040-bootrom-b1.mjs")
UF2 = os.path.join(ROOT, "build", "pico", "firmware.uf2")
SCENARIOS = os.path.join(ROOT, "tools", "scenarios")


class EmuError(RuntimeError):
    pass


def ensure_node():
    """Install rp2040js from the lockfile once (npm ci); raise EmuError naming what is missing."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        raise EmuError("the RP2040 emulator needs Node.js >= 18: apt-get install -y nodejs npm")
    stamp = os.path.join(HERE, "node_modules", ".kpm53-installed")
    lock = os.path.join(HERE, "package-lock.json")
    if os.path.exists(stamp) and os.path.getmtime(stamp) >= os.path.getmtime(lock):
        return
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       capture_output=True, text=True)
    if r.returncode:
        raise EmuError("npm ci in tools/emu failed:\n" + r.stdout + r.stderr)
    open(stamp, "w").close()


def _sources_newer_than(path):
    t = os.path.getmtime(path)
    for top in ("firmware", os.path.join("boards", "pico"), os.path.join("tools", "patches")):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if os.path.getmtime(os.path.join(d, f)) > t:
                    return True
    return False


def ensure_uf2(uf2=None):
    """The firmware image to boot: `uf2` as given, else build/pico/firmware.uf2, (re)built when stale."""
    if uf2:
        if not os.path.exists(uf2):
            raise EmuError("no such UF2: %s" % uf2)
        return uf2
    if not os.path.exists(UF2) or _sources_newer_than(UF2):
        from tools import firmware

        out = subprocess.run([sys.executable, "-m", "tools.firmware", "--board", "pico"], cwd=ROOT,
                             capture_output=True, text=True)
        if out.returncode:
            raise EmuError("building the firmware image failed:\n" + out.stdout[-3000:] + out.stderr[-3000:])
        del firmware
    return UF2


def scenario_path(name):
    """A scenario by file path or by name in tools/scenarios/ (default, harmonics_60, ...)."""
    if os.path.exists(name):
        return name
    p = os.path.join(SCENARIOS, name + ".json")
    if not os.path.exists(p):
        raise EmuError("no scenario %r (files in tools/scenarios: %s)" % (name, ", ".join(
            sorted(f[:-5] for f in os.listdir(SCENARIOS) if f.endswith(".json")))))
    return p


def run(scripts, uf2=None, scenarios=(), fs=None, save_fs=None, timeout=600, stream=None, stats=False, adc=False,
        lcd_text=None, lcd_png=None):
    """Boot the image (service mode: the REPL stays up), run `scripts` (paths) one after the other.

    scenarios: scenario names/paths the guest's sample feeder plays (index 0 first; the guest switches).
    adc: attach the ADS131M08 model to SPI0 (tools/emu/ads131m08.mjs): it converts the feeder's samples.
    Returns (exit code, stdout text, stderr text, stats dict or None). stream: a file that gets stdout as it comes.
    lcd_text, lcd_png: files for the panel LCD model's text and picture at the end (tools/emu/st7567.mjs); its
    state is then stats["lcd"].
    """
    for s in scripts:
        if not os.path.isfile(s):
            raise EmuError("no such script: %s" % s)
    ensure_node()
    uf2 = ensure_uf2(uf2)
    cmd = ["node", os.path.join(HERE, "emu.mjs"), "--uf2", uf2, "--bootrom",
           "file://" + os.path.abspath(BOOTROM), "--service-mode", "--timeout", str(timeout)]
    for s in scripts:
        cmd += ["--run", s]
    if adc:
        cmd += ["--adc"]
    if fs:
        cmd += ["--fs", fs]
    if save_fs:
        cmd += ["--save-fs", save_fs]
    if lcd_text:
        cmd += ["--lcd-text", lcd_text]
    if lcd_png:
        cmd += ["--lcd-png", lcd_png]
    tmp = tempfile.mkdtemp(prefix="emu-")
    stats_path = os.path.join(tmp, "stats.json")
    cmd += ["--stats-json", stats_path]
    feeder = None
    fds = ()
    if scenarios:
        feeder = subprocess.Popen([sys.executable, "-m", "tools.emu.feeder"] + [scenario_path(s) for s in scenarios],
                                  cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        rd, wr = feeder.stdout.fileno(), feeder.stdin.fileno()
        cmd += ["--samples-in", str(rd), "--samples-out", str(wr)]
        fds = (rd, wr)
    try:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=fds, text=True)
        if stream is not None:
            out = []
            for line in p.stdout:
                out.append(line)
                stream.write(line)
                stream.flush()
            err = p.stderr.read()
            p.wait()
            out = "".join(out)
        else:
            out, err = p.communicate()
    finally:
        if feeder is not None:
            feeder.stdin.close()
            feeder.kill()
            feeder.wait()
    st = None
    if os.path.exists(stats_path):
        with open(stats_path) as f:
            st = json.load(f)
    shutil.rmtree(tmp, ignore_errors=True)
    return p.returncode, out, err, st
