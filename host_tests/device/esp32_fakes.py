# SPDX-License-Identifier: MIT
# Unix-port guest: the ESP32 board's own drivers (boards/esp32/*) against fakes that keep the chips' rules.
# argv[1]: the I2S stream file (host_tests/test_esp32_board.py builds it), argv[2]: a scratch directory.
# Prints one line per check; the host test reads them. Any failed check raises (non-zero exit).
import sys
from array import array

sys.path.insert(0, ".")

import micropython

from boards.esp32 import adc_i2s, board, keys_ladder
from boards.pico.ads131m08 import Ads131m08
from boards.sim import norflash
from firmware.adc_frames import FRAME, WORD, crc16


class FakeI2s:
    """machine.I2S in RX mode as the ESP32 port has it: readinto() blocks unless irq() set a handler; with one it
    returns at once and the driver fills the buffer in the background, then calls the handler (a soft IRQ: here
    pump() calls it, as micropython.schedule would between bytecodes). One buffer pending at a time; its length a
    whole number of stereo 32-bit frames (8 bytes)."""

    def __init__(self, stream):
        self.stream = memoryview(stream)
        self.at = 0  # stream bytes delivered
        self.handler = None
        self.buf = None
        self.fill = 0
        self.dropped = 0

    def irq(self, handler):
        self.handler = handler

    def readinto(self, buf):
        if self.handler is None:
            raise RuntimeError("blocking readinto: the board must set irq() first")
        if self.buf is not None:
            raise RuntimeError("readinto while a buffer is pending")
        if len(buf) % 8:
            raise ValueError("not a whole number of stereo 32-bit frames")
        self.buf = buf
        self.fill = 0
        return 0

    def drop(self, n):
        """The driver's DMA ring overflowed: n bytes of stream never reach Python."""
        self.at += n
        self.dropped += n

    def pump(self, n):
        """n more stream bytes arrive by DMA."""
        while n > 0 and self.at < len(self.stream):
            if self.buf is None:
                raise RuntimeError("no buffer pending: data lost")
            k = min(n, len(self.buf) - self.fill, len(self.stream) - self.at)
            self.buf[self.fill:self.fill + k] = self.stream[self.at:self.at + k]
            self.fill += k
            self.at += k
            n -= k
            if self.fill == len(self.buf):
                self.buf = None
                self.handler(self)

    def deinit(self):
        self.buf = None


def stream_checks(path):
    with open(path, "rb") as f:
        stream = f.read()
    i2s = FakeI2s(stream)
    ring = adc_i2s.AdcI2s(i2s, 80)
    ring.filled = ring.tslot = 0xFFFFF - 3  # the slot counters wrap modulo 2**20 four slots in
    ring.start()
    out = array("i", bytes(4 * 8 * 80))
    k = 0
    while i2s.at < len(stream):
        if k == 60:
            i2s.drop(2048)  # one IDF DMA buffer (256 stereo frames) dropped by the driver: the frames slip, CRC finds it
        if k == 120:
            i2s.pump(adc_i2s.SLOT * adc_i2s.SLOTS)  # Python late by a whole ring: lapped
        i2s.pump(2560)  # 10 ms of stream at 2.048 MHz
        k += 1
        while True:
            micropython.heap_lock()
            try:
                r = ring.poll(out)
            finally:
                micropython.heap_unlock()
            if r < 0:
                break
            s = 0
            for v in out:
                s += v
            print("B", r, " ".join(str(out[c]) for c in range(8)), s)
    assert ring.filled < 1000, ring.filled  # wrapped
    print("C crc=%d stale=%d overruns=%d lost=%d blocks=%d aligns=%d" % (
        ring.crc_errors, ring.stale_frames, ring.overruns, ring.frames_lost, ring.blocks, ring.aligns))


class FakeAdcChip:
    """The ADS131M08's command side over SPI, as the datasheet (SBAS950 8.5.1) has it: a response word comes in the
    frame after its command; RESET answers FF28h, RREG the register, WREG 4000h | address; with MODE.RX_CRC_EN a
    command whose input CRC is wrong is ignored. Registers after reset: ID 2800h, MODE 0510h, CLOCK FF0Eh."""

    def __init__(self):
        self.regs = {0: 0x2810, 1: 0x0500, 2: 0x0510, 3: 0xFF0E, 4: 0, 5: 0}
        self.resp = 0xFF28  # power-up
        self.cs = 1
        self.ignored = 0

    def write_readinto(self, tx, rx):
        if self.cs != 0:
            raise RuntimeError("SPI frame with CS high")
        for i in range(len(rx)):
            rx[i] = 0
        rx[0] = self.resp >> 8
        rx[1] = self.resp & 0xFF
        cmd = (tx[0] << 8) | tx[1]
        n = 1 + (1 if cmd & 0xE000 == 0x6000 else 0)
        if self.regs[2] & 0x1000:
            c = crc16(tx, WORD * n)
            if (tx[WORD * n] << 8) | tx[WORD * n + 1] != c:
                self.ignored += 1
                self.last_ignored = cmd
                self.resp = 0x0500 | 0x1000  # STATUS with CRC_ERR
                return
        if cmd == 0x0011:
            self.regs[2] = 0x0510
            self.resp = 0xFF28
        elif cmd & 0xE000 == 0xA000:
            self.resp = self.regs[(cmd >> 7) & 0x3F]
        elif cmd & 0xE000 == 0x6000:
            a = (cmd >> 7) & 0x3F
            self.regs[a] = (tx[3] << 8) | tx[4]
            self.resp = 0x4000 | (a << 7)
        else:
            self.resp = 0x0500


class FakePin:
    def __init__(self, chip=None, v=1):
        self.chip = chip
        self.v = v

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v
        if self.chip is not None:
            self.chip.cs = v


def adc_setup_checks():
    chip = FakeAdcChip()
    chip.regs[2] = 0x1110  # a machine.reset() left input CRC on: the RESET command must carry its CRC
    drv = Ads131m08(chip, FakePin(chip), FakePin(), None)
    drv.setup()
    # one command ignored: the NULL that reads WREG MODE's acknowledge goes out without a CRC (the driver turns its
    # CRC on after that frame, the chip checks from the WREG on); a NULL does nothing, so nothing is lost
    assert chip.regs[2] == 0x1110 and chip.regs[3] == 0xFF0A, chip.regs
    assert chip.ignored == 1 and chip.last_ignored == 0, (chip.ignored, chip.last_ignored)
    bad = FakeAdcChip()
    bad.regs[0] = 0x2410  # a 4-channel part
    try:
        Ads131m08(bad, FakePin(bad), FakePin(), None).setup()
        raise AssertionError("ID 2410h accepted")
    except OSError:
        pass
    print("ADC setup ok mode=%04X clock=%04X" % (chip.regs[2], chip.regs[3]))


class FakeAdc:
    """machine.ADC at 11 dB on the ladder pin: the key's level plus noise (+-noise mV, a fixed LCG), and while
    a contact bounces (the first `bounce` ms after a change) readings anywhere between 0 and 3100 mV."""
    LEVEL = (0, 595, 1055, 1650, 2269, 3100)

    def __init__(self, noise):
        self.key = 5
        self.noise = noise
        self.seed = 12345
        self.bounce_until = -1
        self.now = 0

    def rnd(self, n):
        self.seed = (self.seed * 1103515245 + 12345) & 0x3FFFFFFF
        return self.seed % n

    def set(self, key, bounce):
        self.key = key
        self.bounce_until = self.now + bounce

    def read_uv(self):
        if self.now < self.bounce_until:
            return self.rnd(3100) * 1000
        mv = self.LEVEL[self.key] + self.rnd(2 * self.noise + 1) - self.noise
        return max(0, min(3100, mv)) * 1000


def keys_checks():
    for mv, want in ((0, 0), (299, 0), (300, 1), (595, 1), (1055, 2), (1650, 3), (2269, 4), (3100, 5)):
        assert keys_ladder.level(mv) == want, (mv, want)
    for lvl in range(5):  # every level holds its key within +-200 mV
        for d in (-200, 200):
            assert keys_ladder.level(max(0, FakeAdc.LEVEL[lvl] + d)) == lvl, (lvl, d)
    adc = FakeAdc(60)
    keys = keys_ladder.KeysLadder(adc)
    events = []

    def run(ms, editing):
        for _ in range(ms // 5):
            adc.now += 5
            micropython.heap_lock()
            try:
                k = keys.poll(adc.now, editing)
            finally:
                micropython.heap_unlock()
            if k is not None:
                events.append((adc.now, k))

    for key in range(5):  # each key tapped 150 ms with 10 ms of bounce either side
        adc.set(key, 10)
        run(150, False)
        adc.set(5, 10)
        run(150, False)
    taps = [k for _, k in events]
    assert taps == ["left", "up", "down", "right", "enter"], taps
    del events[:]
    adc.set(2, 10)  # down held 2 s while a value is edited: press, then repeats after 600 ms every 150 ms
    run(2000, True)
    adc.set(5, 10)
    run(100, True)
    gaps = [events[i][0] - events[i - 1][0] for i in range(1, len(events))]
    assert [k for _, k in events] == ["down"] * len(events) and gaps[0] == 600 and set(gaps[1:]) == {150}, events
    n_edit = len(events)
    del events[:]
    adc.set(1, 10)  # up held 2 s not editing: one press, no repeats
    run(2000, False)
    assert [k for _, k in events] == ["up"], events
    adc.set(5, 0)
    run(100, False)
    del events[:]
    adc.noise = 200  # a ladder at its margins: still one clean press per tap
    for key in (4, 0, 3):
        adc.set(key, 10)
        run(150, False)
        adc.set(5, 10)
        run(150, False)
    assert [k for _, k in events] == ["enter", "left", "right"], events
    print("KEYS ok taps=5 repeats=%d" % (n_edit - 1))


class FakePartition:
    """esp32.Partition over a NOR flash model (firmware.norflash.Flash: programming only clears bits, erase by
    block): the block protocol the ESP32 port gives, extended form (readblocks/writeblocks with an offset)."""
    TYPE_DATA = 1
    table = []

    def __init__(self, label, nblocks, block_size=4096):
        self.label = label
        self.dev = norflash.Flash(nblocks, block_size)

    @classmethod
    def find(cls, type=0, subtype=255, label=None):
        return [p for p in cls.table if label is None or p.label == label]

    def readblocks(self, n, buf, off=0):
        self.dev.readblocks(n, buf, off)

    def writeblocks(self, n, buf, off=None):
        self.dev.writeblocks(n, buf, off)

    def ioctl(self, op, arg):
        return self.dev.ioctl(op, arg)


class FakeEsp32:
    Partition = FakePartition


class FakeRtc:
    def __init__(self, dt):
        self.dt = dt

    def datetime(self, dt=None):
        if dt is None:
            return self.dt
        if len(dt) != 8:
            raise ValueError("RTC.datetime takes an 8-tuple")
        self.dt = dt


def store_checks(scratch):
    FakePartition.table = []
    assert board.store_device(FakeEsp32) == "/", "no partition: the littlefs fallback"
    FakePartition.table = [FakePartition("vfs", 16), FakePartition("kpm53", 2)]
    assert board.store_device(FakeEsp32) == "/", "a partition of 2 blocks is too small"
    FakePartition.table = [FakePartition("vfs", 16), FakePartition("kpm53", 64)]
    part = board.store_device(FakeEsp32)
    assert part is FakePartition.table[1], part
    m = board.make_meter(store=part)
    rtc = FakeRtc((2026, 11, 30, 0, 12, 34, 56, 0))
    assert board.clock_from_rtc(m, rtc) and (m.clock.ymd, m.clock.hms) == (20261130, 123456)
    m.power_down()  # the supply fails: the clock is saved with the energy
    m2 = board.make_meter(store=part)  # power back, the RTC lost its time (no battery on the ESP32)
    rtc = FakeRtc((2000, 1, 1, 5, 0, 0, 3, 0))
    assert not board.clock_from_rtc(m2, rtc)
    assert (m2.clock.ymd, m2.clock.hms) == (20261130, 123456), (m2.clock.ymd, m2.clock.hms)
    assert rtc.dt == (2026, 11, 30, 0, 12, 34, 56, 0), rtc.dt
    assert m2.store.writes > 0
    FakePartition.table = [FakePartition("kpm53ev", 4)]
    ev = board.events_device(FakeEsp32)
    assert ev is FakePartition.table[0] and board.make_meter(store=part, events=ev).journal.log.dev is ev
    fb = board.make_meter(store=scratch)  # the fallback: a store file on the filesystem (firmware/filedev.py FileDev)
    assert type(fb.store.dev).__name__ in ("FileDev", "Flash"), fb.store.dev
    print("STORE ok writes=%d fallback=%s" % (m2.store.writes, type(fb.store.dev).__name__))


adc_setup_checks()
keys_checks()
store_checks(sys.argv[2])
stream_checks(sys.argv[1])
