# SPDX-License-Identifier: MIT
# A fresh simulated flash for a case: the state directory emptied (flash.bin, events.bin), under both runtimes.
import os


def fresh(d):
    """d (a path under /tmp) exists and holds no file; returns d."""
    try:
        os.mkdir(d)
    except OSError:
        pass
    for f in os.listdir(d):
        os.remove(d + "/" + f)
    return d
