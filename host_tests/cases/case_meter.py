# SPDX-License-Identifier: MIT
# The assembled meter: samples in, float32 registers out over Modbus, with the heap locked on the hot paths.
import math

import micropython

from firmware import regmap
from firmware.meter import Meter
from rtu_ref import frame as _crc
from signals import balanced_block as _block
from statedir import fresh



def _floats(reply, first, count):
    import struct

    return [struct.unpack(">f", bytes(reply[3 + 4 * j:7 + 4 * j]))[0] for j in range(first, first + count)]


def test_feed_and_fc03_125_registers_heap_locked():
    m = Meter(None)
    n = 400
    blocks = [_block(j * n, n) for j in range(4)]
    for j in range(8):  # 400 ms to settle the frequency tracker, then one locked second
        m.feed(blocks[j % 4], n)
    req = bytearray(_crc(b"\x01\x03\x01\x00\x00\x7d"))
    micropython.heap_lock()
    try:
        for j in range(20):
            m.feed(blocks[j % 4], n)
        r = m.modbus(req, len(req))
    finally:
        micropython.heap_unlock()
    assert r == 5 + 250 and m.tx[0] == 1 and m.tx[1] == 3 and m.tx[2] == 250
    assert bytes(m.tx[r - 2:r]) == _crc(bytes(m.tx[:r - 2]))[-2:]
    assert m.windows >= 5
    v = _floats(m.tx, 0, regmap.N_MEAS)
    ua, ia, pa, qa, f = v[regmap.slot("Ua")], v[regmap.slot("Ia")], v[regmap.slot("Pa")], v[regmap.slot("Qa")], \
        v[regmap.slot("F")]
    assert abs(ua / 220.0 - 1) < 0.002 and abs(ia / 5.0 - 1) < 0.002
    assert abs(pa / (1100 * math.cos(math.pi / 6)) - 1) < 0.002 and abs(qa / 550.0 - 1) < 0.002
    assert abs(f - 50.0) < 0.01
    assert abs(v[regmap.slot("Uab")] / (220 * math.sqrt(3)) - 1) < 0.002


def test_settings_take_effect_after_reply():
    m = Meter(None)
    req = bytearray(_crc(b"\x01\x06\x00\x00\x00\x07"))  # Adr = 7
    r = m.modbus(req, len(req))
    assert bytes(m.tx[:r]) == bytes(req)  # the reply still comes from address 1
    m.service()
    assert m.slave.address == 7
    req = bytearray(_crc(b"\x01\x03\x00\x00\x00\x01"))
    assert m.modbus(req, len(req)) == 0


def test_ratios_scale_to_primary():
    m = Meter(None)
    assert m.set("Pt_U", 100) and m.set("Ct_I", 80) and not m.set("Ct_I", 0)
    n = 400
    for j in range(12):
        m.feed(_block(j * n, n), n)
    assert abs(m.vals[regmap.slot("Ua")] / 22000.0 - 1) < 0.002
    assert abs(m.vals[regmap.slot("P")] / (3 * 220 * 5 * 8000 * math.cos(math.pi / 6)) - 1) < 0.002


def test_info_registers_carry_version_and_date():
    from firmware import version

    m = Meter(None)
    req = bytearray(_crc(b"\x01\x03\x00\x40\x00\x04"))  # Ver, Ver_D: uint32 each, high word first
    r = m.modbus(req, len(req))
    assert r == 5 + 8
    ver = (m.tx[3] << 24) | (m.tx[4] << 16) | (m.tx[5] << 8) | m.tx[6]
    date = (m.tx[7] << 24) | (m.tx[8] << 16) | (m.tx[9] << 8) | m.tx[10]
    assert ver == version.VERSION == 100 and date == version.DATE
    assert 20260101 <= date <= 20991231


def test_gap_keeps_time_and_invents_no_energy():
    """Meter.gap (a block the ADC lost): the clock and the pulse timers go on, the window in progress is dropped,
    metering resumes; the energy is that of the samples seen (two meters: one fed a gap, one fed everything)."""
    n = 400
    blocks = [_block(j * n, n) for j in range(4)]
    whole, gappy = Meter(None), Meter(None)
    for j in range(40):  # 2 s
        whole.feed(blocks[j % 4], n)
        if j == 20:
            micropython.heap_lock()
            try:
                gappy.gap(n)  # 50 ms lost: nothing allocated
            finally:
                micropython.heap_unlock()
        else:
            gappy.feed(blocks[j % 4], n)
    whole.settle()
    gappy.settle()
    assert gappy.gaps == 1 and gappy.time_s() == whole.time_s() == 2.0
    gappy.service()
    g = regmap.block("info")[0] + 2 * 3  # INFO Gaps, uint32 high word first: the count over Modbus
    img = gappy.regs.image
    assert (img[2 * g], img[2 * g + 1], img[2 * g + 2], img[2 * g + 3]) == (0, 0, 0, 1)
    assert gappy.windows >= whole.windows - 2  # the dropped window, then metering as before
    from firmware import energy, limbs

    def wh(m):  # EP_imp with its fraction (energy.wh() rounds down to whole Wh)
        return limbs.to_int(m.ledger.energy.acc, 0, energy.NL) / (1 << energy.FRAC)

    e_whole, e_gappy = wh(whole), wh(gappy)
    # the gap's 50 ms and the dropped window's (<= 240 ms) of 2858 W are missing; nothing is added
    assert e_whole - 0.30 * 2858 / 3600 <= e_gappy < e_whole - 0.04 * 2858 / 3600, (e_whole, e_gappy)


def test_small_blocks_make_the_registers_of_whole_ones():
    """A board's 80-sample blocks (a closed window processed in three stages over the next three calls: metering's
    two halves, then energy, registers, max/min, demand) and the sim's 400-sample blocks (each window at once) give
    the same register image, bit for bit."""
    whole, staged = Meter(None), Meter(None)
    for j in range(48):  # 2.4 s
        whole.feed(_block(400 * j, 400), 400)
    for j in range(240):
        staged.feed(_block(80 * j, 80), 80)
    whole.settle()
    staged.settle()
    assert staged.windows == whole.windows >= 10 and staged.time_s() == whole.time_s() == 2.4
    a, b = bytes(whole.regs.image), bytes(staged.regs.image)
    diff = [k // 2 for k in range(len(a)) if a[k] != b[k]]
    assert not diff, "registers differ: " + " ".join("0x%04X" % r for r in diff[:8])


def test_a_burst_of_settings_is_applied_saved_and_logged_once_by_service():
    """Meter.set(name, value, now=False) holds a setting like a master's register write: the next service()
    applies the burst once, saves it in one record and logs each change with the source that made it (the panel,
    though a Modbus request came in between); a power-fail warning before that service saves and logs it too."""
    from firmware import events as ev

    d = fresh("/tmp/kpm53_case_meter_burst")
    m = Meter(d)
    w0 = m.store.writes
    pt = regmap.config_index("Pt_U")  # Ct_I is the next row
    assert m.set("Pt_U", 100, now=False) and m.set("Ct_I", 40, now=False) and not m.set("Ct_I", 0, now=False)
    req = bytearray(_crc(b"\x01\x03\x00\x06\x00\x02"))  # Pt_U, Ct_I
    assert m.modbus(req, len(req)) == 9 and bytes(m.tx[3:7]) == b"\x00\x01\x00\x01"  # not applied yet
    assert m.store.writes == w0 and m.journal.log.get(0)[3] == ev.POWER_UP
    m.service()
    assert m.modbus(req, len(req)) == 9 and bytes(m.tx[3:7]) == b"\x00\x64\x00\x28"
    assert m.store.writes == w0 + 1  # both in one record
    log = m.journal.log
    assert log.get(1)[3:7] == (ev.SETTING, pt, 0, 100.0) and log.get(0)[3:7] == (ev.SETTING, pt + 1, 0, 40.0)
    assert m.set("Pt_U", 7, now=False)
    m.power_down()  # the supply fails before the next service()
    m.store.dev.close()
    m.journal.log.dev.close()
    again = Meter(d)
    log = again.journal.log
    assert again.config.get("Pt_U") == 7 and again.regs.image[2 * pt + 1] == 7
    assert [log.get(k)[3] for k in range(3)] == [ev.POWER_UP, ev.POWER_DOWN, ev.SETTING] and log.get(2)[6] == 7.0
    again.store.dev.close()
    log.dev.close()


def test_comms_sign_holds_one_second_after_a_frame():
    # manual 4.1 area 13: the communication mark lights with a frame and goes out 1 s (8000 samples) after it
    m = Meter(None)
    req = bytearray(_crc(b"\x01\x03\x00\x00\x00\x01"))
    b = _block(0, 80)
    m.feed(b, 80)
    assert m.io.comm == 0
    m.modbus(req, len(req))
    assert m.io.comm == 1
    for _ in range(99):  # 7920 samples
        m.feed(b, 80)
    assert m.io.comm == 1
    m.feed(b, 80)  # 8000
    assert m.io.comm == 0


def test_a_write_asks_for_service_and_a_read_does_not():
    # the boards call service() right after a write's reply (Meter.service_due), so a new baud rate or the event
    # window a master selected is in place before its next request (docs/modbus.md "On the device")
    m = Meter(None)
    read = bytearray(_crc(b"\x01\x03\x00\x00\x00\x01"))
    adr = regmap.CONFIG_BASE + regmap.config_index("BLt")
    write = bytearray(_crc(bytes((1, 6, adr >> 8, adr & 0xFF, 0, 5))))
    micropython.heap_lock()
    try:
        m.modbus(read, len(read))
        a = m.service_due
        m.modbus(write, len(write))
        b = m.service_due
    finally:
        micropython.heap_unlock()
    assert not a and b
    m.service()
    assert not m.service_due and m.config.get("BLt") == 5
