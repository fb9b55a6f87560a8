# SPDX-License-Identifier: MIT
# The event log: fixed-size CRC-checked records appended to a ring of flash sectors of its own, kept
# across power cuts; the newest 128 are indexed in RAM for Modbus, the LCD and the client (docs/events.md).
import struct
from array import array

from micropython import const

from firmware.store import crc32, erased, program

REC = const(28)  # seq u32, date u32, time u32, kind u8, arg u8, src u8, 0, value f32, aux u32, CRC-32: little-endian
KEEP = const(128)  # events indexed (readable); the ring holds more until a sector is recycled
_FMT = "<IIIBBBBfI"
# kinds (u8); names for the LCD and the client
POWER_UP = const(1)  # aux: UP_* below
POWER_DOWN = const(2)  # orderly (the power-fail input, SIGTERM in the sim)
POWER_CUT = const(3)  # found at power-up: the supply went without warning; stamped with the last time saved
ALARM_ON = const(4)  # arg rule (0-7), value: the quantity when it became active
ALARM_OFF = const(5)  # arg rule, value: the quantity when it cleared
RELAY = const(6)  # arg relay (0 DO1, 1 DO2), aux: state | cause << 1 (cause 0 remote, 1 alarm, 2 mode change)
INPUT = const(7)  # arg input (0 DI1, 1 DI2), aux: state
SETTING = const(8)  # arg CONFIG row (or 64 + rule for an alarm rule), src 0 panel 1 Modbus, value the new value
CLEAR = const(9)  # arg 0 energy, 1 max/min, 2 demand, 3 over-range counters; src as SETTING
TIME_SET = const(10)  # value: seconds the clock moved (new - old, within a day; dates: 0)
DIP = const(11)  # arg phase (0-2), value: residual V (extreme), aux: duration ms; stamped with the start
SWELL = const(12)  # value: maximum V
INTERRUPTION = const(13)  # value: residual V
UP_ORDERLY = const(0)  # POWER_UP aux: the newest event was an orderly power-down
UP_CUT = const(1)  # the newest event was not a power-down: a cut (POWER_CUT logged just before)
UP_NEW = const(2)  # the log and the record store were empty: the first power-up of new flash
UP_UNKNOWN = const(3)  # the log was empty, the store was not (the log lost or erased): how it went down is unknown
# the inputs (firmware/inputflags.py), logged on entering and leaving a state, not per window
OVER_RANGE = const(14)  # arg channel (0-6 Ua Ub Uc Ia Ib Ic In), aux 1 entered / 0 left, value: its reading then
NO_VOLTAGE = const(15)  # arg phase (0-2), aux 1 entered / 0 left: current without voltage, value: the current
PHASE_SEQ = const(16)  # arg the sequence now (1 a-b-c, 2 a-c-b), aux the one before
KINDS = const(("", "PowerUp", "PowerDown", "PowerCut", "AlarmOn", "AlarmOff", "Relay", "Input", "Setting", "Clear",
         "TimeSet", "Dip", "Swell", "Interrupt", "OverRange", "NoVoltage", "PhaseSeq"))
LCD_KINDS = const(("", "Pon", "PoFF", "Pcut", "AL on", "AL oFF", "rELAY", "dI", "SEt", "cLr", "tinE", "dIP", "SWEL",
             "Int", "OVr", "no U", "SEq"))


BLOCKS = const(4)  # 16 KiB: 584 events, at least 438 kept when the oldest sector is recycled
FILE = "events.bin"


def device(state_dir):
    """The log's own flash for a state directory (a file, DIR/events.bin: a device without a raw partition for
    it; the sim board hands in a simulated NOR chip instead), or None (RAM only) for anything else."""
    if not isinstance(state_dir, str):
        return None
    from firmware.filedev import FileDev

    return FileDev(state_dir.rstrip("/") + "/" + FILE, BLOCKS)


class EventLog:
    """dev: a block device with the extended protocol (one sector per erase block, at least 2: the sim's
    events.bin, a raw partition on the Pico) or None (RAM only: lost at a cut). log() appends (not a hot path:
    one program of 28 bytes, ~1 ms; a sector erase every 146 events)."""

    def __init__(self, dev=None):
        self.dev = dev
        self.total = 0  # sequence number of the newest event (events ever logged)
        self.loc = array("H", bytes(2 * KEEP))  # slot of the k-th newest ... ring by sequence number
        self.kept = 0
        self.rec = bytearray(REC)
        if dev is None:
            self.ram = bytearray(REC * KEEP)
            self.per = KEEP
            self.nsec = 1
        else:
            self.ram = None
            self.nsec = dev.ioctl(4, 0)
            self.bs = dev.ioctl(5, 0)
            self.per = self.bs // REC
            self.align = getattr(dev, "align", 256)
            self.page = bytearray(max(self.align, 256))  # store.program() pads through it
            self.mount()
        self.slots = self.per * self.nsec

    # --- flash --------------------------------------------------------------------------------------------
    def mount(self):
        """Scan every slot: the newest intact record is the head; the newest KEEP are indexed by sequence."""
        seqs = []
        buf = bytearray(self.bs)
        for s in range(self.nsec):
            self.dev.readblocks(s, buf, 0)
            for j in range(self.per):
                o = j * REC
                if crc32(memoryview(buf)[o:o + REC - 4]) != struct.unpack_from("<I", buf, o + REC - 4)[0]:
                    continue  # torn by a cut: ignored, and never written again until its sector is erased
                seqs.append((struct.unpack_from("<I", buf, o)[0], s * self.per + j))
        seqs.sort()
        self.head = -1
        if seqs:
            self.total = seqs[-1][0]
            self.head = seqs[-1][1]
        for seq, slot in seqs[-KEEP:]:
            self.loc[seq % KEEP] = slot
        self.kept = min(len(seqs), KEEP)
        del buf, seqs

    def _next_slot(self):
        # the slot after the head; entering a new sector erases it first (its oldest events go)
        n = self.per * self.nsec
        slot = (self.head + 1) % n
        if slot % self.per == 0:
            self.dev.ioctl(6, slot // self.per)
            lost = 0
            for k in range(self.kept):  # index entries in the erased sector are gone
                if self.loc[(self.total - k) % KEEP] // self.per == slot // self.per:
                    lost = self.kept - k
                    break
            self.kept -= lost
        else:
            tmp = memoryview(self.page)[0:REC]
            self.dev.readblocks(slot // self.per, tmp, (slot % self.per) * REC)
            if not erased(tmp):  # a slot torn by a cut before the head: skip slots not erased
                self.head = slot
                return self._next_slot()
        return slot

    def log(self, kind, arg, ymd, hms, value=0.0, aux=0, src=0):
        r = self.rec
        seq = self.total + 1
        struct.pack_into(_FMT, r, 0, seq, ymd, hms, kind, arg, src, 0, value, aux)
        struct.pack_into("<I", r, REC - 4, crc32(memoryview(r)[0:REC - 4]))
        if self.ram is not None:
            slot = seq % KEEP
            self.ram[slot * REC:(slot + 1) * REC] = r
        else:
            slot = self._next_slot()
            self._program(slot, r)
            self.head = slot
        self.total = seq
        self.loc[seq % KEEP] = slot
        if self.kept < KEEP:
            self.kept += 1

    def _program(self, slot, r):
        program(self.dev, slot // self.per, (slot % self.per) * REC, r, self.align, self.page)

    # --- reading ------------------------------------------------------------------------------------------
    def raw(self, age):
        """The age-th newest event's REC bytes as stored (a buffer of the log's, valid until the next call), or
        None. Nothing is unpacked: no allocation on a device log."""
        if age < 0 or age >= self.kept:
            return None
        slot = self.loc[(self.total - age) % KEEP]
        r = self.rec
        if self.ram is not None:
            r[:] = memoryview(self.ram)[slot * REC:(slot + 1) * REC]
        else:
            self.dev.readblocks(slot // self.per, r, (slot % self.per) * REC)
        return r

    def get(self, age):
        """The age-th newest event (0 = newest) as (seq, ymd, hms, kind, arg, src, value, aux), or None."""
        r = self.raw(age)
        if r is None:
            return None
        seq, ymd, hms, kind, arg, src, _, value, aux = struct.unpack_from(_FMT, r, 0)
        return seq, ymd, hms, kind, arg, src, value, aux

    def last_kind(self):
        e = self.get(0)
        return e[3] if e is not None else 0
