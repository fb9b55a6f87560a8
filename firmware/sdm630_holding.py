# SPDX-License-Identifier: MIT
# SDM630 holding registers: Eastron's FC03/FC16 parameter map (float32, high word first) laid over the meter's own
# settings, served instead of the native map while Prot = 1, so SDM630 tools that read the set-up work unchanged.
import micropython
from micropython import const

from firmware import regmap, sf32, sf32conv
from firmware.frontend import SAMPLE_RATE
from firmware.modbus.codes import ILLEGAL_DATA_VALUE

_LOW = const(0x0102)  # 0x0000..0x0101 held whole: Eastron's low parameters and Prot at 0x0100
_PAGE_DIV = const(0xF910)  # pulse 1 divisor (sdm_modbus p1_divisor): one 2-register page at image index _LOW
_PAGE_SER = const(0xFC00)  # serial number, uint32: image index _LOW + 2
SIZE = const(0x0106)  # registers in the image
_RO = const(1)
_RW = const(2)
# parameter codes, in table order
DEMAND_TIME = const(0)
DEMAND_PERIOD = const(1)
SYS_VOLT = const(2)
SYS_CURR = const(3)
SYS_TYPE = const(4)
PULSE_WIDTH = const(5)
KPPA = const(6)
PARITY = const(7)
NODE = const(8)
PASSWORD = const(9)
BAUD = const(10)
SYS_POWER = const(11)
PULSE_TYPE = const(12)
PROT = const(13)
PULSE_DIV = const(14)
N_PAR = const(15)  # float parameters; the serial number (uint32) is apart
# per parameter: image index (high, low byte) and 1 when writable
_TABLE = (b"\x00\x00\x01" b"\x00\x02\x02" b"\x00\x06\x01" b"\x00\x08\x01" b"\x00\x0a\x02" b"\x00\x0c\x02"
          b"\x00\x0e\x02" b"\x00\x12\x02" b"\x00\x14\x02" b"\x00\x18\x02" b"\x00\x1c\x02" b"\x00\x24\x01"
          b"\x00\x56\x02" b"\x01\x00\x02" b"\x01\x02\x02")
# Eastron's baud rate codes 0..5 (2400 4800 9600 19200 38400 1200), then 6 and 7 for the meter's 57600 and 115200
# (no Eastron code): the meter's `baud` setting (bit/s / 100) per code
_BAUDS = (24, 48, 96, 192, 384, 12, 576, 1152)
_PULSE_TOTAL = const(2)  # Eastron's pulse 1 energy type "total active": the meter pulses |P| both ways
_PULSE_DIV_1000 = const(1000)  # divisor code 0, 0.001 kWh/imp: the only code inside the meter's 400..9999 imp/kWh
_W = const(4)  # float slots: 0, 1 scratch; 3 sqrt(3)
_SQRT3 = const(3)


@micropython.viper
def _be_word(f: ptr32, d: int, src: ptr8, off: int):
    f[d] = (src[off] << 24) | (src[off + 1] << 16) | (src[off + 2] << 8) | src[off + 3]


class SdmHolding:
    """The FC03/FC06/FC16 bank of the SDM630 profile: image, kind, find, write (the Slave's bank interface).

    refresh() (allocation-free; Meter.modbus calls it before answering an FC03 in this profile) rebuilds the
    values from the settings and the meter's state. Writes convert Eastron's float codes into settings through
    Config (the same range checks as the panel and the native map); docs/modbus.md lists the rules."""

    def __init__(self, config, demand, pulse, protect, serial=0):
        from array import array

        self.config = config
        self.demand = demand
        self.pulse = pulse
        self.protect = protect
        self.serial = serial & 0xFFFFFFFF
        self.image = bytearray(2 * SIZE)
        self.kind = bytearray(SIZE)
        for r in range(SIZE):
            self.kind[r] = _RO  # every address in the map reads (0 when unused), as in the native map
        for p in range(N_PAR):
            i = (_TABLE[3 * p] << 8) | _TABLE[3 * p + 1]
            if _TABLE[3 * p + 2] == _RW:
                self.kind[i] = self.kind[i + 1] = _RW
        self.f = array("f", bytes(4 * _W))
        self.f[_SQRT3] = 1.7320508075688772
        self.kb = bytearray(2)  # a password for Protect.key_write (KPPA)
        ix = regmap.config_index
        self._i = bytearray((ix("DM_P"), ix("Un"), ix("In"), ix("Pt_U"), ix("Ct_I"), ix("SYSS"), ix("dATA"),
                             ix("Adr"), ix("PASS"), ix("baud"), ix("Prot"), ix("Pulse"), ix("Wp")))
        self.refresh()

    def find(self, start, q):
        if start + q <= _LOW:
            return start
        if _PAGE_DIV <= start and start + q <= _PAGE_DIV + 2:
            return _LOW + start - _PAGE_DIV
        if _PAGE_SER <= start and start + q <= _PAGE_SER + 2:
            return _LOW + 2 + start - _PAGE_SER
        return -1

    # --- values (allocation-free) -------------------------------------------------------------------------------
    def _cfg(self, j):
        return self.config.values[self._i[j]]

    def value(self, p):
        """Parameter p as an int (SYS_POWER: -1, it is a float; see refresh)."""
        if p == DEMAND_TIME:  # minutes into the first demand period; the demand is valid once it reaches DM_P
            d = self.demand
            t = d.full * d.sub_min + d.samples // (60 * SAMPLE_RATE)
            return t if t < self._cfg(0) else self._cfg(0)
        if p == DEMAND_PERIOD:
            return self._cfg(0)
        if p == SYS_VOLT:
            return self._cfg(1) * self._cfg(3)
        if p == SYS_CURR:
            return self._cfg(2) * self._cfg(4)
        if p == SYS_TYPE:  # 3 = 3P4W (3Ln3CT), 2 = 3P3W (both 2LL modes)
            return 3 if self._cfg(5) == 0 else 2
        if p == PULSE_WIDTH:
            return self.pulse.width * 1000 // SAMPLE_RATE
        if p == KPPA:  # 1 = key parameters may be written now (Wp = 0, or Key / KPPA written within 5 minutes)
            return 1 if self._cfg(12) == 0 or self.protect.left > 0 else 0
        if p == PARITY:
            return self._cfg(6)
        if p == NODE:
            return self._cfg(7)
        if p == PASSWORD:
            return 0 if self._cfg(12) else self._cfg(8)  # hidden while Wp = 1, as natively
        if p == BAUD:
            b = self._cfg(9)
            for k in range(8):
                if _BAUDS[k] == b:
                    return k
            return -1
        if p == PULSE_TYPE:
            return _PULSE_TOTAL
        if p == PROT:
            return self._cfg(10)
        if p == PULSE_DIV:
            return 0 if self._cfg(11) == _PULSE_DIV_1000 else -1  # -1: the constant is no power of ten (no Eastron code)
        return -1

    def refresh(self):
        f = self.f
        img = self.image
        for p in range(N_PAR):
            i = (_TABLE[3 * p] << 8) | _TABLE[3 * p + 1]
            if p == SYS_POWER:  # rated total power, primary: 3 Un In (3P4W) or sqrt(3) Un In (3P3W), x Pt Ct
                sf32conv.from_int(f, 0, self._cfg(1) * self._cfg(2) * (3 if self._cfg(5) == 0 else 1))
                if self._cfg(5):
                    sf32.fmul(f, 0, 0, _SQRT3)
                sf32conv.from_int(f, 1, self._cfg(3) * self._cfg(4))
                sf32.fmul(f, 0, 0, 1)
            else:
                sf32conv.from_int(f, 0, self.value(p))
            sf32conv.to_be(f, 0, img, 2 * i)
        s = self.serial
        o = 2 * (_LOW + 2)
        img[o] = (s >> 24) & 0xFF
        img[o + 1] = (s >> 16) & 0xFF
        img[o + 2] = (s >> 8) & 0xFF
        img[o + 3] = s & 0xFF

    # --- writes (allocation-free) -------------------------------------------------------------------------------
    def write(self, addr, count, src, off):
        """One parameter per request, as Eastron's meters take it (FC16 of 2 registers, a float32): 0 done,
        -ILLEGAL_DATA_VALUE refused (not a whole parameter, not an integer, a code the meter has no setting for, out
        of range, write protection)."""
        i = self.find(addr, count)
        p = -1
        for k in range(N_PAR):
            if ((_TABLE[3 * k] << 8) | _TABLE[3 * k + 1]) == i:
                p = k
        if p < 0 or count != 2:
            return -ILLEGAL_DATA_VALUE
        f = self.f
        _be_word(f, 0, src, off)
        v = sf32conv.to_int(f, 0)
        sf32conv.from_int(f, 1, v)
        if sf32conv.fcmp(f, 0, 1) != 0:
            return -ILLEGAL_DATA_VALUE  # not a whole number
        if p == KPPA:  # the password opens writes for 5 minutes (Key); anything else closes them
            if v < 0 or v > 0xFFFF:
                v = 0xFFFF
            self.kb[0] = v >> 8
            self.kb[1] = v & 0xFF
            return self.protect.key_write(addr, 1, self.kb, 0)
        if not self.protect.allowed(addr, count):
            return -ILLEGAL_DATA_VALUE
        r = self._apply(p, v)
        self.refresh()
        return r

    def _set(self, j, v):
        return 0 if self.config.set_index(self._i[j], v) else -ILLEGAL_DATA_VALUE

    def _apply(self, p, v):
        if p == DEMAND_PERIOD:  # Eastron's 0 (no demand) has no setting here: 03, as any period DM_S does not divide
            return self._set(0, v)
        if p == SYS_TYPE:
            if v == 3:
                return self._set(5, 0)
            if v == 2:
                return 0 if self._cfg(5) else self._set(5, 1)  # 3P3W: a 2LL mode stays, 3Ln3CT becomes 2LL3CT
            return -ILLEGAL_DATA_VALUE  # 1 = 1P2W: not a wiring of this meter
        if p == PARITY:
            # Eastron's 0..3 are the meter's 8N1 8E1 8O1 8N2
            return self._set(6, v) if 0 <= v <= 3 else -ILLEGAL_DATA_VALUE
        if p == NODE:
            return self._set(7, v)
        if p == PASSWORD:
            if v == 0 and self._cfg(12):
                return 0  # the 0 it read while Wp = 1, written back: the password stays (docs/modbus.md)
            return self._set(8, v) if 0 <= v <= 0xFFFF else -ILLEGAL_DATA_VALUE
        if p == BAUD:
            return self._set(9, _BAUDS[v]) if 0 <= v < 8 else -ILLEGAL_DATA_VALUE
        if p == PROT:
            return self._set(10, v)
        if p == PULSE_DIV:
            return self._set(11, _PULSE_DIV_1000) if v == 0 else -ILLEGAL_DATA_VALUE
        # fixed properties (pulse width, pulse energy type): their own value is accepted, anything else refused
        return 0 if v == self.value(p) else -ILLEGAL_DATA_VALUE
