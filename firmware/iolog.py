# SPDX-License-Identifier: MIT
# The switch inputs' change counters and last-change times (manual 3.3): registers (block di_log) and the store
# record "di", saved at most once a minute while changed and at power-down (wear: a chattering input costs no more).
import struct

from micropython import const

from firmware import regmap
from firmware.words import put_u32

_REC = "di"
_GAP_S = const(60)


class IoLog:
    def __init__(self, io, store=None, image=None):
        self.io = io
        self.store = store
        self.image = image
        self._off = 2 * regmap.block("di_log")[0]
        self._seen = -1  # sum of the counters last published
        self._saved_at = -_GAP_S
        self.dirty = False
        self.load()
        self.publish()

    def publish(self):
        io = self.io
        n = len(io.inputs)
        img = self.image
        if img is None:
            return
        for i in range(n):
            put_u32(img, self._off + 4 * i, io.di_n[i])
            put_u32(img, self._off + 4 * n + 8 * i, io.di_at[2 * i])
            put_u32(img, self._off + 4 * n + 8 * i + 4, io.di_at[2 * i + 1])

    def service(self, now_s):
        """Publish new changes; save them when the last save is a minute old."""
        t = 0
        for c in self.io.di_n:
            t += c
        if t != self._seen:
            self._seen = t
            self.publish()
            self.dirty = True
        if self.dirty and now_s - self._saved_at >= _GAP_S:
            self.save()
            self._saved_at = now_s

    def save(self):
        self.dirty = False
        if self.store is not None:
            io = self.io
            self.store.save(_REC, struct.pack("<" + "i" * (3 * len(io.inputs)), *(list(io.di_n) + list(io.di_at))))

    def load(self):
        io = self.io
        n = len(io.inputs)
        b = self.store.load(_REC) if self.store is not None else None
        if b is None or len(b) != 12 * n:
            return
        v = struct.unpack("<" + "i" * (3 * n), b)
        for i in range(n):
            io.di_n[i] = v[i]
        for i in range(2 * n):
            io.di_at[i] = v[n + i]

    def power_down(self):
        if self.dirty:
            self.save()


