# SPDX-License-Identifier: MIT
# python -m tools.emu run FILE.py [...] [--uf2 PATH] [--scenario NAME ...]: a script on the emulated RP2040.
# Prints what the script prints; exits 0 when it ended without an exception, else non-zero with the traceback.
import argparse
import sys

from tools import emu


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m tools.emu", description="the project's firmware on an emulated RP2040")
    sub = ap.add_subparsers(dest="verb", required=True)
    r = sub.add_parser("run", help="run MicroPython scripts on the emulated chip")
    r.add_argument("files", nargs="+", metavar="FILE.py")
    r.add_argument("--uf2", help="firmware image (default: build/pico/firmware.uf2, rebuilt when stale)")
    r.add_argument("--scenario", action="append", default=[],
                   help="scenario the guest's sample feeder plays (repeat: the guest switches by index)")
    r.add_argument("--fs", help="littlefs image for the flash filesystem (read at boot)")
    r.add_argument("--save-fs", help="write the flash filesystem here when done")
    r.add_argument("--lcd-text", help="write the panel LCD's text here when done (tools/emu/st7567.mjs)")
    r.add_argument("--lcd-png", help="write a picture of the panel LCD here when done")
    r.add_argument("--timeout", type=float, default=1800, help="wall-clock limit, seconds")
    r.add_argument("--stats", action="store_true", help="print cycles, simulated and wall time on stderr")
    a = ap.parse_args(argv)
    try:
        code, _, err, st = emu.run(a.files, uf2=a.uf2, scenarios=a.scenario, fs=a.fs, save_fs=a.save_fs,
                                   timeout=a.timeout, stream=sys.stdout,
                                   lcd_text=a.lcd_text, lcd_png=a.lcd_png)
    except emu.EmuError as e:
        print("emu: %s" % e, file=sys.stderr)
        return 2
    sys.stderr.write(err)
    if a.stats and st:
        sys.stderr.write("emu: %d cycles, %.3f s simulated, %.1f s wall (%.1f M cycles/s)\n" % (
            st["cycles"], st["sim_s"], st["wall_s"], st["emulated_mhz"]))
    return code


if __name__ == "__main__":
    sys.exit(main())
