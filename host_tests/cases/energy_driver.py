# SPDX-License-Identifier: MIT
# Driver for test_energy_exact.py (not a case module): a calibrated Meter fed recorded ADC blocks, returning the
# accumulators and each window's registered power, run the same way under CPython and the MicroPython unix port.
import struct
from array import array

import micropython

from firmware import kernel, limbs, regmap, workspace
from firmware.energy import NL
from firmware.meter import Meter


def calibrated_run(path, pre_s, cal_s, settle_s, run_s, ratio=100):
    """Driver for test_energy_exact.test_calibrated_energy_is_the_integral_of_p (CPython and the unix port): the
    ADC blocks in `path` (int32, 8 channels, the generator's imperfect_board) through a Meter calibrated over its
    registers (reference 220 V / 5 A / 30 deg), then Pt_U = Ct_I = ratio; over run_s seconds (feeds under
    heap_lock) every window's registered Pa Pb Pc P x its length against the accumulators. Returns a dict."""
    m = Meter(None)
    blk = array("i", bytes(4 * 8 * 400))
    f = open(path, "rb")
    fed = [0]

    def feed(seconds, locked=False):
        n = 0
        rows = []
        while n < int(seconds * 8000):
            f.readinto(blk)
            w0 = m.windows
            if locked:
                micropython.heap_lock()
            try:
                m.feed(blk, 400)
            finally:
                if locked:
                    micropython.heap_unlock()
            if not locked:
                m.service()
            if m.windows != w0 and locked:
                dn = m.sampler.done
                lq = (dn[kernel.D_N] << 15) - dn[kernel.D_FS] + dn[kernel.D_FE]
                rows.append([m.vals[regmap.slot(x)] for x in ("Pa", "Pb", "Pc", "P")] + [lq])
            n += 400
        fed[0] += n
        return rows

    feed(pre_s)
    ref = b"".join(struct.pack(">f", v) for v in (220.0, 5.0, 30.0))
    assert m.regs.write(0x0A00, 6, ref, 0) == 0
    assert m.regs.write(0x0034, 2, struct.pack(">HH", 6666, 1), 0) == 0
    feed(cal_s)
    state = struct.unpack(">f", bytes(m.regs.image[2 * 0x0A06:2 * 0x0A06 + 4]))[0]
    assert state == 2.0, state
    lags = [m.metering.lag[k] for k in range(7)]
    m.set("Pt_U", ratio)
    m.set("Ct_I", ratio)
    m.service()
    feed(settle_s)
    e = m.ledger.energy
    names = ("EPa_imp", "EPb_imp", "EPc_imp", "EP_imp")
    qs = (4 + 0, 4 + 4, 4 + 8, 0)  # accumulators of those registers
    a0 = [limbs.to_int(e.acc, q * NL, NL) for q in qs]
    r0 = [e.wh(x) for x in names]
    ex0 = [limbs.to_int(e.acc, q * NL, NL) for q in (1, 5, 9, 13)]
    rows = feed(run_s, True)
    f.close()
    a1 = [limbs.to_int(e.acc, q * NL, NL) for q in qs]
    ex1 = [limbs.to_int(e.acc, q * NL, NL) for q in (1, 5, 9, 13)]
    pt = [0.0] * 4  # sum of P x window length, Wh
    secs = 0
    for r in rows:
        secs += r[4]
        for k in range(4):
            pt[k] += r[k] * r[4] / 32768 / 8000 / 3600
    return {"lags": lags, "windows": len(rows), "seconds": secs / 32768 / 8000, "pt": pt,
            "acc": [a1[k] - a0[k] for k in range(4)], "reg": [e.wh(names[k]) - r0[k] for k in range(4)],
            "export": [ex1[k] - ex0[k] for k in range(4)], "acc_hex": ["%x" % v for v in a1],
            "q1": [m.metering.w[workspace.EQ1 + k] for k in range(3)]}
