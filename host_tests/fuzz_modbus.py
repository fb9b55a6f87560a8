# SPDX-License-Identifier: MIT
# Fuzz the real RTU framer (rtu.Assembler) and dispatcher (Meter.modbus -> Slave + FC08/17/43 + banks) with
# random, near-valid and mutated frames; runs under MicroPython (heap locked per request) and CPython.
# Usage: micropython host_tests/fuzz_modbus.py [frames] [seed]   (make fuzz: 1,000,000 frames)
import gc
import sys

import micropython

sys.path.insert(0, ".")

from firmware.meter import Meter
from firmware.modbus import rtu
from firmware.modbus.crc import crc16

# function codes worth aiming at (served ones, neighbours, exception range); weighted by repetition
_FCS = bytes([1, 2, 3, 4, 5, 6, 15, 16, 8, 8, 8, 17, 43, 43, 3, 4, 16, 6, 0, 7, 9, 20, 23, 0x2B, 0x7F, 0x80, 0x83, 0xFF])
_STARTS = (0, 1, 2, 0x30, 0x31, 0x40, 0x100, 0x17E, 0x180, 0x1FF, 0x200, 0x7FF, 0x800, 0xFFFF, 0xFFFE)
_QTYS = (0, 1, 2, 3, 123, 124, 125, 126, 1968, 1969, 2000, 2001, 0x7D, 0xFFFF)
_SUBS = (0, 1, 2, 3, 4, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0xFF00)


class Rng:
    """xorshift32: the same stream on every runtime, small ints only."""

    def __init__(self, seed):
        self.s = (seed * 2654435761 + 12345) & 0xFFFFFFFF or 1

    def u32(self):
        s = self.s
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        self.s = s
        return s

    def below(self, n):
        return self.u32() % n


class Fuzzer:
    def __init__(self, seed=1):
        self.rng = Rng(seed)
        self.m = Meter(None)
        self.asm = rtu.Assembler(rtu.t15_us(19200), rtu.t35_us(19200))
        self.t = 0
        self.buf = bytearray(300)
        self.pool = bytearray(1 << 16)  # random bytes, copied in slices: much faster than one draw per byte
        for i in range(0, 1 << 16, 4):
            v = self.rng.u32()
            self.pool[i] = v & 0xFF
            self.pool[i + 1] = (v >> 8) & 0xFF
            self.pool[i + 2] = (v >> 16) & 0xFF
            self.pool[i + 3] = v >> 24
        self.pmv = memoryview(self.pool)
        self.stats = {"frames": 0, "replies": 0, "exceptions": 0, "silent": 0, "framed": 0, "discarded": 0}
        self.errors = []

    def _u16(self, k, v):
        self.buf[k] = (v >> 8) & 0xFF
        self.buf[k + 1] = v & 0xFF

    def _fill(self, i, n):
        if n > 0:
            k = self.rng.below((1 << 16) - n)
            self.buf[i:i + n] = self.pmv[k:k + n]

    def _pick(self, seq):
        return seq[self.rng.below(len(seq))]

    def _word(self, seq):
        r = self.rng
        return self._pick(seq) if r.below(3) else r.below(0x10000)

    def make(self):
        """A frame in self.buf; returns its length."""
        r = self.rng
        b = self.buf
        kind = r.below(10)
        if kind == 0:  # raw garbage of any length, often with a good CRC glued on
            n = r.below(262)
            self._fill(0, n)
            if n >= 4 and r.below(2):
                c = crc16(b, 0, n - 2)
                b[n - 2] = c & 0xFF
                b[n - 1] = c >> 8
            return n
        addr = self.m.slave.address
        b[0] = self._pick((addr, addr, addr, addr, 0, r.below(256)))
        fc = _FCS[r.below(len(_FCS))]
        b[1] = fc
        if fc == 8:
            self._u16(2, self._pick(_SUBS))
            self._u16(4, self._pick((0, 0, 0xFF00, r.below(0x10000))))
            n = 6
        elif fc == 17:
            n = 2
        elif fc == 43:
            b[2] = self._pick((14, 14, 14, 13, r.below(256)))
            b[3] = r.below(6)
            b[4] = self._pick((0, 1, 2, 3, 4, 5, 6, 0x80, r.below(256)))
            n = 5
        elif fc in (15, 16):
            self._u16(2, self._word(_STARTS))
            q = self._word(_QTYS) if r.below(2) else r.below(130)
            self._u16(4, q)
            bc = ((q + 7) >> 3 if fc == 15 else 2 * q) & 0xFF
            if r.below(8) == 0:
                bc = r.below(256)
            b[6] = bc
            n = 7 + min(bc, 247)
            self._fill(7, n - 7)
        else:
            self._u16(2, self._word(_STARTS))
            self._u16(4, self._word(_QTYS) if fc != 5 else self._pick((0xFF00, 0, 0x1234)))
            n = 6
        if fc == 6 and r.below(2):
            self._u16(2, r.below(0x40))  # aim at the settings and commands: writes that can succeed
            self._u16(4, r.below(20) if r.below(2) else r.below(0x10000))
        if r.below(4) == 0:  # mutate: flip bits, cut or extend
            m = r.below(3)
            if m == 0:
                for _ in range(1 + r.below(3)):
                    i = r.below(n)
                    b[i] ^= 1 << r.below(8)
            elif m == 1:
                n = r.below(n + 1)
            else:
                k = min(n + r.below(20), 254)
                self._fill(n, k - n)
                n = k
        c = crc16(b, 0, n)
        b[n] = c & 0xFF
        b[n + 1] = c >> 8
        n += 2
        if r.below(16) == 0:
            b[r.below(n)] ^= 1 << r.below(8)  # line noise after the CRC was made
        return n

    def check(self, frame, n, k):
        """A reply of k bytes in m.tx to frame[:n] must be a well-formed frame."""
        tx = self.m.tx
        if k == 0:
            return None
        if k < 5 or k > 256:
            return "length %d" % k
        c = crc16(tx, 0, k - 2)
        if tx[k - 2] != (c & 0xFF) or tx[k - 1] != (c >> 8):
            return "bad CRC"
        if frame[0] == 0 or tx[0] != frame[0]:
            return "address"
        fc = frame[1]
        if tx[1] == fc | 0x80:
            self.stats["exceptions"] += 1
            return None if k == 5 and 1 <= tx[2] <= 4 else "exception frame"
        if tx[1] != fc:
            return "function code"
        if fc in (1, 2, 3, 4, 17) and tx[2] != k - 5:
            return "byte count"
        if fc in (5, 6) and bytes(tx[:k]) != bytes(frame[:n]):
            return "echo"
        if fc in (15, 16) and (k != 8 or bytes(tx[2:6]) != bytes(frame[2:6])):
            return "write reply"
        if fc == 43 and (k < 10 or tx[2] != 14):
            return "FC43 reply"
        return None

    def one(self):
        """Make a frame, push it through the assembler in runs, answer it with the heap locked."""
        r = self.rng
        a = self.asm
        n = self.make()
        self.t += 10000  # more than t3.5 of silence before every frame
        t = self.t
        gap_bad = False
        i = 0
        while i < n:
            k = 1 + r.below(n - i)
            gap = 0
            if i and r.below(40) == 0:
                gap = a.t15 + 1 + r.below(a.t35 - a.t15 - 600)  # over t1.5, under t3.5: the frame is discarded
                gap_bad = True
            t += gap + 520 * k
            a.feed_span(self.buf if i == 0 else memoryview(self.buf)[i:], k, t - 520 * (k - 1), t)
            i += k
        self.t = t
        if a.poll(t + a.t35) != 0:
            self.errors.append("framed before t3.5")
        got = a.poll(t + a.t35 + 1)
        self.stats["frames"] += 1
        if gap_bad or n > 256 or n == 0:
            if got:
                self.errors.append("framed a bad frame n=%d" % n)
            self.stats["discarded"] += 1
            return
        if got != n:
            self.errors.append("assembler lost a frame n=%d got=%d" % (n, got))
            return
        self.stats["framed"] += 1
        fb = a.buf
        micropython.heap_lock()
        try:
            k = self.m.modbus(fb, n)
        except Exception as e:  # anything escaping is the finding
            micropython.heap_unlock()
            self.errors.append("%s: %r" % (bytes(fb[:n]).hex(), e))
            return
        micropython.heap_unlock()
        err = self.check(fb, n, k)
        if err:
            self.errors.append("%s -> %s: %s" % (bytes(fb[:n]).hex(), bytes(self.m.tx[:k]).hex(), err))
        if k:
            self.stats["replies"] += 1
        else:
            self.stats["silent"] += 1
        self.m.service()
        if self.m.config.dirty:
            self.m.config.dirty = False
        if self.m.slave.listen_only and r.below(50) == 0:
            self.m.slave.listen_only = False  # let the run go on (the FC08/01 path is covered too)
        if r.below(400) == 0:  # the other FC03/06/16 profile now and then (Prot: native map / SDM630 holding)
            self.m.set("Prot", 1 - self.m.config.get("Prot"))

    def run(self, frames):
        gc.collect()
        before = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
        for _ in range(frames):
            self.one()
            if len(self.errors) > 20:
                break
        gc.collect()
        after = gc.mem_alloc() if hasattr(gc, "mem_alloc") else 0
        self.stats["heap_growth"] = after - before
        return self.stats


def main():
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    f = Fuzzer(seed)
    st = f.run(frames)
    for e in f.errors[:20]:
        print("ERROR", e)
    print("fuzz:", " ".join("%s=%d" % (k, st[k]) for k in sorted(st)))
    print("RESULT", "FAIL" if f.errors else "OK")


if __name__ == "__main__":
    main()
