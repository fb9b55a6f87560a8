# SPDX-License-Identifier: MIT
# Over-limit alarm rules (manual 3.4): 8 rules on measurement slots, evaluated once per metering window
# (allocation-free viper on the float32 bits), their settings (Modbus blocks, panel rows, store record), status.
from array import array

import micropython
from micropython import const

from firmware import regmap
from firmware.bufs import copy8
from firmware.frontend import SAMPLE_RATE
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from firmware.sf32conv import copy_be
from firmware.words import SIGN_BIT

N_RULES = const(8)
FIELDS = const(5)  # uint16 rows per rule in block "alarms": Q, M, On, Off, R
OFF = const(0)
OVER = const(1)
UNDER = const(2)
INACTIVE = const(0)
PENDING = const(1)
ACTIVE = const(2)
CLEARING = const(3)
STATES = const(("inactive", "pending", "active", "clearing"))
MODES = const(("off", "over", "under"))
RELAYS = const(("none", "DO1", "DO2", "both"))
DELAY_MAX = const(9999)  # seconds
_SETTLE = const(5)  # windows skipped after power-up: the first ones are partial (an under rule would fire on 0)
_REC = "alarms"
_RECSZ = const(16)  # per rule: slot, mode, relays, 0, on (u16 LE), off (u16 LE), threshold, hysteresis (f32 LE)
_EXP = const(0x7F80)  # float32 exponent bits in the high half-word: all set = inf or NaN


@micropython.viper
def _key(x: int, h: int) -> int:
    # float32 bits -> an int that orders like the float (sign and magnitude, below 2**31 either way)
    s = x & h
    v = x ^ s
    return (0 - v) if s else v


@micropython.viper
def _step(vals: ptr32, sl: ptr8, md: ptr8, tk: ptr32, rk: ptr32, on: ptr32, off: ptr32, st: ptr8, tm: ptr32,
          cnt: ptr32, n: int, dt: int) -> int:
    """One window for n rules: vals the measurement slots, tk/rk threshold/return level (float32 bits), on/off
    delays and tm timers in samples, dt the window's samples. Returns bit k: rule k's activeness changed; bit
    8 + k: its state changed."""
    h = int(SIGN_BIT)
    ch = 0
    k = 0
    while k < n:
        m = md[k]
        s = st[k]
        s0 = s
        was = 0
        if s >= 2:
            was = 1
        if m == 0:
            s = 0
        else:
            x = vals[sl[k]]
            sg = x & h
            v = x ^ sg
            if sg:
                v = 0 - v
            y = tk[k]
            sg = y & h
            t = y ^ sg
            if sg:
                t = 0 - t
            y = rk[k]
            sg = y & h
            r = y ^ sg
            if sg:
                r = 0 - r
            hit = 0
            back = 0
            if m == 1:
                if v > t:
                    hit = 1
                if v < r:
                    back = 1
            else:
                if v < t:
                    hit = 1
                if v > r:
                    back = 1
            if s == 0:
                if hit:
                    s = 1
                    tm[k] = 0
            elif s == 1:
                if hit == 0:
                    s = 0
                else:
                    tm[k] += dt
            elif s == 2:
                if back:
                    s = 3
                    tm[k] = 0
            elif back == 0:
                s = 2
            else:
                tm[k] += dt
            if s == 1 and tm[k] >= on[k]:
                s = 2
                cnt[k] += 1
            if s == 3 and tm[k] >= off[k]:
                s = 0
        st[k] = s
        now = 0
        if s >= 2:
            now = 1
        if was != now:
            ch |= 1 << k
        if s != s0:
            ch |= 256 << k
        k += 1
    return ch


@micropython.viper
def _put_be(dst: ptr32, i: int, src: ptr8, off: int):
    dst[i] = (src[off] << 24) | (src[off + 1] << 16) | (src[off + 2] << 8) | src[off + 3]


_PANEL = const(("AL_Q", "AL_M", "AL_on", "AL_oF", "AL_r"))  # panel rows of the fields, in FIELDS order


def panel_scale(q):
    """The panel edits thresholds as whole numbers of this (primary units): PF in thousandths, Hz and mA in
    hundredths, % in tenths, everything else (V, A, W, var, VA, degC, deg) in whole units."""
    u = regmap.MEASUREMENTS[q][regmap.M_UNIT]
    if u == "":
        return 0.001
    if u == "Hz" or u == "mA":
        return 0.01
    return 0.1 if u == "%" else 1


def measured(syss, q):
    """Is measurement slot q measured in wiring syss (0 3Ln3CT: all; 2LL: regmap.MEAS_3W)?"""
    return 0 <= q < regmap.N_MEAS and (syss == 0 or regmap.MEAS_3W[q] == 49)  # "1"


class Alarms:
    """Rules k = 0..7; window(dt) after each metered window (allocation-free); cfg_write / lim_write the Modbus
    writes (allocation-free, all-or-nothing, exception 03 on a bad value); service() applies and saves."""

    def __init__(self, vals, io, store=None, image=None):
        self.vals = vals
        self.io = io
        self.store = store
        self.image = image
        n = N_RULES
        self.sl = bytearray(n)  # measurement slot
        self.md = bytearray(n)  # OFF / OVER / UNDER
        self.rl = bytearray(n)  # relay mask: bit 0 DO1, bit 1 DO2
        self.on_s = array("H", bytes(2 * n))  # delays, seconds
        self.off_s = array("H", bytes(2 * n))
        self.thr = array("f", bytes(4 * n))  # threshold, primary units
        self.hys = array("f", bytes(4 * n))  # return hysteresis, primary units, >= 0
        self.ret = array("f", bytes(4 * n))  # return level: thr - hys (over) or thr + hys (under)
        self.on_n = array("i", bytes(4 * n))  # delays in samples
        self.off_n = array("i", bytes(4 * n))
        self.st = bytearray(n)  # INACTIVE PENDING ACTIVE CLEARING
        self.tm = array("i", bytes(4 * n))
        self.cnt = array("i", bytes(4 * n))  # activations since power-up
        self.active = 0  # bit k: rule k active or clearing
        self.changed = 0  # bits of the last window's changes
        self.pend = 0  # changes the event log has not taken yet (it clears the bits), values in ev_val
        self.ev_val = array("f", bytes(4 * n))
        self.touched = 0  # bits: rules whose settings changed (the event log clears them)
        self.syss = 0
        self.sel = 0  # the panel's rule (AL_n - 1)
        self.windows = 0
        self.dirty = False  # settings changed: apply and save in service()
        self._cfg = regmap.block("alarms")[0]
        self._lim = regmap.block("alarm_lim")[0]
        self._st = 2 * regmap.block("alarm_st")[0]
        self._n = 2 * regmap.block("alarm_n")[0]
        self.load()
        self.apply()

    # --- per window (allocation-free) ---------------------------------------------------------------------------
    def window(self, dt):
        """Evaluate every rule on the window just metered (dt samples long); drive the alarm-mode relays."""
        self.windows += 1
        if self.windows <= _SETTLE:
            return 0
        c = _step(self.vals, self.sl, self.md, self.thr, self.ret, self.on_n, self.off_n, self.st, self.tm,
                  self.cnt, N_RULES, dt)
        if c == 0:
            return 0  # nothing moved: the registers stand
        self.publish()
        c &= 0xFF
        self.changed = c
        if c:
            self.pend |= c
            a = 0
            for k in range(N_RULES):
                if self.st[k] >= ACTIVE:
                    a |= 1 << k
                if (c >> k) & 1:  # the value that made the change, for the event log (its bits: no float made)
                    copy8(self.ev_val, 4 * k, self.vals, 4 * self.sl[k], 4)
            self.active = a
            self.drive()
        return c

    def drive(self):
        """Alarm-mode relays: closed while a rule bound to them is active (or clearing); the LCD alarm mark."""
        io = self.io
        for i in range(len(io.coils)):
            want = 0
            for k in range(N_RULES):
                if (self.active >> k) & 1 and (self.rl[k] >> i) & 1:
                    want = 1
            io.alarm_drive(i, want)
        io.alarm = 1 if self.active else 0

    def publish(self):
        img = self.image
        if img is None:
            return
        a = self._st
        b = self._n
        for k in range(N_RULES):
            img[a + 2 * k] = 0
            img[a + 2 * k + 1] = self.st[k]
            c = self.cnt[k]
            img[b + 4 * k] = (c >> 24) & 0xFF
            img[b + 4 * k + 1] = (c >> 16) & 0xFF
            img[b + 4 * k + 2] = (c >> 8) & 0xFF
            img[b + 4 * k + 3] = c & 0xFF

    # --- Modbus writes (allocation-free) -----------------------------------------------------------------------
    def field_ok(self, f, v):
        """Field f (0 Q, 1 M, 2 On, 3 Off, 4 R) may take v; Q must be measured in the present wiring."""
        if f == 0:
            return measured(self.syss, v)
        if f == 1:
            return v <= UNDER
        if f == 4:
            return v <= 3
        return v <= DELAY_MAX

    def cfg_write(self, addr, count, src, off):
        k0 = addr - self._cfg
        for i in range(count):
            if not self.field_ok((k0 + i) % FIELDS, (src[off + 2 * i] << 8) | src[off + 2 * i + 1]):
                return -ILLEGAL_DATA_VALUE
        for i in range(count):
            self.set_field(k0 + i, (src[off + 2 * i] << 8) | src[off + 2 * i + 1])
        return 0

    def set_field(self, j, v):
        k = j // FIELDS
        f = j % FIELDS
        if f == 0:
            self.sl[k] = v
        elif f == 1:
            self.md[k] = v
        elif f == 2:
            self.on_s[k] = v
        elif f == 3:
            self.off_s[k] = v
        else:
            self.rl[k] = v
        self.dirty = True
        self.touched |= 1 << k
        if self.image is not None:
            self.image[2 * (self._cfg + j)] = v >> 8
            self.image[2 * (self._cfg + j) + 1] = v & 0xFF

    def lim_write(self, addr, count, src, off):
        # float32 pairs: threshold (any finite value), hysteresis (finite, >= 0); whole floats only
        k0 = addr - self._lim
        if (k0 | count) & 1:
            return -ILLEGAL_DATA_VALUE
        for i in range(0, count, 2):
            hi = (src[off + 2 * i] << 8) | src[off + 2 * i + 1]
            if hi & _EXP == _EXP or (((k0 + i) >> 1) & 1 and hi & 0x8000):
                return -ILLEGAL_DATA_VALUE
        for i in range(0, count, 2):
            j = (k0 + i) >> 1
            _put_be(self.hys if j & 1 else self.thr, j >> 1, src, off + 2 * i)
            for b in range(4):
                self.image[2 * (self._lim + k0 + i) + b] = src[off + 2 * i + b]
            self.touched |= 1 << (j >> 1)
        self.dirty = True
        return 0

    # --- settings: apply, wiring, persistence (allocate: outside the hot paths) ------------------------------
    def apply(self):
        """Return levels and delays in samples from the settings; the setting registers' image."""
        for k in range(N_RULES):
            h = self.hys[k]
            self.ret[k] = self.thr[k] - h if self.md[k] == OVER else self.thr[k] + h
            self.on_n[k] = self.on_s[k] * SAMPLE_RATE
            self.off_n[k] = self.off_s[k] * SAMPLE_RATE
            if self.md[k] == OFF:
                self.st[k] = INACTIVE
        img = self.image
        if img is not None:
            for j in range(N_RULES * FIELDS):
                v = self.get_field(j)
                img[2 * (self._cfg + j)] = v >> 8
                img[2 * (self._cfg + j) + 1] = v & 0xFF
            for k in range(N_RULES):
                copy_be(self.thr, k, 1, img, 2 * self._lim + 8 * k)
                copy_be(self.hys, k, 1, img, 2 * self._lim + 8 * k + 4)
        a = 0
        for k in range(N_RULES):
            if self.st[k] >= ACTIVE:
                a |= 1 << k
        self.active = a
        self.drive()
        self.publish()

    def get_field(self, j):
        k = j // FIELDS
        f = j % FIELDS
        return (self.sl, self.md, self.on_s, self.off_s, self.rl)[f][k]

    def wiring(self, syss):
        """A wiring change turns off the rules whose quantity the new wiring does not measure."""
        self.syss = syss
        for k in range(N_RULES):
            if self.md[k] != OFF and not measured(syss, self.sl[k]):
                self.md[k] = OFF
                self.dirty = True

    def service(self):
        if self.dirty:
            self.dirty = False
            self.apply()
            self.save()

    def to_bytes(self):
        import struct

        b = bytearray()
        for k in range(N_RULES):
            b += struct.pack("<BBBBHHff", self.sl[k], self.md[k], self.rl[k], 0, self.on_s[k], self.off_s[k],
                             self.thr[k], self.hys[k])
        return b

    def save(self):
        if self.store is not None:
            self.store.save(_REC, self.to_bytes())

    def load(self):
        import struct

        b = self.store.load(_REC) if self.store is not None else None
        if b is None or len(b) != _RECSZ * N_RULES:
            return False
        for k in range(N_RULES):
            sl, md, rl, _, on, off, t, h = struct.unpack_from("<BBBBHHff", b, _RECSZ * k)
            if sl >= regmap.N_MEAS or md > UNDER or rl > 3 or on > DELAY_MAX or off > DELAY_MAX or h < 0:
                return False
            self.sl[k], self.md[k], self.rl[k], self.on_s[k], self.off_s[k] = sl, md, rl, on, off
            self.thr[k], self.hys[k] = t, h
        return True

    # --- the panel's rows (firmware/ui/pages.py PANEL_ROWS): AL_n picks the rule the others show and set ------
    def panel_get(self, name):
        k = self.sel
        if name == "AL_n":
            return k + 1
        if name == "AL_t" or name == "AL_h":
            v = self.thr[k] if name == "AL_t" else self.hys[k]
            return max(0, int(v / panel_scale(self.sl[k]) + 0.5))
        return self.get_field(FIELDS * k + _PANEL.index(name))

    def panel_set(self, name, v):
        """A value from the panel, validated as over Modbus; False = refused."""
        k = self.sel
        if name == "AL_n":
            if not 1 <= v <= N_RULES:
                return False
            self.sel = v - 1
            return True
        if name == "AL_t" or name == "AL_h":
            if v < 0:
                return False
            (self.thr if name == "AL_t" else self.hys)[k] = v * panel_scale(self.sl[k])
            self.dirty = True
            self.touched |= 1 << k
            return True
        f = _PANEL.index(name)
        if not self.field_ok(f, v):
            return False
        self.set_field(FIELDS * k + f, v)
        return True

    def text(self):
        """The LCD's alarm page: the numbers of the active rules, e.g. "1,3" ("none")."""
        return ",".join(str(k + 1) for k in range(N_RULES) if (self.active >> k) & 1) or "none"
