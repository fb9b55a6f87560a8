# History: maximum and minimum of U, I, P, Q, S, PF, F (the first 26 measurements) with the date and time each
# was reached; clearable with the password (cLr_MaxMin), kept in the store (record "maxmin") across restarts.
from array import array

import micropython
from micropython import const

from firmware import regmap, sf32
from firmware.words import SIGN_BIT

N = const(26)  # Ua .. F: the regmap's first 26 measurements (regmap.MAXMIN order)
_SETTLE = const(5)  # windows skipped after power-up (the first ones are partial / not yet locked)
SAVE_S = const(60)  # a changed record is saved at most once a minute (and at power-down)
_RECORD = "maxmin"
_REFUSED = const(3)


@micropython.viper
def _track(vals: ptr32, mx: ptr32, mn: ptr32, ts: ptr32, n: int, ymd: int, hms: int) -> int:
    """Raise mx / lower mn with vals[0..n-1] (float32 bits); ts holds (date, time) pairs, max ones first, then
    min ones; date 0 = empty. Returns how many entries changed."""
    h = int(SIGN_BIT)
    changed = 0
    k = 0
    while k < n:
        x = vals[k]
        s = x & h
        v = x ^ s
        if s:
            v = 0 - v
        a = 2 * k
        y = mx[k]
        s = y & h
        w = y ^ s
        if s:
            w = 0 - w
        if ts[a] == 0 or v > w:
            mx[k] = x
            ts[a] = ymd
            ts[a + 1] = hms
            changed += 1
        a = 2 * (n + k)
        y = mn[k]
        s = y & h
        w = y ^ s
        if s:
            w = 0 - w
        if ts[a] == 0 or v < w:
            mn[k] = x
            ts[a] = ymd
            ts[a + 1] = hms
            changed += 1
        k += 1
    return changed


@micropython.viper
def _u32_be(src: ptr32, n: int, buf: ptr8, off: int):
    i = 0
    p = off
    while i < n:
        x = src[i]
        buf[p] = x >> 24
        buf[p + 1] = x >> 16
        buf[p + 2] = x >> 8
        buf[p + 3] = x
        i += 1
        p += 4


@micropython.viper
def _bytes_in(dst: ptr8, src: ptr8, off: int, n: int):
    """The bytes of an array (native order, as bytes(array) gave them) back from a record."""
    i = 0
    while i < n:
        dst[i] = src[off + i]
        i += 1


class MaxMin:
    """update() after each metering window (allocation-free); clear() / cmd_write for cLr_MaxMin; service(now_s)
    saves a changed record at most once a minute; power_down() saves at once."""

    def __init__(self, vals, clock, store=None, image=None, config=None):
        self.vals = vals
        self.clock = clock
        self.store = store
        self.image = image
        self.config = config
        self.mx = array("f", bytes(4 * N))
        self.mn = array("f", bytes(4 * N))
        self.ts = array("i", bytes(16 * N))  # (date, time) per max, then per min; regmap.MAXMIN_T order
        self.windows = 0
        self.dirty = False
        self.saved_s = -SAVE_S  # sample time of the last save
        self.changes = 0
        self._v = regmap.block("maxmin")[0] * 2
        self._t = regmap.block("maxmin_t")[0] * 2
        self._pass = regmap.config_index("PASS")
        if store is not None:
            self.load()
        self.publish()

    def update(self):
        """Track the window just metered (call after Metering.update). Allocation-free."""
        self.windows += 1
        if self.windows <= _SETTLE:
            return 0
        c = _track(self.vals, self.mx, self.mn, self.ts, N, self.clock.ymd, self.clock.hms)
        if c:
            self.changes += c
            self.dirty = True
            self.publish()
        return c

    def publish(self):
        if self.image is not None:
            sf32.copy_be(self.mx, 0, N, self.image, self._v)
            sf32.copy_be(self.mn, 0, N, self.image, self._v + 4 * N)
            _u32_be(self.ts, 4 * N, self.image, self._t)

    def clear(self):
        for k in range(4 * N):
            self.ts[k] = 0
        for k in range(N):
            self.mx[k] = 0.0
            self.mn[k] = 0.0
        self.dirty = True
        self.publish()

    def cmd_write(self, addr, count, src, off):
        """cLr_MaxMin: the password clears the history; anything else gets exception 03. Allocation-free."""
        if count != 1 or self.config is None:
            return _REFUSED
        if ((src[off] << 8) | src[off + 1]) != self.config.values[self._pass]:
            return _REFUSED
        self.clear()
        return 0

    def sources(self):
        """name -> callable for the History pages: Ua_max, Ua_max_D (date text), Ua_max_T (time text), ..."""
        src = {}
        for j in range(2):
            arr = self.mx if j == 0 else self.mn
            x = ("max", "min")[j]
            for k in range(N):
                q = regmap.MEASUREMENTS[k][0]
                a = 2 * (j * N + k)
                src["%s_%s" % (q, x)] = (lambda arr=arr, k=k: arr[k])
                src["%s_%s_D" % (q, x)] = (lambda a=a: ymd_text(self.ts[a]))
                src["%s_%s_T" % (q, x)] = (lambda a=a: hms_text(self.ts[a + 1]) if self.ts[a] else "----")
        return src

    # --- persistence (allocates: outside the hot paths) --------------------------------------------------------
    def record(self):
        return bytes(self.mx) + bytes(self.mn) + bytes(self.ts)

    def load(self):
        data = self.store.load(_RECORD)
        if data is None or len(data) != 24 * N:
            return False
        _bytes_in(self.mx, data, 0, 4 * N)
        _bytes_in(self.mn, data, 4 * N, 4 * N)
        _bytes_in(self.ts, data, 8 * N, 16 * N)
        return True

    def service(self, now_s):
        if self.dirty and now_s - self.saved_s >= SAVE_S:
            self.save(now_s)

    def save(self, now_s=0):
        if self.store is not None:
            self.store.save(_RECORD, self.record())
        self.saved_s = now_s
        self.dirty = False

    def power_down(self):
        if self.dirty:
            self.save(self.saved_s)


def ymd_text(v):
    """20261126 -> '2026-11-26'; 0 (none yet) -> '----'."""
    if v <= 0:
        return "----"
    return "%04d-%02d-%02d" % (v // 10000, (v // 100) % 100, v % 100)


def hms_text(v):
    return "%02d:%02d:%02d" % (v // 10000, (v // 100) % 100, v % 100)
