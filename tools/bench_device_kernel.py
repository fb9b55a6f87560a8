# SPDX-License-Identifier: MIT
# Cycles per 8-channel sample of the sampling kernel on the RP2040, old and new, on the same generated samples:
#   python3 -m tools.emu run tools/bench_device_kernel.py --scenario default
# old: firmware/kernel.py's run() for every sample (the sampler before the span split); viper: the sampler with
# the viper span kernel (firmware/kernel_span.py, what every port but the pico runs); thumb: the sampler with
# boards/pico/kernel_thumb.py (what the pico board runs). Counts include the sampler's Python per block and the
# windows that close meanwhile. A guest script (the emulator's host port gives cycles and samples).
import machine
import micropython
import uctypes

from boards.pico import board, kernel_thumb
from firmware import kernel_span
from firmware.frontend import SAMPLE_RATE as RATE
from firmware.kernel import S_JUST
from firmware.sampler import Sampler

_PORT = 0x40068000  # emulator host port: +0 cycles (low word), +0x18 sample buffer, +0x1C fill N samples
SAMPLES = 4800  # 0.6 s of signal (150 KB in one piece): three windows close
CORE_HZ = 125000000


@micropython.viper
def cycles() -> int:
    """Low 30 bits of the cycle counter: a small int (machine.mem32 would make a big one, an allocation)."""
    a = 0x4006
    p = ptr32((a << 16) | 0x8000)  # _PORT (as a literal it would be an object in viper)
    return p[0] & 0x3FFFFFFF


def old_feed(s, block, n):
    """Sampler.feed as it was: kernel.run over the whole block."""
    i = 0
    closed = 0
    st = s.state
    dn = s.done
    while i < n:
        i = s._run(block, i, n, st, s.table, dn)
        if st[S_JUST]:
            st[S_JUST] = 0
            closed += 1
            s._closed()
    return closed


def bench(name, s, feed, blocks, n, ovh):
    total = 0
    closed = 0
    for blk in blocks:
        micropython.heap_lock()
        t0 = cycles()
        closed += feed(s, blk, n)
        t1 = cycles()
        micropython.heap_unlock()
        total += ((t1 - t0) & 0x3FFFFFFF) - ovh
    per = total // (n * len(blocks))
    print("%-6s blocks of %3d: %5d cycles per 8-channel sample  %5.2f %% of the core at %d samples/s  (%d windows)"
          % (name, n, per, 100.0 * per * RATE / CORE_HZ, RATE, closed))
    return per, s.done


def main():
    big = bytearray(32 * SAMPLES)  # any int32 buffer will do; array("i", bytes(n)) would need twice the RAM
    at = uctypes.addressof(big)
    for k in range(0, SAMPLES, 400):
        machine.mem32[_PORT + 0x18] = at + 32 * k
        machine.mem32[_PORT + 0x1C] = 400  # the host's generator fills them (the scenario given to tools.emu)
    ovh = cycles()
    ovh = (cycles() - ovh) & 0x3FFFFFFF
    print("kernel benchmark: %d samples (counter read: %d cycles, subtracted per block)" % (SAMPLES, ovh))

    def new_feed(s, blk, n):
        return s.feed(blk, n)

    res = []
    for n, runs in ((board.BLOCK, (("old", Sampler(), old_feed), ("viper", Sampler(span=kernel_span), new_feed),
                                   ("thumb", Sampler(span=kernel_thumb), new_feed))),
                    (400, (("thumb", Sampler(span=kernel_thumb), new_feed),))):
        mv = memoryview(big)
        blocks = [mv[32 * k:32 * (k + n)] for k in range(0, SAMPLES, n)]  # the board's DMA blocks, then 50 ms ones
        for name, s, feed in runs:
            s.on_window = None
            res.append(bench(name, s, feed, blocks, n, ovh))
    same = all(list(r[1]) == list(res[0][1]) for r in res)
    print("last window identical in all: %s; thumb vs old: %.1fx fewer cycles" % (same, res[0][0] / res[2][0]))


main()
