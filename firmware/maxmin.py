# SPDX-License-Identifier: MIT
# History: maximum and minimum of U, I, P, Q, S, PF, F (the first 26 measurements) with the date and time each
# was reached; clearable with the password (cLr_MaxMin), kept in the store (record "maxmin") across restarts.
# Only measured values count (metering's mask): a window's value is taken when the quantity was measured in it
# and in the windows on both sides (a channel that appears or vanishes mid-window reads a partial rms).
from array import array

import micropython
from micropython import const

from firmware import regmap, sf32conv
from firmware.bufs import copy8
from firmware.history import History
from firmware.words import SIGN_BIT

N = const(26)  # Ua .. F: the regmap's first 26 measurements (regmap.MAXMIN order)


@micropython.viper
def _track(vals: ptr32, mx: ptr32, mn: ptr32, ts: ptr32, n: int, ymd: int, hms: int, mask: ptr8, held: ptr32,
           hm: ptr8) -> int:
    """Raise mx / lower mn with the previous window's values held[0..n-1] (float32 bits) where the quantity was
    measured (mask bit 1) in the window before it (hm[k]), in it (hm[n + k]) and in this one (mask[k]); then hold
    this window's vals and mask. ts holds (date, time) pairs, max ones first, then min ones; date 0 = empty;
    (ymd, hms) is the clock at the held window. Returns how many entries changed."""
    h = int(SIGN_BIT)
    changed = 0
    k = 0
    while k < n:
        x = held[k]
        ok = int(hm[k]) & int(hm[n + k]) & int(mask[k]) & 1
        hm[k] = hm[n + k]
        hm[n + k] = mask[k]
        held[k] = vals[k]
        if not ok:
            k += 1
            continue
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


class MaxMin(History):
    """update() after each metering window (allocation-free); clear() / cmd_write for cLr_MaxMin; service(now_s)
    saves a changed record at most once a minute; power_down() saves at once."""

    RECORD = "maxmin"

    def __init__(self, vals, clock, store=None, image=None, config=None, mask=None):
        """mask: metering's per-slot MEAS | KNOWN bytes of the window in vals (Metering.mask); None: every value
        counts as measured (callers that fill vals themselves)."""
        History.__init__(self, vals, clock, store, image, config)
        if mask is None:
            mask = bytearray(b"\x01" * N)
        self.mask = mask
        self.mx = array("f", bytes(4 * N))
        self.mn = array("f", bytes(4 * N))
        self.ts = array("i", bytes(16 * N))  # (date, time) per max, then per min; regmap.MAXMIN_T order
        self.held = array("f", bytes(4 * N))  # the previous window's values, tracked once the next one is known
        self.hm = bytearray(2 * N)  # masks of the two windows before this one
        self._ymd = 0  # the clock at the held window
        self._hms = 0
        self.windows = 0
        self.changes = 0
        if store is not None:
            self.load()
        self.publish()

    def update(self):
        """Track the window just metered (call after Metering.update). Allocation-free."""
        self.windows += 1
        c = _track(self.vals, self.mx, self.mn, self.ts, N, self._ymd, self._hms, self.mask, self.held, self.hm)
        self._ymd = self.clock.ymd
        self._hms = self.clock.hms
        if c:
            self.changes += c
            self.dirty = True
            self.publish()
        return c

    def publish(self):
        if self.image is not None:
            sf32conv.copy_be(self.mx, 0, N, self.image, self._v)
            sf32conv.copy_be(self.mn, 0, N, self.image, self._v + 4 * N)
            sf32conv.copy_be(self.ts, 0, 4 * N, self.image, self._t)  # int32 words, big-endian like the floats

    def clear(self):
        for k in range(4 * N):
            self.ts[k] = 0
        for k in range(2 * N):
            self.hm[k] = 0  # a window metered before the clear is not tracked after it
        for k in range(N):
            self.mx[k] = 0.0
            self.mn[k] = 0.0
        self.dirty = True
        self.publish()

    def source(self, name):
        """A callable for History page row `name` (Ua_max; Ua_max_D, Ua_max_T: date and time text), or None."""
        i = regmap.MAXMIN.find(name)  # N maxima, then N minima
        if i >= 0:
            arr, k = (self.mx, i) if i < N else (self.mn, i - N)
            return lambda: arr[k]
        return self.stamp_source(regmap.MAXMIN_T, name)  # (date, time) per maximum, then per minimum

    # --- persistence (allocates: outside the hot paths) --------------------------------------------------------
    def record(self):
        return bytes(self.mx) + bytes(self.mn) + bytes(self.ts)

    def load(self):
        data = self.store.load(self.RECORD)
        if data is None or len(data) != 24 * N:
            return False
        copy8(self.mx, 0, data, 0, 4 * N)
        copy8(self.mn, 0, data, 4 * N, 4 * N)
        copy8(self.ts, 0, data, 8 * N, 16 * N)
        return True
