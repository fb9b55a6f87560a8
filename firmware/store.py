# SPDX-License-Identifier: MIT
# Power-loss-safe record store: a log of CRC-checked records with global sequence numbers in a ring of flash
# erase blocks, never overwritten in place; the newest intact record of each name wins (docs/storage.md).
import os

import micropython
from micropython import const

try:
    from binascii import crc32
except ImportError:  # a port built without it: the same CRC-32 (IEEE), bit by bit
    def crc32(b, c=0):
        c = ~c & 0xFFFFFFFF
        for x in b:
            c ^= x
            for _ in range(8):
                c = (c >> 1) ^ (0xEDB88320 & -(c & 1))
        return ~c & 0xFFFFFFFF

_MAGIC = const(0x4B)  # first byte of every record: never 0xFF, so an erased byte marks the free space
_HEAD = const(8)  # magic(1) name length(1) data length(2) sequence(4); name, data and CRC-32 (4) follow
_TAIL = const(4)
_NAME_MAX = const(32)
_ERASED = const(0xFF)
FLASH_FILE = "flash.bin"  # the store's flash image inside a state directory (the sim's --state-dir)
# head-sector bytes kept for the power-fail saves: Meter.power_down with every record changed writes 1,669
# (case_store checks the sum against this), plus 11; more costs wear: typical erases 3 -> 4 a block a day at 1728
RESERVE = 1680
SIM_BLOCKS = 64  # 256 KiB of 4 KiB erase blocks: the device partition size (docs/storage.md: wear)


def erased(buf, pos=0):
    """True when buf[pos:] is all 0xFF: its first byte is, and every byte equals the one before it (one compare,
    no sector-sized constant of 0xFF in RAM)."""
    n = len(buf)
    if pos >= n:
        return True
    mv = memoryview(buf)
    return buf[pos] == _ERASED and mv[pos + 1:n] == mv[pos:n - 1]


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


def _put32(b, i, v):
    for k in range(4):
        b[i + k] = (v >> (8 * k)) & 0xFF


@micropython.viper
def _pad(page, n: int, at: int, src, i: int, k: int):
    # page[0:n] = 0xFF, then page[at:at + k] = src[i:i + k]
    p = ptr8(page)
    q = ptr8(src)
    for j in range(n):
        p[j] = 0xFF
    for j in range(k):
        p[at + j] = q[i + j]


def program(dev, s, pos, rec, align, page):
    """Program rec at byte pos of erase block s. align > 1 (rp2.Flash: whole aligned 256-byte pages): each page
    the record touches is programmed whole through `page` (a buffer of align bytes, kept by the caller), 0xFF
    around the record, which leaves programmed and erased cells as they are. Allocation-free: a 256-byte
    temporary costs ~40,000 cycles on the RP2040 once the heap is in use (the allocator searches for a run)."""
    if align <= 1:
        dev.writeblocks(s, rec, pos)
        return
    n = len(rec)
    i = 0
    while i < n:
        at = (pos + i) % align
        k = align - at
        if k > n - i:
            k = n - i
        _pad(page, align, at, rec, i, k)
        dev.writeblocks(s, page, pos + i - at)
        i += k


class Store:
    """Records by name. dev: None (RAM only: a sim without --state-dir), a directory (a block-device file in it,
    firmware/filedev.py: a device without a raw partition, on littlefs) or a block device with the extended
    protocol (rp2.Flash, esp32.Partition, the sim board's boards/sim/norflash.Flash): one sector per erase block,
    at least 3."""

    def __init__(self, dev=None):
        self.ram = None
        self.writes = 0  # records programmed since the flash was new (wear): persisted as the sequence number
        self.erases = 0  # sector erases since power-up
        self.reserve = RESERVE
        self.failing = False
        self.skipped = 0  # power-fail saves that found no room in the reserve (none while RESERVE is sized right)
        if dev is None:
            self.ram = {}
            self.dev = None
            return
        if isinstance(dev, str):
            from firmware.filedev import FileDev

            ensure_dir(dev)
            dev = FileDev(dev.rstrip("/") + "/" + FLASH_FILE, SIM_BLOCKS)  # a directory: a file in it
        self.dev = dev
        self.n = dev.ioctl(4, 0)
        self.bs = dev.ioctl(5, 0)
        if self.n < 3:
            raise ValueError("store needs 3 erase blocks")
        # program unit: rp2.Flash programs whole 256-byte pages at aligned offsets (littlefs there uses progsize
        # 256); the store pads with 0xFF, which leaves both programmed and erased cells as they are
        self.align = getattr(dev, "align", 256)
        self.page = bytearray(max(self.align, 256))  # program() pads through it, _same() compares through it
        self.mount()

    # --- reading the log ------------------------------------------------------------------------------------
    def _record(self, buf, pos):
        """Length of the intact record at pos, or 0 (torn, garbage, or not a record)."""
        bs = self.bs
        if pos + _HEAD + _TAIL > bs or buf[pos] != _MAGIC:
            return 0
        nl = buf[pos + 1]
        dl = buf[pos + 2] | (buf[pos + 3] << 8)
        if nl == 0 or nl > _NAME_MAX:
            return 0
        end = pos + _HEAD + nl + dl
        if end + _TAIL > bs:
            return 0
        if crc32(memoryview(buf)[pos:end]) != _u32(buf, end):
            return 0
        return end + _TAIL - pos

    def mount(self):
        """Scan every sector, index the newest intact record of each name, repair an interrupted rotation."""
        for attempt in range(3):
            self.index = {}  # name -> [seq, sector, offset, total length]
            self.sectors = []  # per sector: [max seq or -1, end of the records, tail erased, whole sector erased]
            top = -1
            head = 0
            buf = bytearray(self.bs)  # one sector, for the scan only (RAM: kept no longer than mount)
            for s in range(self.n):
                self.dev.readblocks(s, buf, 0)
                pos = 0
                smax = -1
                while pos < self.bs and buf[pos] != _ERASED:
                    t = self._record(buf, pos)
                    if t == 0:
                        break  # torn: nothing after it is ever read or written
                    seq = _u32(buf, pos + 4)
                    name = bytes(buf[pos + _HEAD:pos + _HEAD + buf[pos + 1]])
                    cur = self.index.get(name)
                    if cur is None or seq > cur[0]:
                        self.index[name] = [seq, s, pos, t]
                    if seq > smax:
                        smax = seq
                    pos += t
                clean = erased(buf, pos)
                self.sectors.append([smax, pos, clean, clean and pos == 0])
                if smax > top:
                    top = smax
                    head = s
            self.head = head
            self.seq = top + 1
            self.writes = self.seq
            # The sector after the head must be erased (the spare). If it is not, a rotation was cut short:
            nx = (head + 1) % self.n
            if self.sectors[nx][3]:
                return
            if not self._live_in(nx):
                self._erase(nx)  # only superseded records or garbage: the erase was cut, finish it
                return
            # records still live there: the head holds nothing but copies made by an unfinished rotation, and the
            # originals are intact. Drop the copies; the next save rotates again.
            self._erase(head)
        raise OSError(5)

    def _live_in(self, s):
        for name in self.index:
            if self.index[name][1] == s:
                return True
        return False

    def load(self, name):
        """Newest intact record, or None."""
        if self.ram is not None:
            return self.ram.get(name)
        e = self.index.get(name.encode())
        if e is None:
            return None
        nl = len(name)
        out = bytearray(e[3] - _HEAD - _TAIL - nl)
        self.dev.readblocks(e[1], out, e[2] + _HEAD + nl)
        return bytes(out)

    def _same(self, key, data):
        """Does the newest record of `key` hold `data`? Compared a page buffer at a time (no allocation of the
        record's size)."""
        e = self.index.get(key)
        nl = len(key)
        if e is None or e[3] - _HEAD - _TAIL - nl != len(data):
            return False
        page = self.page
        mv = memoryview(page)
        dv = memoryview(data)
        i = 0
        while i < len(data):
            k = min(len(page), len(data) - i)
            self.dev.readblocks(e[1], mv[0:k], e[2] + _HEAD + nl + i)
            if mv[0:k] != dv[i:i + k]:
                return False
            i += k
        return True

    # --- writing -------------------------------------------------------------------------------------------
    def save(self, name, data):
        """Append a new record; the previous one stays intact until its sector is recycled."""
        if self.ram is not None:
            self.ram[name] = bytes(data)
            self.writes += 1
            return
        key = name.encode()
        nl = len(key)
        if nl == 0 or nl > _NAME_MAX:
            raise ValueError("record name")
        t = _HEAD + nl + len(data) + _TAIL
        if 2 * t > self.bs:
            raise ValueError("record too big for the store")
        if not self.failing and self._same(key, data):
            return  # already on flash: no wear (skipped at power-fail: time matters then, wear does not)
        for _ in range(self.n):
            if self.fits(t):
                break
            if self.failing:
                # never an erase while the supply fails (45 ms or more, past the hold-up): the record keeps its
                # previous save; RESERVE is sized so that this does not happen (docs/storage.md "Power fail")
                self.skipped += 1
                return
            self._rotate()
        else:
            raise OSError(28)  # the live records do not fit in one sector
        rec = bytearray(t)
        rec[0] = _MAGIC
        rec[1] = nl
        rec[2] = len(data) & 0xFF
        rec[3] = len(data) >> 8
        rec[_HEAD:_HEAD + nl] = key
        rec[_HEAD + nl:t - _TAIL] = data
        self._append(key, rec)

    def fits(self, t):
        """Does a record of t bytes go into the head sector now? Ordinary saves leave `reserve` bytes free, so
        the saves after a power-fail warning only program (a page takes ~1 ms) and never wait for an erase."""
        sec = self.sectors[self.head]
        return sec[2] and sec[1] + t + (0 if self.failing else self.reserve) <= self.bs

    def power_fail(self):
        """The supply is going: from now on saves may use the reserve (Meter.power_down calls it)."""
        self.failing = True

    def _append(self, key, rec):
        # rec: a whole record with its header filled in except the sequence number and CRC
        t = len(rec)
        _put32(rec, 4, self.seq)
        _put32(rec, t - _TAIL, crc32(memoryview(rec)[0:t - _TAIL]))
        s = self.head
        sec = self.sectors[s]
        pos = sec[1]
        sec[1] = pos + t  # a cut below leaves this sector torn: the next mount sees it, this object is dead
        sec[3] = False
        program(self.dev, s, pos, rec, self.align, self.page)
        self.index[key] = [self.seq, s, pos, t]
        sec[0] = self.seq
        self.seq += 1
        self.writes = self.seq

    def _rotate(self):
        """Open the spare sector as the new head: copy the live records of the oldest sector into it, then erase
        the oldest, which becomes the spare. Until the erase starts the oldest sector holds every original."""
        n = self.n
        new = (self.head + 1) % n
        old = (self.head + 2) % n
        if not self.sectors[new][3]:
            if self._live_in(new):
                raise OSError(5)  # the spare holds live data: mount() never leaves it so
            self._erase(new)
        self.head = new
        moved = []
        for key in self.index:
            e = self.index[key]
            if e[1] == old:
                moved.append(key)
        for key in moved:
            e = self.index[key]
            rec = bytearray(e[3])
            self.dev.readblocks(old, rec, e[2])
            self._append(key, rec)
        if not self.sectors[old][3]:
            self._erase(old)

    def _erase(self, s):
        self.dev.ioctl(6, s)
        self.erases += 1
        self.sectors[s] = [-1, 0, True, True]


def ensure_dir(path):
    if not isinstance(path, str):
        return  # a block device, not a directory
    try:
        os.mkdir(path)
    except OSError:
        pass
