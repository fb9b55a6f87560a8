# SPDX-License-Identifier: MIT
# Simulated NOR flash of the sim board (the record store's and the event log's chips in --state-dir) and of the
# fault-injection tests: erase blocks, program only clears bits, and a power cut after any chosen byte of a program
# or erase. Speaks MicroPython's extended block-device protocol, as rp2.Flash and esp32.Partition do.
from micropython import const

from firmware.filedev import block_ioctl

_ERASED = const(0xFF)
_GARBAGE = const(0xA5)  # what the byte under an interrupted operation reads as (some bits done, some not)


_BLANK = b"\xff" * 256  # one erased page (programs never cross a page)


class PowerCut(Exception):
    """The supply failed in the middle of a program or erase: the device is dead until restarted."""


class Flash:
    """nblocks erase blocks of block_size bytes; programs are split at page boundaries like a NOR chip's.

    The protocol is the one rp2.Flash and esp32.Partition give littlefs: readblocks(n, buf, off),
    writeblocks(n, buf, off) programs without erasing (only 1->0 bits), ioctl(6, n) erases block n,
    ioctl(4)/ioctl(5) give the block count and size. path: a host file that keeps the flash across restarts
    (written through after every operation, so a killed process leaves what the chip would hold).
    """

    def __init__(self, nblocks=16, block_size=4096, page=256, path=None, align=1):
        self.nblocks = nblocks
        self.align = align  # program unit the store must use (rp2.Flash needs whole aligned 256-byte pages)
        self.block_size = block_size
        self.page = page
        self.size = nblocks * block_size
        self.budget = -1  # bytes that may still land before the power fails; -1: the supply never fails
        self.dead = False
        self.programs = 0  # operations and bytes (the fault tests enumerate every byte of every operation)
        self.erases = 0
        self.op_bytes = 0
        self.overwrites = 0  # programs of a byte that was not erased: the store must never do it
        self.erase_counts = [0] * nblocks
        self.path = path
        self.f = None
        self.mem = None
        if path is not None:
            try:
                f = open(path, "r+b")
                mem = bytearray(f.read())
                if len(mem) == self.size:
                    self.f = f
                    self.mem = mem
                else:
                    f.close()  # another geometry: a new chip
            except OSError:
                pass
        if self.mem is None:
            self.mem = bytearray(b"\xff" * self.size)
            if path is not None:
                self.f = open(path, "w+b")
                self.f.write(self.mem)
                self.f.flush()

    # --- block-device protocol ---------------------------------------------------------------------------
    def readblocks(self, n, buf, off=0):
        self._alive()
        a = n * self.block_size + off
        buf[:] = memoryview(self.mem)[a:a + len(buf)]

    def writeblocks(self, n, buf, off=None):
        self._alive()
        if off is None:  # basic protocol: whole blocks, erased first
            for k in range(len(buf) // self.block_size):
                self.erase(n + k)
            off = 0
        a = n * self.block_size + off
        if a < 0 or a + len(buf) > self.size:
            raise OSError(22)
        i = 0
        while i < len(buf):  # a NOR page program never crosses a page boundary
            k = self.page - (a + i) % self.page
            if k > len(buf) - i:
                k = len(buf) - i
            self._program(a + i, buf, i, k)
            i += k

    def ioctl(self, op, arg):
        return block_ioctl(self, op, arg)

    # --- the chip -----------------------------------------------------------------------------------------
    def cut_after(self, nbytes):
        """Fail the supply once nbytes more bytes of programs/erases have landed (-1: never)."""
        self.budget = nbytes

    def _alive(self):
        if self.dead:
            raise PowerCut("flash used after a power cut")

    def _land(self, n):
        # How many of the next n bytes land before the cut (n if the supply holds).
        self.op_bytes += n
        if self.budget < 0 or self.budget >= n:
            if self.budget >= 0:
                self.budget -= n
            return n
        k = self.budget
        self.budget = 0
        return k

    def _program(self, a, buf, i, n):
        self._alive()
        self.programs += 1
        k = self._land(n)
        mem = self.mem
        if mem[a:a + k] == _BLANK[:k]:
            mem[a:a + k] = buf[i:i + k]  # the usual case, programming erased cells: 0xFF & x == x
        else:
            for j in range(k):
                if mem[a + j] != _ERASED and buf[i + j] != _ERASED:
                    self.overwrites += 1  # programming 0xFF over data changes nothing: padding is fine
                mem[a + j] &= buf[i + j]
        if k < n:
            # the byte under the cut got some of its bits programmed, not all
            mem[a + k] &= buf[i + k] | _GARBAGE
            self._persist(a, k + 1)
            self._die()
        self._persist(a, n)

    def erase(self, n):
        self._alive()
        if n < 0 or n >= self.nblocks:
            raise OSError(22)
        self.erases += 1
        self.erase_counts[n] += 1
        bs = self.block_size
        a = n * bs
        k = self._land(bs)
        self.mem[a:a + k] = b"\xff" * k
        if k < bs:
            # an interrupted erase: the cells it reached are erased, the one under the cut is garbage, the rest
            # still hold the old data
            self.mem[a + k] = (self.mem[a + k] | _GARBAGE) ^ 0x0F
            self._persist(a, k + 1)
            self._die()
        self._persist(a, bs)

    def _die(self):
        self.dead = True
        raise PowerCut("power cut")

    def _persist(self, a, n):
        if self.f is not None:
            self.f.seek(a)
            self.f.write(memoryview(self.mem)[a:a + n])
            self.f.flush()

    def image(self):
        return bytes(self.mem)

    def close(self):
        if self.f is not None:
            self.f.close()
            self.f = None


def from_image(img, block_size=4096, page=256, align=1):
    """A chip holding img (a restarted device in the fault tests: same cells, supply back)."""
    f = Flash(len(img) // block_size, block_size, page, align=align)
    f.mem[:] = img
    return f
