# SPDX-License-Identifier: MIT
# CPython stand-in for MicroPython's `micropython` module, so firmware/ runs unchanged under CPython.
# viper/native become plain functions; ptr8/ptr16/ptr32 arguments are wrapped to index the buffer as
# the viper emitter does on the 64-bit unix port (loads zero-extended, stores truncated).
import builtins
import sys

_WORD = (1 << 32) - 1


def const(x):
    return x


class _Ptr:
    __slots__ = ("m", "mask")

    def __init__(self, buf, fmt, mask):
        if isinstance(buf, str):
            buf = buf.encode()  # MicroPython's str has the buffer protocol: its UTF-8 bytes
        m = memoryview(buf).cast("B")
        self.m = m if fmt == "B" else m[: len(m) - len(m) % (2 if fmt == "H" else 4)].cast(fmt)
        self.mask = mask

    def __getitem__(self, i):
        return self.m[i]

    def __setitem__(self, i, v):
        self.m[i] = v & self.mask


def ptr8(buf):
    return buf if isinstance(buf, _Ptr) else _Ptr(buf, "B", 0xFF)


def ptr16(buf):
    return buf if isinstance(buf, _Ptr) else _Ptr(buf, "H", 0xFFFF)


def ptr32(buf):
    return buf if isinstance(buf, _Ptr) else _Ptr(buf, "I", _WORD)


def uint(x):
    return x & _WORD


builtins.ptr8 = ptr8
builtins.ptr16 = ptr16
builtins.ptr32 = ptr32
builtins.uint = uint


def viper(fn):
    ann = getattr(fn, "__annotations__", {})
    names = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    wraps = [(k, ann.get(n)) for k, n in enumerate(names) if ann.get(n) in (ptr8, ptr16, ptr32)]
    if not wraps:
        return fn

    def call(*args):
        args = list(args)
        for k, conv in wraps:
            if k < len(args):
                args[k] = conv(args[k])
        return fn(*args)

    call.__name__ = fn.__name__
    return call


def native(fn):
    return fn


def asm_thumb(fn):
    """Thumb assembly runs on ARM ports only: the module imports (its constants can be checked), a call fails."""

    def call(*args):
        raise RuntimeError("%s: @micropython.asm_thumb runs on the chip only" % fn.__name__)

    call.__name__ = fn.__name__
    return call


def heap_lock():
    return 0


def heap_unlock():
    return 0


def schedule(fn, arg):
    fn(arg)


def mem_info(*a):
    pass


sys.modules.setdefault("micropython", sys.modules[__name__])
