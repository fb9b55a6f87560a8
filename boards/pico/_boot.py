# SPDX-License-Identifier: MIT
# Frozen _boot.py of the Pico image (replaces the rp2 port's): splits the 1408 KiB flash storage region into the
# littlefs filesystem (user files, mpremote) and a raw partition for the meter's record store (firmware/store.py),
# which appends records in place of rewriting a file: a save programs one page instead of copying a file.
import vfs
import rp2

from boards.pico import pins

_bdev = rp2.Flash(start=0, len=pins.EVENTS["start"])
try:
    _fs = vfs.VfsLfs2(_bdev, progsize=256)
except OSError:
    vfs.VfsLfs2.mkfs(_bdev, progsize=256)
    _fs = vfs.VfsLfs2(_bdev, progsize=256)
vfs.mount(_fs, "/")
del vfs, rp2, pins, _bdev, _fs
