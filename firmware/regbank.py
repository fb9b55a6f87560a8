# SPDX-License-Identifier: MIT
# The holding-register bank the Modbus slave serves: one big-endian image of every register, a kind byte per
# register (absent / read-only / read-write), and the write path: settings here, other blocks to their owners.
from micropython import const

from firmware import regmap, sf32conv
from firmware.modbus.codes import ILLEGAL_DATA_ADDRESS, ILLEGAL_DATA_VALUE

_ABSENT = const(0)
_RO = const(1)
_RW = const(2)


class RegisterBank:
    """The native register map (README "Register map", firmware/regmap.py) as the Modbus slave serves it: image is
    every register's big-endian bytes from address 0 (bytearray, 2 * regmap.block_end()), kind one byte per
    register. The meter's parts publish into image; writes come in through write(), which the slave calls for
    FC06/FC16: settings (CONFIG) are checked and applied here, the other writable blocks go to the owner
    attach() registered for them. Every write is all or nothing. write() and the owners return 0 (done) or minus
    the Modbus exception code, the sign convention of the slave's handlers (firmware/modbus/codes.py), so the
    slave sends their result as it comes."""

    def __init__(self, config, vals, protect=None):
        """config: firmware.config.Config (the CONFIG block); vals: the measurement slots (array('f'),
        regmap.N_MEAS) that publish() copies into the MEAS block; protect: firmware.protect.Protect, asked before
        every write (Wp; None: no write protection)."""
        self.config = config
        self.vals = vals
        size = regmap.block_end()
        self.image = bytearray(2 * size)
        self.kind = bytearray(size)
        base = regmap.CONFIG_BASE
        for k in range(len(regmap.CONFIG)):
            self.kind[base + k] = _RW
        for r in range(regmap.MEAS_BASE, regmap.BLOCK_END):
            self.kind[r] = _RO
        for name, first, typ, access, rows in regmap.BLOCKS:
            for r in range(first, first + regmap.SIZES[typ] * len(rows)):
                self.kind[r] = _RO if access == "r" else _RW
        # Unused addresses inside the map read 0 (as FC04's do), so a block read may span the gaps between the
        # blocks (mbpoll -r 0 -c 120); they stay unwritable (02). Beyond the map: 02 (docs/modbus.md).
        for r in range(size):
            if self.kind[r] == _ABSENT:
                self.kind[r] = _RO
        self.size = size
        self._n = len(regmap.CONFIG)
        self._meas_off = 2 * regmap.MEAS_BASE
        self._first = []  # writable blocks other than the settings: first address, end, handler
        self._end = []
        self._fn = []
        self.protect = protect
        self.refresh_config()
        self.publish()

    def find(self, start, q):
        """Index of register `start` in image/kind for a run of q registers (the bank is the map from 0), or -1."""
        return start if start + q <= self.size else -1

    def attach(self, first, end, fn):
        """Writes to first..end-1 go to fn(addr, count, src, off) -> 0 done or -exception code (-ILLEGAL_DATA_VALUE,
        -SERVER_DEVICE_FAILURE; firmware/modbus/codes.py), allocation-free: the slave sends what it returns."""
        self._first.append(first)
        self._end.append(end)
        self._fn.append(fn)

    def put_u16(self, addr, v):
        self.image[2 * addr] = (v >> 8) & 0xFF
        self.image[2 * addr + 1] = v & 0xFF

    def refresh_config(self):
        """Mirror the configuration values into the image."""
        img = self.image
        base = 2 * regmap.CONFIG_BASE
        v = self.config.values
        for k in range(self._n):
            img[base + 2 * k] = v[k] >> 8
            img[base + 2 * k + 1] = v[k] & 0xFF
        if self.protect is not None:
            self.protect.mask(img)

    def publish(self):
        """Copy the measurement slots into the image, float32 high word first. Allocation-free."""
        sf32conv.copy_be(self.vals, 0, regmap.N_MEAS, self.image, self._meas_off)

    def write(self, addr, count, src, off):
        """FC06/FC16 to `count` registers from `addr`, values big-endian in src[off:]. Returns 0 done, or -the
        exception code the slave sends as it comes (firmware/modbus/codes.py, one sign convention for every writer
        and handler): -ILLEGAL_DATA_VALUE for a value refused or Wp, -ILLEGAL_DATA_ADDRESS for a range with no one
        owner; an owner's result (attach) is passed on. Settings: all-or-nothing, every value checked before any
        is applied. Allocation-free."""
        base = regmap.CONFIG_BASE
        n = self._n
        p = self.protect
        if p is not None and not p.allowed(addr, count):
            return -ILLEGAL_DATA_VALUE  # Wp = 1 and Key not written in the last 5 minutes (docs/modbus.md)
        if addr >= base and addr + count <= base + n:
            for i in range(count):
                if not self.config.valid_index(addr + i - base, (src[off + 2 * i] << 8) | src[off + 2 * i + 1]):
                    return -ILLEGAL_DATA_VALUE
            cfg = self.config
            for i in range(count):
                v = (src[off + 2 * i] << 8) | src[off + 2 * i + 1]
                if p is None or not p.keep_pass(addr + i - base, v):
                    cfg.set_index(addr + i - base, v)
            self.refresh_config()
            return 0
        for j in range(len(self._fn)):
            if addr >= self._first[j] and addr + count <= self._end[j]:
                return self._fn[j](addr, count, src, off)
        return -ILLEGAL_DATA_ADDRESS  # a range spanning blocks (or with no owner): not writable as one piece
