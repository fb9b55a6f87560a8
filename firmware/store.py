# Power-loss-safe record store: each named record lives in two slot files, written alternately, each with a
# sequence number and a CRC. A torn write spoils only the slot being written; load() returns the newest good one.
import os

from micropython import const

from firmware.modbus.crc import crc16

_MAGIC0 = const(0x4B)  # 'K'
_MAGIC1 = const(0x4D)  # 'M'
_HEAD = const(8)  # magic(2) seq(4) length(2); the CRC (2, little-endian) follows the data


def _u32(b, i):
    return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)


class Store:
    """Records by name. dir None keeps them in RAM only (a sim without --state-dir)."""

    def __init__(self, dir=None):
        self.dir = dir
        self.ram = {}
        self.seq = {}
        self.writes = 0  # records written since power-up (wear figure for later issues)

    def _path(self, name, k):
        return "%s/%s.%d" % (self.dir, name, k)

    def _read_slot(self, name, k):
        try:
            with open(self._path(name, k), "rb") as f:
                b = f.read()
        except OSError:
            return None, -1
        if len(b) < _HEAD + 2 or b[0] != _MAGIC0 or b[1] != _MAGIC1:
            return None, -1
        n = b[6] | (b[7] << 8)
        if len(b) != _HEAD + n + 2:
            return None, -1
        if crc16(b, 0, _HEAD + n) != (b[_HEAD + n] | (b[_HEAD + n + 1] << 8)):
            return None, -1
        return b[_HEAD:_HEAD + n], _u32(b, 2)

    def load(self, name):
        """Newest intact record, or None."""
        if self.dir is None:
            return self.ram.get(name)
        best, bseq = None, -1
        for k in (0, 1):
            data, seq = self._read_slot(name, k)
            if data is not None and seq > bseq:
                best, bseq = data, seq
        self.seq[name] = bseq
        return best

    def save(self, name, data):
        self.writes += 1
        if self.dir is None:
            self.ram[name] = bytes(data)
            return
        if name not in self.seq:
            self.load(name)
        seq = self.seq[name] + 1
        n = len(data)
        rec = bytearray(_HEAD + n + 2)
        rec[0] = _MAGIC0
        rec[1] = _MAGIC1
        for i in range(4):
            rec[2 + i] = (seq >> (8 * i)) & 0xFF
        rec[6] = n & 0xFF
        rec[7] = n >> 8
        rec[_HEAD:_HEAD + n] = data
        c = crc16(rec, 0, _HEAD + n)
        rec[_HEAD + n] = c & 0xFF
        rec[_HEAD + n + 1] = c >> 8
        # The slot holding the older record is overwritten; the newest good one stays untouched.
        with open(self._path(name, seq & 1), "wb") as f:
            f.write(rec)
        self.seq[name] = seq


def ensure_dir(path):
    try:
        os.mkdir(path)
    except OSError:
        pass
