# SPDX-License-Identifier: MIT
# The firmware side of tools/accuracy_disturb.py: the whole meter (firmware/meter.py: sampler, metering,
# harmonics, energy, register image) under micropython (or python3) from the repo root, fed the samples it gets on
# stdin; one line per metering window with the register image as a Modbus master reads it.
# stdin messages (boards/sim/proto.py: kind byte + uint32 LE length + payload):
#   C name=value,...           -> a new meter (RAM store) with these settings applied as at the panel
#   S samples (8 x n int32 LE) -> feed in 400-sample blocks; each completed window prints
#                                 "W <windows> <end> <energy ...> <register image, hex>"
#                                 end: the window's end in Q15 samples from the first sample fed (the sampler's
#                                 windows tile the stream: the sum of every closed window's length), energy: the
#                                 exact accumulators EP_imp EP_exp EPa_imp EPa_exp EPb_imp EPb_exp EPc_imp EPc_exp
#                                 (units of 2**-40 Wh, primary)
#   E                          -> "E <us spent in feed> <samples>"
import sys

sys.path.insert(0, ".")
from tools.upy_host import ticks_diff, ticks_us  # first: it puts `micropython` on sys.path
from array import array
from binascii import hexlify

from boards.sim import proto
from boards.sim.board import BLOCK  # the sim's S message, as tools/accuracy.py sends them
from firmware import kernel, limbs
from firmware.energy import EP_EXP, EP_IMP, NL, PH
from firmware.meter import Meter

ACCS = (EP_IMP, EP_EXP, PH, PH + 1, PH + 4, PH + 5, PH + 8, PH + 9)


class Run:
    def __init__(self, settings):
        self.m = Meter(None)
        for item in settings.split(","):
            if item:
                name, value = item.split("=")
                if not self.m.set(name, int(value)):
                    raise ValueError("setting %s=%s refused" % (name, value))
        self.end = 0  # Q15 samples: every closed window's length so far
        self.last = 0  # ... up to the window the meter processed last
        self.m.sampler.on_window = self._closed
        self.us = 0
        self.samples = 0

    def _closed(self, sampler):
        dn = sampler.done
        self.end += (dn[kernel.D_N] << 15) - dn[kernel.D_FS] + dn[kernel.D_FE]
        self.last = self.end

    def feed(self, buf, k, out):
        m = self.m
        w0 = m.windows
        t0 = ticks_us()
        m.feed(buf, k)
        m.service()
        self.us += ticks_diff(ticks_us(), t0)
        self.samples += k
        if m.windows != w0:
            e = m.ledger.energy.acc
            acc = " ".join(str(limbs.to_int(e, q * NL, NL)) for q in ACCS)
            out.write("W %d %d %s %s\n" % (m.windows, self.last, acc, hexlify(m.regs.image).decode()))


def main():
    out = sys.stdout
    run = None

    def on_message(typ, p):
        nonlocal run
        if typ == proto.ACC_CONFIGURE:
            run = None
            run = Run(p.decode())
        elif typ == proto.ACC_END:
            out.write("E %d %d\n" % (run.us, run.samples))
            if hasattr(out, "flush"):
                out.flush()

    proto.serve(sys.stdin.buffer, array("i", bytes(32 * BLOCK)), BLOCK, lambda buf, k: run.feed(buf, k, out),
                on_message)


main()
