# SPDX-License-Identifier: MIT
# SDM630 profile: an input-register bank (FC04) laid out like the Eastron SDM630, float32 high word first, so
# readers written for that meter (evcc, Tasmota, OpenEMS, Home Assistant) read this one unchanged.
import micropython
from array import array

from micropython import const

from firmware import regmap, sf32, sf32conv
from firmware.modbus.codes import ILLEGAL_DATA_ADDRESS
from firmware.words import SIGN_BIT

SIZE = const(0x0200)  # registers 0x0000..0x01FF; every one is readable, unused ones read 0
_KIND_RO = const(1)
_NSCR = const(10)  # scratch float slots
_THIRD = const(7)  # scratch slots holding 1/3, 1/2 and 1: an average divides by the phases that were measured
_HALF = const(8)
_ONE = const(9)
_ZERO = const(6)  # stays 0
_NONE = const(0)
_SRC_VAL = const(1)  # a measurement slot of vals
_SRC_F32 = const(2)  # a float32 in the native image (demand, max/min blocks)
_SRC_U64 = const(3)  # a uint64 counter in the native image (energy), times a factor

# (SDM630 address, unit, what it is, source). A source is a native register-map name, ("sum", a, b, c) or
# ("avg", a, b, c) of names, ("neg", a) (sign inverted), or None (not measured here: reads 0). Units are the
# SDM630's. Eastron's addresses this meter cannot fill are listed in docs/modbus.md.
ROWS = (
    (0x0000, "V", "Phase 1 line to neutral volts", "Ua"),
    (0x0002, "V", "Phase 2 line to neutral volts", "Ub"),
    (0x0004, "V", "Phase 3 line to neutral volts", "Uc"),
    (0x0006, "A", "Phase 1 current", "Ia"),
    (0x0008, "A", "Phase 2 current", "Ib"),
    (0x000A, "A", "Phase 3 current", "Ic"),
    (0x000C, "W", "Phase 1 power", "Pa"),
    (0x000E, "W", "Phase 2 power", "Pb"),
    (0x0010, "W", "Phase 3 power", "Pc"),
    (0x0012, "VA", "Phase 1 volt amps", "Sa"),
    (0x0014, "VA", "Phase 2 volt amps", "Sb"),
    (0x0016, "VA", "Phase 3 volt amps", "Sc"),
    (0x0018, "VAr", "Phase 1 volt amps reactive", "Qa"),
    (0x001A, "VAr", "Phase 2 volt amps reactive", "Qb"),
    (0x001C, "VAr", "Phase 3 volt amps reactive", "Qc"),
    (0x001E, "", "Phase 1 power factor (sign: direction of the current)", "PFa"),
    (0x0020, "", "Phase 2 power factor", "PFb"),
    (0x0022, "", "Phase 3 power factor", "PFc"),
    (0x0024, "deg", "Phase 1 phase angle", "Phi_a"),
    (0x0026, "deg", "Phase 2 phase angle", "Phi_b"),
    (0x0028, "deg", "Phase 3 phase angle", "Phi_c"),
    (0x002A, "V", "Average line to neutral volts", "U_avg"),
    (0x002E, "A", "Average line current", "I_avg"),
    (0x0030, "A", "Sum of line currents", ("sum", "Ia", "Ib", "Ic")),
    (0x0034, "W", "Total system power", "P"),
    (0x0038, "VA", "Total system volt amps", "S"),
    (0x003C, "VAr", "Total system VAr", "Q"),
    (0x003E, "", "Total system power factor", "PF"),
    (0x0042, "deg", "Total system phase angle", "Phi"),
    (0x0046, "Hz", "Frequency of supply voltages", "F"),
    (0x0048, "kWh", "Import active energy", "EP_imp"),
    (0x004A, "kWh", "Export active energy", "EP_exp"),
    (0x004C, "kVArh", "Import reactive energy", "EQ_imp"),
    (0x004E, "kVArh", "Export reactive energy", "EQ_exp"),
    (0x0050, "kVAh", "Total apparent energy (VAh since last reset)", "ES"),
    (0x0052, "Ah", "Total ampere-hours (Ah since last reset): Ia + Ib + Ic integrated", "AH"),
    (0x0054, "W", "Total system power demand", "Dmd_P"),
    (0x0056, "W", "Maximum total system power demand", "MaxDmd_P"),
    (0x0058, "W", "Total system import power demand", "Dmd_P_imp"),
    (0x005A, "W", "Maximum total system import power demand", "MaxDmd_P_imp"),
    (0x005C, "W", "Total system export power demand", "Dmd_P_exp"),
    (0x005E, "W", "Maximum total system export power demand", "MaxDmd_P_exp"),
    (0x0064, "VA", "Total system VA demand", "Dmd_S"),
    (0x0066, "VA", "Maximum total system VA demand", "MaxDmd_S"),
    (0x0068, "A", "Neutral current demand", "Dmd_I_N"),
    (0x006A, "A", "Maximum neutral current demand", "MaxDmd_I_N"),
    (0x00C8, "V", "Line 1 to line 2 volts", "Uab"),
    (0x00CA, "V", "Line 2 to line 3 volts", "Ubc"),
    (0x00CC, "V", "Line 3 to line 1 volts", "Uca"),
    (0x00CE, "V", "Average line to line volts", "UL_avg"),
    (0x00E0, "A", "Neutral current", "I_N"),
    (0x00EA, "%", "Phase 1 L/N volts THD", "THD_Ua"),
    (0x00EC, "%", "Phase 2 L/N volts THD", "THD_Ub"),
    (0x00EE, "%", "Phase 3 L/N volts THD", "THD_Uc"),
    (0x00F0, "%", "Phase 1 current THD", "THD_Ia"),
    (0x00F2, "%", "Phase 2 current THD", "THD_Ib"),
    (0x00F4, "%", "Phase 3 current THD", "THD_Ic"),
    (0x00F8, "%", "Average line to neutral volts THD", ("avg", "THD_Ua", "THD_Ub", "THD_Uc")),
    (0x00FA, "%", "Average line current THD", ("avg", "THD_Ia", "THD_Ib", "THD_Ic")),
    (0x00FE, "", "Total system power factor, sign inverted", ("neg", "PF")),
    (0x0102, "A", "Phase 1 current demand", "Dmd_Ia"),
    (0x0104, "A", "Phase 2 current demand", "Dmd_Ib"),
    (0x0106, "A", "Phase 3 current demand", "Dmd_Ic"),
    (0x0108, "A", "Maximum phase 1 current demand", "MaxDmd_Ia"),
    (0x010A, "A", "Maximum phase 2 current demand", "MaxDmd_Ib"),
    (0x010C, "A", "Maximum phase 3 current demand", "MaxDmd_Ic"),
    (0x014E, "%", "Line 1 to line 2 volts THD", "THD_Uab"),
    (0x0150, "%", "Line 2 to line 3 volts THD", "THD_Ubc"),
    (0x0152, "%", "Line 3 to line 1 volts THD", "THD_Uca"),
    (0x0154, "%", "Average line to line volts THD", ("avg", "THD_Uab", "THD_Ubc", "THD_Uca")),
    (0x0156, "kWh", "Total active energy (import + export)", "EP_total"),
    (0x0158, "kVArh", "Total reactive energy (import + export)", "EQ_total"),
    (0x015A, "kWh", "L1 import active energy", "EPa_imp"),
    (0x015C, "kWh", "L2 import active energy", "EPb_imp"),
    (0x015E, "kWh", "L3 import active energy", "EPc_imp"),
    (0x0160, "kWh", "L1 export active energy", "EPa_exp"),
    (0x0162, "kWh", "L2 export active energy", "EPb_exp"),
    (0x0164, "kWh", "L3 export active energy", "EPc_exp"),
    (0x0166, "kWh", "L1 total active energy", ("sum", "EPa_imp", "EPa_exp")),
    (0x0168, "kWh", "L2 total active energy", ("sum", "EPb_imp", "EPb_exp")),
    (0x016A, "kWh", "L3 total active energy", ("sum", "EPc_imp", "EPc_exp")),
    (0x016C, "kVArh", "L1 import reactive energy", "EQa_imp"),
    (0x016E, "kVArh", "L2 import reactive energy", "EQb_imp"),
    (0x0170, "kVArh", "L3 import reactive energy", "EQc_imp"),
    (0x0172, "kVArh", "L1 export reactive energy", "EQa_exp"),
    (0x0174, "kVArh", "L2 export reactive energy", "EQb_exp"),
    (0x0176, "kVArh", "L3 export reactive energy", "EQc_exp"),
    (0x0178, "kVArh", "L1 total reactive energy", ("sum", "EQa_imp", "EQa_exp")),
    (0x017A, "kVArh", "L2 total reactive energy", ("sum", "EQb_imp", "EQb_exp")),
    (0x017C, "kVArh", "L3 total reactive energy", ("sum", "EQc_imp", "EQc_exp")),
)


def _native(name, found):
    """(kind, index or native address, factor) of a register-map name; (_NONE, 0, 0) when it is not there.
    found: regmap.locate() of the names that are not measurements."""
    for k in range(len(regmap.MEASUREMENTS)):
        if regmap.MEASUREMENTS[k][regmap.M_NAME] == name:
            return _SRC_VAL, k, 1.0
    r = found.get(name)
    if r is not None:
        typ, addr, scale, unit = r
        if typ == "float32":
            return _SRC_F32, addr, 1.0
        if typ in ("uint64", "uint32"):
            f = scale * (0.001 if unit in ("Wh", "varh", "VArh") else 1.0)  # SDM630 counts kWh / kVArh
            return _SRC_U64 if typ == "uint64" else _NONE, addr, f
    return _NONE, 0, 0.0


@micropython.viper
def _nonzero(w: ptr32, n: int) -> int:
    """How many of the float32s w[0..n-1] are not +-0 (a quantity that was not measured reads exactly 0)."""
    h = int(SIGN_BIT)
    k = 0
    j = 0
    while j < n:
        x = w[j]
        if x ^ (x & h):
            k += 1
        j += 1
    return k


@micropython.viper
def _load(w: ptr32, d: int, vals: ptr32, k: int):
    w[d] = vals[k]


@micropython.viper
def _load_be(w: ptr32, d: int, img: ptr8, off: int, nwords: int):
    # big-endian words from the native image: a float32 (1 word) or a uint64 as (low, high) words (2)
    if nwords == 1:
        w[d] = (img[off] << 24) | (img[off + 1] << 16) | (img[off + 2] << 8) | img[off + 3]
    else:
        w[d + 1] = (img[off] << 24) | (img[off + 1] << 16) | (img[off + 2] << 8) | img[off + 3]
        w[d] = (img[off + 4] << 24) | (img[off + 5] << 16) | (img[off + 6] << 8) | img[off + 7]


@micropython.viper
def _copies(img: ptr8, dst: ptr16, op: ptr8, nt: ptr8, tk: ptr8, ti: ptr16, vals: ptr32, nat: ptr8, n: int):
    # the outputs that are one measurement or one native float32, in one call (most of the profile): the
    # float's bits, high byte first. Sums, averages and counters are left to refresh()'s slow path.
    i = 0
    while i < n:
        if op[i] == 0 and nt[i] == 1:
            k = tk[3 * i]
            d = dst[i]
            if k == _SRC_VAL:
                v = vals[ti[3 * i]]
                img[d] = (v >> 24) & 0xFF
                img[d + 1] = (v >> 16) & 0xFF
                img[d + 2] = (v >> 8) & 0xFF
                img[d + 3] = v & 0xFF
            elif k == _SRC_F32:
                a = ti[3 * i]
                img[d] = nat[a]
                img[d + 1] = nat[a + 1]
                img[d + 2] = nat[a + 2]
                img[d + 3] = nat[a + 3]
        i += 1


class Sdm630:
    """The FC04 bank: image (big-endian, 2 bytes per register), kind (1 per register: all readable), write.

    refresh() (allocation-free; Meter.modbus calls it on an FC04 request, at most once a second) rebuilds the
    values from vals and from the native register image `native` (energy, demand: their owners keep it current).
    """

    def __init__(self, vals, native=None):
        self.vals = vals
        self.native = native
        self.image = bytearray(2 * SIZE)
        self.kind = bytearray(SIZE)
        for r in range(SIZE):
            self.kind[r] = _KIND_RO
        # program: per output up to 3 terms; each term (kind, index/address); op 0 copy, 1 sum, 2 average, 3 negate.
        # Its arrays are allocated first, for every row, and filled after: the name look-ups below make garbage,
        # and what stays should not end up above it (a hole in the heap once it is collected).
        m = len(ROWS)
        self.n = 0
        self.dst = array("H", bytes(2 * m))
        self.op = bytearray(m)
        self.nt = bytearray(m)
        self.tk = bytearray(3 * m)  # term kind
        self.ti = array("H", bytes(6 * m))  # term index (vals slot) or native byte offset
        self.tf = array("f", bytes(12 * m))  # term factor (uint64 counters)
        self.w = array("f", bytes(4 * _NSCR))  # scratch: 0..5 terms and sums, 7: 1/3
        self.w[_THIRD] = 1.0 / 3.0
        self.w[_HALF] = 0.5
        self.w[_ONE] = 1.0
        self.acc = array("i", bytes(8))
        wanted = set()
        for addr, unit, desc, src in ROWS:
            for nm in () if src is None else (src[1:] if isinstance(src, tuple) else (src,)):
                wanted.add(nm)
        found = regmap.locate(wanted)
        n = 0
        for addr, unit, desc, src in ROWS:
            if src is None:
                continue
            op = 0
            names = (src,)
            if isinstance(src, tuple):
                op = 1 if src[0] == "sum" else (2 if src[0] == "avg" else 3)
                names = src[1:]
            j = 0
            for nm in names:
                kind, idx, fac = _native(nm, found)
                if kind != _NONE:
                    self.tk[3 * n + j] = kind
                    self.ti[3 * n + j] = idx if kind == _SRC_VAL else 2 * idx
                    self.tf[3 * n + j] = fac
                    j += 1
            if j == 0 or (op == 2 and j != len(names)):
                continue  # not measured yet (its owner has not added it to the map): reads 0
            self.dst[n] = 2 * addr
            self.op[n] = op
            self.nt[n] = j
            n += 1
        self.n = n
        # the outputs refresh() computes in Python: sums, averages, counters (the rest is one _copies call)
        self.slow = bytearray(i for i in range(n)
                              if not (self.op[i] == 0 and self.nt[i] == 1 and self.tk[3 * i] != _SRC_U64))
        self.refresh()

    def refresh(self):
        img = self.image
        vals = self.vals
        nat = self.native.image if self.native is not None else None
        w = self.w
        acc = self.acc
        tk = self.tk
        ti = self.ti
        tf = self.tf
        slow = self.slow
        m = self.n  # no native image (tests of the profile alone): every output the slow way
        if nat is not None:
            _copies(img, self.dst, self.op, self.nt, tk, ti, vals, nat, self.n)
            m = len(slow)
        for q in range(m):  # an index loop: iterating the bytearray itself would allocate an iterator
            i = q if nat is None else slow[q]
            nt = self.nt[i]
            for j in range(nt):
                t = 3 * i + j
                kind = tk[t]
                if kind == _SRC_VAL:
                    _load(w, j, vals, ti[t])
                elif nat is None:
                    _load(w, j, w, 6)  # no native image: the term reads 0 (slot 6 stays 0)
                elif kind == _SRC_F32:
                    _load_be(w, j, nat, ti[t], 1)
                else:
                    _load_be(acc, 0, nat, ti[t], 2)
                    sf32conv.from_i64(w, j, acc, 0)
                    _load(w, 3, tf, t)
                    sf32.fmul(w, j, j, 3)
            k = _nonzero(w, nt) if self.op[i] == 2 else 0
            for j in range(1, nt):
                sf32.fadd(w, 0, 0, j)
            if self.op[i] == 2:
                # the mean of the phases that were measured: a lost phase's THD reads 0 (not measured), and
                # averaging it in would report less distortion than any phase has (docs/modbus.md)
                sf32.fmul(w, 0, 0, _THIRD if k == 3 else _HALF if k == 2 else _ONE if k == 1 else _ZERO)
            elif self.op[i] == 3:
                sf32.fneg(w, 0, 0)
            sf32conv.to_be(w, 0, img, self.dst[i])

    def find(self, start, q):
        return start if start + q <= SIZE else -1

    def write(self, addr, count, src, off):
        return -ILLEGAL_DATA_ADDRESS  # input registers are read-only (FC04 has no write; kept for the bank interface)

    def live(self):
        """SDM630 addresses that carry a value (for docs and tests; allocates)."""
        return [self.dst[i] >> 1 for i in range(self.n)]
