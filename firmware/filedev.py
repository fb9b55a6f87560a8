# SPDX-License-Identifier: MIT
# A block device in a file (MicroPython's extended block-device protocol): the store or the event log of a board
# that gives them no raw flash partition lives in a file on its filesystem (a state directory).


def block_ioctl(dev, op, arg):
    """ioctl of MicroPython's extended block-device protocol for dev (.nblocks, .block_size, .erase(n)): 4 the
    block count, 5 the block size, 6 erase block arg; init, deinit and sync (1, 2, 3) have nothing to do: 0."""
    if op == 4:
        return dev.nblocks
    if op == 5:
        return dev.block_size
    if op == 6:
        dev.erase(arg)
    return 0


class FileDev:
    """A block device in a file, without a RAM copy: a device whose board gives no raw flash partition keeps the
    store in a file on its littlefs root (littlefs commits each flushed write atomically, copy-on-write)."""

    align = 1

    def __init__(self, path, nblocks, block_size=4096):
        self.nblocks = nblocks
        self.block_size = block_size
        try:
            self.f = open(path, "r+b")
            self.f.seek(0, 2)
            if self.f.tell() == nblocks * block_size:
                return
            self.f.close()
        except OSError:
            pass
        self.f = open(path, "w+b")
        page = b"\xff" * 256
        for n in range(nblocks):
            self._fill(n, page)

    def _fill(self, n, page=None):
        page = page or b"\xff" * 256
        self.f.seek(n * self.block_size)
        for _ in range(self.block_size // 256):
            self.f.write(page)
        self.f.flush()

    def readblocks(self, n, buf, off=0):
        self.f.seek(n * self.block_size + off)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, off=None):
        if off is None:
            for k in range(len(buf) // self.block_size):
                self._fill(n + k)
            off = 0
        self.f.seek(n * self.block_size + off)
        self.f.write(buf)
        self.f.flush()

    def erase(self, n):
        self._fill(n)

    def ioctl(self, op, arg):
        return block_ioctl(self, op, arg)

    def close(self):
        self.f.close()
