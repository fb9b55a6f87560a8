# SPDX-License-Identifier: MIT
# Builds the flashable firmware image: MicroPython v1.28.0 ports/rp2 (BOARD RPI_PICO) with firmware/ and the
# board package frozen in by boards/<board>/manifest.py. Output: build/<board>/firmware.uf2. Incremental.
#
#   python -m tools.firmware [--board pico] [--check | --missing]
#
# MicroPython source (MPY_SRC): a directory with a v1.28.0 tree, or a .tar.xz of one; by default the vendored
# tarball ../shared/vendor/micropython-1.28.0-rp2.tar.xz, else a git clone of v1.28.0 and the four submodules
# the rp2 port needs. The tree is unpacked once into build/mpy/ and patched with tools/patches/*.patch.
import argparse
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VERSION = "v1.28.0"
TARBALL = os.path.join(ROOT, "..", "shared", "vendor", "micropython-1.28.0-rp2.tar.xz")
WORK = os.path.join(ROOT, "build", "mpy")
TREE = os.path.join(WORK, "micropython-1.28.0")
SUBMODULES = ("lib/pico-sdk", "lib/tinyusb", "lib/micropython-lib", "lib/mbedtls")
REPO = "https://github.com/micropython/micropython"
BOARDS = {"pico": "RPI_PICO"}
# Debian packages behind each tool the image build runs (make setup / .ci/run install them)
TOOLS = (("arm-none-eabi-gcc", "gcc-arm-none-eabi"), ("cmake", "cmake"), ("make", "make"), ("patch", "patch"),
         ("xz", "xz-utils"))
NEWLIB = ("/usr/lib/arm-none-eabi/include/stdio.h", "libnewlib-arm-none-eabi")


def missing_packages():
    """Debian packages whose tools are absent (empty when the image can be built)."""
    out = [pkg for exe, pkg in TOOLS if shutil.which(exe) is None]
    if not os.path.exists(NEWLIB[0]):
        out.append(NEWLIB[1])
    return out


def run(cmd, cwd=None, env=None):
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=cwd, env=env, check=True)


def _patch_set():
    """The patches and a digest of their text: the stamp of a tree patched with exactly these."""
    import hashlib

    paths = sorted(glob.glob(os.path.join(ROOT, "tools", "patches", "*.patch")))
    h = hashlib.sha256()
    for p in paths:
        h.update(os.path.basename(p).encode() + b"\0")
        with open(p, "rb") as f:
            h.update(f.read())
    return paths, h.hexdigest()


def source():
    """Unpack (or clone) and patch the MicroPython tree; again when tools/patches changed. Returns its path."""
    stamp = os.path.join(WORK, "patched.stamp")
    paths, digest = _patch_set()
    if os.path.exists(stamp):
        with open(stamp) as f:
            done = f.read().strip()
        if done == digest:
            return TREE
    src = os.environ.get("MPY_SRC") or (TARBALL if os.path.exists(TARBALL) else "")
    shutil.rmtree(TREE, ignore_errors=True)
    os.makedirs(WORK, exist_ok=True)
    if src and os.path.isdir(src):
        shutil.copytree(src, TREE, symlinks=True)
    elif src:
        run(["tar", "-xJf", os.path.abspath(src), "-C", WORK])
    else:
        run(["git", "clone", "--depth", "1", "--branch", VERSION, REPO, TREE])
        run(["git", "submodule", "update", "--init", "--depth", "1"] + list(SUBMODULES), cwd=TREE)
    for p in paths:
        run(["patch", "-p1", "-i", p], cwd=TREE)
    with open(stamp, "w") as f:
        f.write(digest + "\n")
    return TREE


def build(board):
    if board not in BOARDS:
        raise SystemExit("no firmware image for BOARD=%s (have: %s)" % (board, " ".join(BOARDS)))
    miss = missing_packages()
    if miss:
        raise SystemExit("cannot build the firmware image: missing Debian packages: %s\n"
                         "  install: apt-get install -y %s" % (" ".join(miss), " ".join(miss)))
    tree = source()
    run(["make", "-s", "-C", "mpy-cross", "-j%d" % os.cpu_count()], cwd=tree)
    env = dict(os.environ)
    # CMAKE_ARGS in the environment: on make's command line it would replace the rp2 Makefile's own, dropping
    # BOARD and FROZEN_MANIFEST. PICO_NO_PICOTOOL: pico-sdk would download picotool just to write the UF2.
    env["CMAKE_ARGS"] = "-DPICO_NO_PICOTOOL=1"
    env["PROJECT"] = ROOT  # the manifest freezes firmware/ and boards/ from here
    bdir = "build-kpm53-" + BOARDS[board]
    manifest = os.path.join(ROOT, "boards", board, "manifest.py")
    run(["make", "-s", "BOARD=" + BOARDS[board], "BUILD=" + bdir, "FROZEN_MANIFEST=" + manifest,
         "-j%d" % os.cpu_count()], cwd=os.path.join(tree, "ports", "rp2"), env=env)
    out = os.path.join(ROOT, "build", board)
    os.makedirs(out, exist_ok=True)
    uf2 = os.path.join(out, "firmware.uf2")
    run([sys.executable, os.path.join(tree, "tools", "uf2conv.py"), "-c", "-b", "0x10000000", "-f", "0xe48bff56",
         "-o", uf2, os.path.join(tree, "ports", "rp2", bdir, "firmware.bin")])
    print("firmware image: %s (%d bytes)" % (os.path.relpath(uf2, ROOT), os.path.getsize(uf2)))
    return uf2


def main(argv=None):
    ap = argparse.ArgumentParser(description="build the flashable firmware image (UF2)")
    ap.add_argument("--board", default="pico")
    ap.add_argument("--check", action="store_true", help="only say which Debian packages are missing")
    ap.add_argument("--missing", action="store_true", help="print the missing Debian packages, one line")
    a = ap.parse_args(argv)
    if a.missing:
        print(" ".join(missing_packages()))
        return
    if a.check:
        miss = missing_packages()
        print("firmware toolchain: " + ("complete" if not miss else "missing " + " ".join(miss)))
        sys.exit(1 if miss else 0)
    build(a.board)


if __name__ == "__main__":
    main()
