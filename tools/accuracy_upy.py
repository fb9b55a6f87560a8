# SPDX-License-Identifier: MIT
# The firmware side of tools/accuracy.py: runs under micropython (or python3) from the repo root, meters the
# samples it gets on stdin with the real sampler, metering and calibration, prints one line per window. The
# harmonic analysis runs beside them as in firmware/meter.py (its rms factors divide the front end's filter out
# of the harmonic part of U and I); its time is not counted in the metrology's.
# stdin messages (boards/sim/proto.py: kind byte + uint32 LE length + payload of int32 LE words):
#   C pt ct syss un in ist  -> configure (a new case: the sampler starts afresh)
#   A ref_mV ref_mA ref_mdeg -> start a calibration (Ref_U, Ref_I, Ref_Phi); it completes after 11 windows
#   Z                        -> calibration back to identity
#   S samples (8 x n int32)  -> feed; each metered window prints "W <hex of vals (float32 LE)>"
#   E                        -> end of case: prints "E <us spent in feed/update> <samples>"
import sys

sys.path.insert(0, ".")
from tools.upy_host import ticks_diff, ticks_us  # first: it puts `micropython` on sys.path
from array import array

from boards.sim import proto
from boards.sim.board import BLOCK  # the sim's S message, as tools/accuracy.py sends them
from firmware import regmap
from firmware.calib import CAL_BASE, CMD_BASE, Calib
from firmware.config import Config
from firmware.harmonics import Harmonics
from firmware.metering import Metering
from firmware.sampler import Sampler



class _Store:
    def load(self, name):
        return None

    def save(self, name, data):
        pass


def _i32(b, k):
    v = b[4 * k] | (b[4 * k + 1] << 8) | (b[4 * k + 2] << 16) | (b[4 * k + 3] << 24)
    return v - (1 << 32) if v >= 1 << 31 else v


def _be_f(x):
    a = array("f", [x])
    b = bytes(a)  # little-endian float32
    return bytes([b[3], b[2], b[1], b[0]])


def main():
    out = sys.stdout
    vals = array("f", [0.0] * regmap.N_MEAS)
    cfg = Config()
    s = Sampler()
    h = Harmonics(vals, s)
    m = Metering(vals, s, h.kap)
    cal = Calib(m, _Store(), cfg)
    conf = None
    us = 0
    samples = 0

    def on_samples(buf, k):
        nonlocal us, samples
        t0 = ticks_us()
        d = s.feed(buf, k)
        if d:
            if m.update():
                if cal.busy:
                    cal.window()
                t1 = ticks_us()
                us += ticks_diff(t1, t0)
                out.write("W " + "".join("%02x" % x for x in bytes(vals)) + "\n")
            else:
                us += ticks_diff(ticks_us(), t0)
        else:
            us += ticks_diff(ticks_us(), t0)
        h.feed(buf, k, d)
        samples += k
        if cal.pending:
            cal.service(conf[0], conf[1])
            m.configure(conf[0], conf[1], conf[2], conf[3], conf[4], None, conf[5])

    def on_message(typ, p):
        nonlocal conf, us, samples
        if typ == proto.ACC_CONFIGURE:
            conf = [_i32(p, k) for k in range(6)]
            cfg.set("SYSS", conf[2])
            s.reset()
            h.reset()
            m.configure(conf[0], conf[1], conf[2], conf[3], conf[4], None, conf[5])
            us = 0
            samples = 0
        elif typ == proto.ACC_CALIBRATE:  # reference values, then CAL_Pass + CAL_Cmd 1
            ref = b"".join(_be_f(_i32(p, k) / 1000.0) for k in range(3))
            cal.block_write(CAL_BASE, 6, ref, 0)
            pw = cfg.get("PASS")
            r = cal.cmd_write(CMD_BASE, 2, bytes([pw >> 8, pw & 0xFF, 0, 1]), 0)
            out.write("A %d\n" % r)
        elif typ == proto.ACC_IDENTITY:
            pw = cfg.get("PASS")
            cal.cmd_write(CMD_BASE, 2, bytes([pw >> 8, pw & 0xFF, 0, 2]), 0)
            cal.service(conf[0], conf[1])
            m.configure(conf[0], conf[1], conf[2], conf[3], conf[4], None, conf[5])
        elif typ == proto.ACC_END:
            out.write("E %d %d %d\n" % (us, samples, cal.rows[3]))
            if hasattr(out, "flush"):
                out.flush()

    proto.serve(sys.stdin.buffer, array("i", bytes(32 * BLOCK)), BLOCK, on_samples, on_message)


main()
