# SPDX-License-Identifier: MIT
# Runs ON the emulated RP2040 (tools/bench_device.py prepends PARAMS and sends it through the raw REPL).
# The board as it boots (boards/pico/board.Board: the meter, the ADS131M08 streaming through the DMA ring, the
# ST7567, keys, inputs, RS485, console), its blocks taken from the ring as the main loop takes them, with Modbus
# requests, key presses, LCD renders sent over SPI1, ticks, a GC every 2 s and scenario switches. Every call
# from the loop is timed in emulated CPU cycles (the sleep between blocks is not); prints "R key=value ..."
# lines that the host turns into the table.
import gc
import machine
import micropython
from array import array

P = PARAMS  # noqa: F821  (prepended by the host)
HZ = 125000000
MASK = 0x3FFFFFFF
_PORT = 0x40068000


@micropython.viper
def cyc() -> int:
    return ptr32(0x40068000)[0] & 0x3FFFFFFF  # (viper builtin); 30 bits: a small int, no allocation


gc.collect()
free0 = gc.mem_free()
heap_total = free0 + gc.mem_alloc()
from boards.pico import board  # noqa: E402  (after the sys.path set-up)
from firmware.frontend import SAMPLE_RATE  # noqa: E402  (after the sys.path set-up)
from firmware.meter import Meter  # noqa: E402  (after the sys.path set-up)
from firmware.modbus import bench_support  # noqa: E402  (after the sys.path set-up)
from firmware.modbus.crc import crc16  # noqa: E402  (after the sys.path set-up)
from firmware.ui import fb as fbrender  # noqa: E402  (after the sys.path set-up)

gc.collect()
free_imports = gc.mem_free()
print("R part=imports held=%d free=%d heap=%d" % (free0 - free_imports, free_imports, heap_total))

BLOCK = board.BLOCK
req03 = bench_support.fc03_request(1, 0x0100, 125)
req04 = bytearray(b"\x01\x04\x00\x00\x00\x50\x00\x00")
c = crc16(req04, 0, 6)
req04[6] = c & 0xFF
req04[7] = c >> 8
gc.collect()
free_bench = gc.mem_free()

c0 = cyc()
brd = board.Board()
meter = brd.meter
ring = brd.ring
buf = brd.samples  # the board's own block buffer: the bench holds no sample memory the board does not
c_make = (cyc() - c0) & MASK
gc.collect()
free_built = gc.mem_free()
print("R part=construction held=%d free=%d cycles=%d" % (free_bench - free_built, free_built, c_make))


def apply(settings):
    # a scenario's wiring written back to back, as a master's burst is: each setting validated and held
    # (Meter.set with now=False); the loop's next service() applies, saves and logs them once ("service" row)
    worst = 0
    for name, value in settings:
        t0 = cyc()
        meter.set(name, value, False)
        d = (cyc() - t0) & MASK
        if d > worst:
            worst = d
    return worst


# measurement overhead: two counter reads back to back
OVH = 1 << 30
for _ in range(20):
    t0 = cyc()
    d = (cyc() - t0) & MASK
    if d < OVH:
        OVH = d

apply(P["settings"][0])
meter.service()


ADC_D = array("i", [0])  # the last block's decode cycles (block() returns no tuple: the bench allocates nothing
# per block, so the heap figures are the meter's)


def block():
    # wait (WFI, not timed) for the ring's next block, decode it (timed: the board's ADC part)
    while ring.filled == ring.used:
        board.wfi()
    t0 = cyc()
    r = ring.poll(buf)
    ADC_D[0] = (cyc() - t0 - OVH) & MASK
    return r


blocks_s = SAMPLE_RATE // BLOCK
seconds = P["seconds"]
req_every = blocks_s // P["requests"]
keys = P["keys"]
# per-part cycles of the current second, then the totals and the worst single call per part
PARTS = ("adc", "feed", "service", "modbus", "tick", "lcd", "keys", "panel", "gc", "settings")
ADC, FEED, SERVICE, MODBUS, TICK, LCD, KEYS, PANEL, GC, SETTINGS = range(len(PARTS))
sec = array("i", [0] * len(PARTS))
tot = array("i", [0] * len(PARTS))  # in units of 1000 cycles (a 10-minute run overflows 31 bits otherwise)
worst = array("i", [0] * len(PARTS))
cpu_max = 0
free_min = free_built


def note(k, d):
    # d cycles spent in part k this second (outside the timed calls)
    sec[k] += d
    if d > worst[k]:
        worst[k] = d


nreq = 0
nkey = 0
switch = P["switch"]
for s in range(seconds):
    for k in range(len(switch)):
        if switch[k] == s:
            machine.mem32[_PORT + 0x20] = k + 1
            d = apply(P["settings"][k + 1])
            note(SETTINGS, d)
    for b in range(blocks_s):
        r = block()
        note(ADC, ADC_D[0])
        micropython.heap_lock()  # the hot paths allocate nothing, on the chip too: an allocation raises here
        t0 = cyc()
        try:
            if r == 0:
                meter.feed(buf, BLOCK)
            else:
                meter.gap(r)
        except MemoryError:
            micropython.heap_unlock()
            print("R alloc in feed at s=%d block=%d" % (s, b))
            raise
        micropython.heap_unlock()
        d = (cyc() - t0 - OVH) & MASK
        note(FEED, d)
        if b % board.SERVICE_BLOCKS == 0:
            t1 = cyc()
            meter.service()
            t2 = cyc()
            meter.tick(board.SERVICE_BLOCKS * 1000 // blocks_s)
            t3 = cyc()
            d = (t2 - t1 - OVH) & MASK
            note(SERVICE, d)
            d = (t3 - t2 - OVH) & MASK
            note(TICK, d)
        if b % req_every == 0:
            r = req03 if nreq & 1 == 0 else req04
            nreq += 1
            t0 = cyc()
            micropython.heap_lock()
            try:
                meter.modbus(r, len(r))
            finally:
                micropython.heap_unlock()
            d = (cyc() - t0 - OVH) & MASK
            note(MODBUS, d)
        brd.wdt.feed()
        # the board's own panel pass (pins, the LCD drawn and sent over SPI1 twice a second) and its Modbus and
        # console checks, as Board.step() does them
        t0 = cyc()
        brd.panel(b + 1)
        if (b + 1) % board.CONSOLE_BLOCKS == 0:
            brd.console.poll()
        asm = brd._asm
        if brd._uart_any() or asm.n or asm.bad:
            brd.port()
        d = (cyc() - t0 - OVH) & MASK
        note(LCD if (b + 1) % board.LCD_BLOCKS < board.LCD_STEPS else PANEL, d)
        if b % board.SERVICE_BLOCKS == 0 or b % board.LCD_BLOCKS == 1:
            # the lowest free heap, after the calls that may allocate (feed and Modbus run heap-locked);
            # not after every block: gc.mem_free() walks the whole allocation table (~0.6 M cycles here)
            f = gc.mem_free()
            if f < free_min:
                free_min = f
    if s % P["key_every"] == 0:
        name = keys[nkey % len(keys)]
        nkey += 1
        t0 = cyc()
        meter.key(name)
        d = (cyc() - t0 - OVH) & MASK
        note(KEYS, d)
        f = gc.mem_free()
        if f < free_min:
            free_min = f
    if s % (board.GC_BLOCKS // blocks_s) == 0:
        t0 = cyc()
        gc.collect()  # board.GC_BLOCKS
        d = (cyc() - t0 - OVH) & MASK
        note(GC, d)
    f = gc.mem_free()
    if f < free_min:
        free_min = f
    total = 0
    for k in range(len(PARTS)):
        total += sec[k]
        tot[k] += sec[k] // 1000
        sec[k] = 0
    if total > cpu_max:
        cpu_max = total
    if s % 60 == 59:
        print("R progress s=%d cpu_max=%d free_min=%d" % (s + 1, cpu_max, free_min))

for k in range(len(PARTS)):
    print("R step part=%s kcycles=%d worst=%d" % (PARTS[k], tot[k], worst[k]))
print("R run seconds=%d cpu_max=%d free_min=%d requests=%d keys=%d windows=%d" % (
    seconds, cpu_max, free_min, nreq, nkey, meter.windows))

# the sampling kernel alone: the sampler fed one more second of signal (then its window is left unread)
ks = 0
for b in range(blocks_s):
    block()
    t0 = cyc()
    meter.sampler.feed(buf, BLOCK)
    ks += (cyc() - t0 - OVH) & MASK
print("R kernel cycles_per_s=%d" % ks)

# the orderly power-down at the power-fail input: everything unsaved goes to flash
t0 = cyc()
meter.power_down()
print("R powerfail cycles=%d" % ((cyc() - t0 - OVH) & MASK))
print("R lcd_text %r" % meter.lcd_text()[:60])
print("R adc blocks=%d crc=%d stale=%d overruns=%d lost=%d" % (ring.blocks, ring.crc_errors, ring.stale_frames,
                                                              ring.overruns, ring.frames_lost))
