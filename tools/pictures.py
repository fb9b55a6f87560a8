# SPDX-License-Identifier: MIT
# The glass in pictures (docs/ui.md, Glass): chosen pages drawn by the real firmware (firmware/ui/fb.py) under the
# MicroPython unix port, their 1024-byte buffers written as PNGs under docs/pictures/ (tools/glass.py).
#   python -m tools.pictures [--out DIR] [--scale 4] [--ascii]      (make pictures)
# The same file is the guest: `micropython tools/pictures.py --guest` prints "PIC name hex" lines.
import sys

OUT = "docs/pictures"


# -- the guest (MicroPython unix port, or CPython with tools/upy_compat) --

# Energy registers shown on the energy pages (Wh): seeded into the real ledger's accumulators
_ENERGY_WH = (("EP_imp", 0, 12345678), ("EP_exp", 1, 78912))  # (name, accumulator, Wh)


def _seed_energy(energy, limbs):
    """Put whole Wh into the energy accumulators the way firmware/energy.py keeps them (NL limbs of BITS bits,
    least significant first, FRAC fraction bits), so the pages show what a meter that counted them shows."""
    from firmware import energy as _e

    for name, q, wh in _ENERGY_WH:
        v = wh << _e.FRAC
        for i in range(_e.NL):
            energy.acc[q * _e.NL + i] = v & limbs.MASK
            v >>= limbs.BITS
        assert energy.wh(name) == wh, name


def meter():
    """The real firmware Meter (RAM store, as the sim's without a state directory) with the measurements,
    directions, clock and energy the pictures show; its own Ui, settings list (panel rows) and page sources."""
    from firmware import limbs, regmap
    from firmware.meter import Meter

    m = Meter(None)
    m.config.set("Pt_U", 1000)
    for name, v in (("Ua", 230.12), ("Ub", 229.84), ("Uc", 231.05), ("Ia", 3.105), ("Ib", 4.25), ("Ic", 5.2),
                    ("Pa", 652.3), ("Pb", 905.1), ("Pc", -121.6), ("P", 1435.8), ("Qa", 120.0), ("Qb", -80.5),
                    ("Qc", 40.2), ("Q", 79.7), ("F", 49.98), ("THD_Ua", 2.31), ("THD_Ub", 1.98), ("THD_Uc", 2.07)):
        m.vals[regmap.slot(name)] = v
    # metering's view of a complete window on a steady load: every quantity measured and known (the mask), the
    # directions of P a b c total, Q a b c total (1 positive, 2 negative)
    from firmware import metering_codes

    for k in range(len(m.metering.mask)):
        m.metering.mask[k] = metering_codes.MEAS | metering_codes.KNOWN
    d = (1, 1, 2, 1, 1, 2, 1, 1)
    for k in range(8):
        m.metering.dirs[k] = d[k]
    m.clock.set_ymd(20261130)
    m.clock.set_hms(102300)
    _seed_energy(m.ledger.energy, limbs)
    m.io.inputs[0] = 1
    m.io.relays[1] = 1
    m.io.comm = 1
    return m


def guest():
    sys.path.insert(0, ".")
    import tools.upy_host  # puts `micropython` on sys.path under CPython

    from firmware import regmap
    from firmware.ui import fb

    m = meter()
    ui = m.ui
    buf = bytearray(1024)

    def pic(name):
        scr = ui.screen()
        n = fb.render(scr, buf)
        if n:
            raise ValueError("%s: %r does not fit" % (name, fb.clip_text))
        print("PIC", name, "".join("%02x" % b for b in buf))

    def press(seq):
        for k in seq.split():
            m.key(k)  # as the board does: the Ui's key, then the meter's service

    # the load bars (Ia Ib Ic: 62 85 104 % of In = 5 A) and the per-phase load nature (signs of Qa Qb Qc) are
    # the menu's, on every measurement page
    pic("meter_u")
    press("down down")  # the currents with Ia Ib Ic over range (20 A on a 5 A meter: clipped readings, flagged)
    fl = m.flags
    fl.on = 0x38
    ia = regmap.slot("Ia")
    held = [m.vals[ia + k] for k in range(3)]
    for k in range(3):
        m.vals[ia + k] = 19.09
    pic("meter_i_ovr")
    fl.on = 0
    for k in range(3):
        m.vals[ia + k] = held[k]
    press("down")
    pic("meter_p_bars")
    press("right")
    pic("energy")
    for _ in range(40):  # on through the energy and time walk to the date and time
        if ui.screen().clock:
            break
        press("right")
    pic("clock")
    press("left right")  # PQM, harmonics
    pic("harmonics")
    press("left left")
    press("enter down down down down right down down down down right down down down down right down down down "
          "down enter")  # password 6666
    for _ in range(40):
        if ui.screen().label[0] == "Pt_U":
            break
        press("down")
    press("enter right")  # edit Pt_U, second digit; the blink's on phase: inverted
    pic("settings_edit")


# -- the host (CPython) --

def run_guest(micropython=None):
    """{name: 1024-byte buffer} from the guest under the MicroPython unix port."""
    import os
    import subprocess

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    exe = micropython or os.path.join(root, ".venv", "bin", "micropython")
    r = subprocess.run([exe, "-X", "heapsize=4M", "tools/pictures.py", "--guest"], cwd=root, capture_output=True,
                       text=True, timeout=120)
    if r.returncode:
        raise RuntimeError("guest failed:\n" + r.stdout + r.stderr)
    out = {}
    for line in r.stdout.splitlines():
        if line.startswith("PIC "):
            _, name, hx = line.split()
            out[name] = bytes.fromhex(hx)
    return out


def main(argv=None):
    import argparse
    import os

    from tools import glass

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--ascii", action="store_true", help="print each picture in quadrant blocks, no files")
    ap.add_argument("--micropython", help="the unix port's executable (default .venv/bin/micropython)")
    a = ap.parse_args(argv)
    pics = run_guest(a.micropython)
    for name, buf in pics.items():
        if a.ascii:
            print(name)
            print("\n".join(glass.to_blocks(buf)))
            continue
        os.makedirs(a.out, exist_ok=True)
        print("wrote", glass.to_png(buf, os.path.join(a.out, name + ".png"), a.scale))
    return 0


if __name__ == "__main__":
    if "--guest" in sys.argv:
        guest()
    else:
        sys.exit(main())
