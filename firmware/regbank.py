# The holding-register bank the Modbus slave serves: one big-endian image of every register, a kind byte per
# register (absent / read-only / read-write), and the validated write path into the configuration.
from micropython import const

from firmware import regmap, sf32

_ABSENT = const(0)
_RO = const(1)
_RW = const(2)


class RegisterBank:
    def __init__(self, config, vals):
        self.config = config
        self.vals = vals
        size = regmap.BLOCK_END
        self.image = bytearray(2 * size)
        self.kind = bytearray(size)
        base = regmap.CONFIG_BASE
        for k in range(len(regmap.CONFIG)):
            self.kind[base + k] = _RW
        for r in range(regmap.MEAS_BASE, regmap.BLOCK_END):
            self.kind[r] = _RO
        self._n = len(regmap.CONFIG)
        self._meas_off = 2 * regmap.MEAS_BASE
        self.refresh_config()
        self.publish()

    def refresh_config(self):
        """Mirror the configuration values into the image."""
        img = self.image
        base = 2 * regmap.CONFIG_BASE
        v = self.config.values
        for k in range(self._n):
            img[base + 2 * k] = v[k] >> 8
            img[base + 2 * k + 1] = v[k] & 0xFF

    def publish(self):
        """Copy the measurement slots into the image, float32 high word first. Allocation-free."""
        sf32.copy_be(self.vals, 0, regmap.N_MEAS, self.image, self._meas_off)

    def write(self, addr, count, src, off):
        # All-or-nothing: check every value first, then apply. Allocation-free (runs in the request handler).
        base = regmap.CONFIG_BASE
        n = self._n
        for i in range(count):
            k = addr + i - base
            if k < 0 or k >= n:
                return 4
            if not regmap.valid(k, (src[off + 2 * i] << 8) | src[off + 2 * i + 1]):
                return 3
        cfg = self.config
        for i in range(count):
            cfg.set_index(addr + i - base, (src[off + 2 * i] << 8) | src[off + 2 * i + 1])
        self.refresh_config()
        return 0
