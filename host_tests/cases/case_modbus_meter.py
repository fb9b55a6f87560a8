# SPDX-License-Identifier: MIT
# Modbus through the assembled Meter: every supported request answered with the heap locked, the SDM630
# FC04 profile (exact float32 bytes, gaps read 0), Wp write protection with Key, serial changes after the reply.
import micropython

import case_modbus as C
from firmware import regmap
from firmware.meter import Meter
from firmware.sdm630 import SIZE

h = C.h
adu = C.adu


def q(m, frame):
    """m.modbus() with the heap locked; the reply bytes (b'' for none)."""
    buf = bytearray(frame)
    micropython.heap_lock()
    try:
        k = m.modbus(buf, len(buf))
    finally:
        micropython.heap_unlock()
    return bytes(m.tx[:k])


def ok(m, pdu):
    r = q(m, adu(1, pdu))
    assert len(r) >= 5 and r[1] == pdu[0] and C.crc_ref(r[:-2]) == r[-2] | r[-1] << 8, (pdu, r)
    return r


def ex(m, pdu, code):
    assert q(m, adu(1, pdu)) == adu(1, [pdu[0] | 0x80, code]), pdu


def u16(v):
    return bytes([v >> 8, v & 0xFF])


def test_every_supported_request_heap_locked():
    m = Meter(None)
    ms = regmap.MEAS_BASE
    for pdu in (h("01 0000 0002"), h("02 0000 0002"), h("03 0000 0010"), h("03") + u16(ms) + h("007D"),
                h("04 0000 007D"), h("04 0156 0050"), h("05 0001 FF00"), h("05 0001 0000"), h("06 0008 0003"),
                h("0F 0000 0002 01 00"), h("10 0006 0002 04 0001 0001"), h("08 0000 1234"), h("08 0002 0000"),
                h("08 000A 0000"), h("08 000B 0000"), h("08 000C 0000"), h("08 000D 0000"), h("08 000E 0000"),
                h("08 000F 0000"), h("08 0010 0000"), h("08 0011 0000"), h("08 0012 0000"), h("08 0014 0000"),
                h("08 0001 0000"), h("11"), h("2B 0E 01 00"), h("2B 0E 02 00"), h("2B 0E 03 00"),
                h("2B 0E 04 05"), h("06 0030 1A0A")):
        ok(m, pdu)
    assert len(q(m, adu(1, h("04 0000 007D")))) == 255
    for pdu, code in ((h("07"), 1), (h("03 0000 007E"), 3), (h("04 0200 0001"), 2),
                      (h("03") + u16(regmap.block_end()) + h("0001"), 2),
                      (h("05 0002 FF00"), 2), (h("05 0000 1234"), 3), (h("06 0004 0063"), 3),
                      (h("06") + u16(ms) + h("0000"), 2), (h("08 0003 0000"), 1), (h("2B 0E 04 06"), 2),
                      (h("2B 0E 07 00"), 3), (h("06 0030 0001"), 3)):
        ex(m, pdu, code)
    assert q(m, adu(1, h("08 0004 0000"))) == b"" and m.slave.listen_only
    assert q(m, adu(1, h("03 0000 0001"))) == b""
    assert q(m, adu(1, h("08 0001 0000"))) == b"" and not m.slave.listen_only
    m.service()
    assert list(m.slave.counters) == [0] * 8 and m.diag.restarts == 1  # both restarts before one service()


def test_fc03_reads_zeros_in_the_gaps():
    # Unused addresses inside the map read 0 on FC03 (as on FC04), with the heap locked; writes to them and any
    # address past the map: 02 (docs/modbus.md). The reply checked byte by byte against the spec's layout.
    m = Meter(None)
    end = regmap.block_end()
    gap = regmap.CONFIG_BASE + len(regmap.CONFIG)  # the first register after the settings: unused
    clock = regmap.block("clock")[0]
    assert gap < clock and m.regs.kind[gap] == 1  # readable, not writable
    r = ok(m, h("03 0000 0078"))  # mbpoll -r 0 -c 120: settings, gap, clock, commands, info, gap
    assert r[:3] == h("01 03 F0") and len(r) == 3 + 240 + 2
    for k in range(len(regmap.CONFIG)):
        assert r[3 + 2 * k:5 + 2 * k] == u16(regmap.CONFIG[k][1]), k  # the defaults, in register order
    assert r[3 + 2 * gap:3 + 2 * clock] == bytes(2 * (clock - gap))  # the gap reads 0
    assert r[3 + 2 * 0x30:3 + 2 * 0x36] == bytes(12)  # write-only commands read 0
    ms = regmap.MEAS_END
    r = ok(m, h("03") + u16(ms - 2) + h("007D"))  # from the last measurement into the reserved rest and a gap
    assert r[2] == 250 and r[7:253] == bytes(246)
    r = ok(m, h("03") + u16(end - 125) + h("007D"))  # the last 125 registers of the map
    assert r[2] == 250
    ex(m, h("03") + u16(end - 124) + h("007D"), 2)  # one past the map
    ex(m, h("03") + u16(end) + h("0001"), 2)
    ex(m, h("06") + u16(gap) + h("0001"), 2)  # a gap is not writable
    ex(m, h("10") + u16(gap - 1) + h("0002 04 0001 0001"), 2)  # a write from a setting into the gap
    ex(m, h("10") + u16(gap) + h("0001 02 0000"), 2)
    assert m.config.get("Adr") == 1


def _f32(m, k, bits):
    i = regmap.slot(k)
    m.vals[i] = 0.0
    # the exact float from its bits, without struct (MicroPython has it, but keep the truth independent)
    from array import array
    a = array("I", [bits])
    m.vals[i] = array("f", bytes(a))[0]


def test_sdm630_profile_exact_bytes():
    m = Meter(None)
    for name, bits in (("Ua", 0x43668000), ("Ub", 0x43670000), ("Uc", 0x43678000), ("Ia", 0x40A80000),
                       ("Ib", 0x40A80000), ("Ic", 0x40B00000), ("P", 0xC4BB8000), ("F", 0x42480000),
                       ("Uab", 0x43C80000), ("THD_Ua", 0x40000000), ("THD_Ub", 0x40400000),
                       ("THD_Uc", 0x40800000), ("Phi_a", 0x41F00000), ("Phi_b", 0xC1F00000), ("Phi", 0x43160000),
                       ("PF", 0x3F000000)):
        _f32(m, name, bits)
    micropython.heap_lock()
    m.sdm.refresh()
    micropython.heap_unlock()
    # 230.5 V, 231 V, 231.5 V, 5.25 A, 5.25 A, 5.5 A
    assert q(m, adu(1, h("04 0000 000C"))) == adu(1, h("04 18 43668000 43670000 43678000 40A80000 40A80000 40B00000"))
    assert q(m, adu(1, h("04 0030 0002"))) == adu(1, h("04 04 41800000"))  # sum of line currents 16 A
    assert q(m, adu(1, h("04 0034 0002"))) == adu(1, h("04 04 C4BB8000"))  # -1500 W: export
    assert q(m, adu(1, h("04 0046 0002"))) == adu(1, h("04 04 42480000"))  # 50 Hz
    assert q(m, adu(1, h("04 00C8 0002"))) == adu(1, h("04 04 43C80000"))  # 400 V line to line
    assert q(m, adu(1, h("04 00F8 0002"))) == adu(1, h("04 04 40400000"))  # mean THD (2+3+4)/3 = 3 %
    r = q(m, adu(1, h("04 0020 000E")))  # PF 2 and 3 (0), phase angles 30, -30, 0, average volts, a gap (0)
    assert r == adu(1, h("04 1C 00000000 00000000 41F00000 C1F00000 00000000") + r[23:27] + bytes(4))
    assert q(m, adu(1, h("04 0042 0002"))) == adu(1, h("04 04 43160000"))  # total phase angle 150 degrees
    assert q(m, adu(1, h("04 00FE 0002"))) == adu(1, h("04 04 BF000000"))  # PF 0.5, sign inverted
    r = q(m, adu(1, h("04 01B0 0050")))  # 80 registers ending at the end of the bank
    assert r[:3] == h("01 04 A0") and r[3:163] == bytes(160)
    assert q(m, adu(1, h("04 01B1 0050"))) == adu(1, h("84 02"))  # one past the bank: 02
    assert SIZE == 0x200
    _f32(m, "THD_Ua", 0)  # phase A lost: its THD is not measured (reads 0); the mean is of B and C
    m.sdm.refresh()
    assert q(m, adu(1, h("04 00F8 0002"))) == adu(1, h("04 04 40600000"))  # (3 + 4) / 2 = 3.5 %


def test_sdm630_refreshed_per_window():
    m = Meter(None)
    assert m.sdm.refresh is not None
    import case_meter

    n = 400
    for j in range(4):
        m.feed(case_meter._block(j * n, n), n)
    assert m.windows >= 1
    assert bytes(m.sdm.image[0:4]) == bytes(m.regs.image[2 * regmap.MEAS_BASE:2 * regmap.MEAS_BASE + 4])


def test_write_protection():
    m = Meter(None)
    assert m.config.get("Wp") == 0  # off as shipped
    wp = regmap.config_index("Wp")
    pw = regmap.config_index("PASS")
    assert q(m, adu(1, h("03") + u16(pw) + h("0001"))) == adu(1, h("03 02 1A0A"))  # 6666 while Wp = 0
    ok(m, h("06") + u16(wp) + h("0001"))
    m.service()
    assert q(m, adu(1, h("03") + u16(pw) + h("0001"))) == adu(1, h("03 02 0000"))  # hidden
    ex(m, h("06 0004 0190"), 3)  # Un = 400: refused while locked
    ex(m, h("10 0004 0001 02 0190"), 3)
    ex(m, h("06") + u16(wp) + h("0000"), 3)
    assert q(m, adu(0, h("06 0004 0190"))) == b""  # a broadcast write is refused silently
    assert m.config.get("Un") == 220 and m.protect.refused == 4
    ok(m, h("05 0000 FF00"))  # relays are not settings: not locked
    sel = regmap.address("EV_From")
    ok(m, h("06") + u16(sel) + h("0001"))  # nor is the event log's read cursor (docs/events.md)
    assert m.journal.sel == 1 and m.protect.refused == 4
    ex(m, h("06 0030 0001"), 3)  # wrong password
    ok(m, h("06 0030 1A0A"))  # Key = 6666: open for 5 minutes
    ok(m, h("06 0004 0190"))
    assert m.config.get("Un") == 400
    ok(m, h("06") + u16(pw) + h("0000"))  # writing back the 0 it read keeps the password
    assert m.config.get("PASS") == 6666
    for s in range(299):
        m.each_second()
    ok(m, h("06 0004 00DC"))
    m.each_second()
    ex(m, h("06 0004 0190"), 3)  # 300 s later: locked again
    assert m.config.get("Un") == 220
    ok(m, h("06 0030 1A0A"))
    ok(m, h("06") + u16(pw) + h("04D2"))  # a new password 1234, then Wp off
    ok(m, h("06") + u16(wp) + h("0000"))
    m.service()
    assert q(m, adu(1, h("03") + u16(pw) + h("0001"))) == adu(1, h("03 02 04D2"))


def test_serial_change_after_the_reply():
    seen = []
    m = Meter(None, on_serial=lambda baud, data: seen.append((baud, data)))
    req = adu(1, h("10 0001 0002 04 0480 0004"))  # 115200 baud, 8E2
    assert q(m, req) == adu(1, h("10 0001 0002"))  # answered at the old settings ...
    assert seen == []
    m.service()  # ... the board switches after the reply has gone out
    assert seen == [(115200, 4)]
    ok(m, h("06 0001 0030"))  # 4800
    m.service()
    assert seen[-1] == (4800, 4)
    ex(m, h("06 0001 0031"), 3)  # 4900 is not a baud rate
    ex(m, h("06 0002 0006"), 3)  # no data format 6
    assert q(m, adu(1, h("08 0001 0000"))) == adu(1, h("08 0001 0000"))  # restart communications ...
    m.service()
    assert seen[-1] == (4800, 4) and len(seen) == 3  # ... re-initialises the port with the same settings


def _put_u64(img, reg, v):
    for i in range(8):
        img[2 * reg + i] = (v >> (8 * (7 - i))) & 0xFF


def test_sdm630_energy_and_demand_from_the_native_blocks():
    import struct

    m = Meter(None)
    base, typ, acc, rows = regmap.block("energy")
    names = [r[0] for r in rows]
    img = m.regs.image
    _put_u64(img, base + 4 * names.index("EP_imp"), 123456789)  # Wh: 123456.789 kWh
    _put_u64(img, base + 4 * names.index("EP_exp"), 1)
    _put_u64(img, base + 4 * names.index("EPb_imp"), 2500)
    _put_u64(img, base + 4 * names.index("EPb_exp"), 500)
    dbase = regmap.block("demand")[0]
    dnames = [r[0] for r in regmap.block("demand")[3]]
    k = dbase + 2 * dnames.index("MaxDmd_P")
    img[2 * k:2 * k + 4] = h("45 9C 40 00")  # 5000.0 W
    for name, b in (("Dmd_P_imp", "45 32 A0 00"), ("MaxDmd_P_imp", "45 9C 40 00"), ("Dmd_P_exp", "3F 80 00 00"),
                    ("MaxDmd_P_exp", "40 00 00 00"), ("Dmd_I_N", "3F 40 00 00"), ("MaxDmd_I_N", "3F 80 00 00")):
        k = dbase + 2 * dnames.index(name)
        img[2 * k:2 * k + 4] = h(b)
    _put_u64(img, base + 4 * names.index("ES"), 3300000)  # VAh: 3300 kVAh
    _put_u64(img, base + 4 * names.index("AH"), 15000)  # mAh: 15 Ah
    _put_u64(img, base + 4 * names.index("EQc_imp"), 1500)
    _put_u64(img, base + 4 * names.index("EQc_exp"), 250)
    micropython.heap_lock()
    m.sdm.refresh()
    micropython.heap_unlock()
    r = q(m, adu(1, h("04 0048 0004")))

    def f32(b):
        return struct.unpack(">f", b)[0]

    # 123456789 as float32 is 123456792; times float32(0.001), rounded: within one float32 step of the truth
    assert abs(f32(r[3:7]) - 123456.789) <= 123456.789 * 2 ** -23 and f32(r[7:11]) == f32(struct.pack(">f", 0.001))
    assert q(m, adu(1, h("04 0056 0002"))) == adu(1, h("04 04 459C4000"))  # maximum demand, W
    r = q(m, adu(1, h("04 0168 0002")))  # L2 total = import + export = 3 kWh
    assert abs(f32(r[3:7]) - 3.0) < 1e-6
    r = q(m, adu(1, h("04 0050 0010")))  # kVAh, Ah, power demand, its maximum, import demand and maximum, export
    want = (3300.0, 15.0, 0.0, 5000.0, 2858.0, 5000.0, 1.0, 2.0)
    for j in range(8):
        assert abs(f32(r[3 + 4 * j:7 + 4 * j]) - want[j]) <= 1e-6 * want[j], (j, r)
    assert q(m, adu(1, h("04 0068 0004"))) == adu(1, h("04 08 3F400000 3F800000"))  # neutral demand 0.75 A, 1 A
    r = q(m, adu(1, h("04 017C 0002")))  # L3 total reactive energy: 1.75 kVArh
    assert abs(f32(r[3:7]) - 1.75) < 1e-6


def _fl(v):
    import struct

    return struct.pack(">f", v)


def test_sdm630_holding_profile():
    # Prot = 1: FC03/16 answer Eastron's SDM630 holding map (float32 parameters, high word first) on the meter's
    # settings; reads heap-locked, writes converted with the settings' own range checks, back to native at 0x0100
    seen = []
    m = Meter(None, on_serial=lambda baud, data: seen.append((baud, data)), serial=0x12345678)
    prot = regmap.CONFIG_BASE + regmap.config_index("Prot")
    assert q(m, adu(1, h("03") + u16(prot) + h("0001"))) == adu(1, h("03 02 0000"))  # native by default
    assert q(m, adu(1, h("06") + u16(prot) + h("0001"))) == adu(1, h("06") + u16(prot) + h("0001"))
    assert q(m, adu(1, h("03 0000 0001"))) == adu(1, h("03 02 0001"))  # the switch waits for service()
    m.service()
    width = m.ledger.pulse.width * 1000 // 8000
    want = (_fl(0) + _fl(15) + bytes(4) + _fl(220) + _fl(5) + _fl(3) + _fl(width) + _fl(1) + bytes(4) + _fl(0) +
            _fl(1) + bytes(4) + _fl(6666) + bytes(4) + _fl(2) + bytes(4) * 3 + _fl(3300))
    # demand time, period 15 min, -, 220 V, 5 A, 3P4W, pulse width, KPPA open, -, 8N1, node 1, -, password, -,
    # 9600 baud (code 2), -, -, -, rated system power 3 x 220 x 5 W: sdm_modbus reads 0x0000..0x0025 at once
    assert q(m, adu(1, h("03 0000 0026"))) == adu(1, h("03 4C") + want)
    assert q(m, adu(1, h("03 0056 0002"))) == adu(1, h("03 04") + _fl(2))  # pulse energy type: total active
    assert q(m, adu(1, h("03 FC00 0002"))) == adu(1, h("03 04 12345678"))  # serial number, uint32
    assert q(m, adu(1, h("03 F910 0002"))) == adu(1, h("03 04") + _fl(-1))  # 3200 imp/kWh: no divisor code
    assert q(m, adu(1, h("03 0100 0002"))) == adu(1, h("03 04") + _fl(1))  # Prot
    assert q(m, adu(1, h("03 00C0 0042"))) == adu(1, h("03 84") + bytes(128) + _fl(1))  # gaps: 0
    for pdu in (h("03 0102 0001"), h("03 0101 0002"), h("03 F90F 0002"), h("03 F912 0001"), h("03 FC01 0002"),
                h("03 2000 0001")):
        ex(m, pdu, 2)  # beyond the map: 02
    w = h("10 0014 0002 04") + _fl(5)
    assert q(m, adu(1, w)) == adu(1, h("10 0014 0002"))
    m.service()
    assert m.config.get("Adr") == 5 and q(m, adu(1, h("03 0014 0002"))) == b""  # now at address 5
    assert q(m, adu(5, h("03 0014 0002"))) == adu(5, h("03 04") + _fl(5))
    m.set("Adr", 1)
    for addr, v, name, got in ((0x0002, 30, "DM_P", 30), (0x000A, 2, "SYSS", 1), (0x0012, 2, "dATA", 2),
                               (0x001C, 3, "baud", 192), (0x0018, 1234, "PASS", 1234), (0x000A, 3, "SYSS", 0),
                               (0x000C, width, None, None), (0x0056, 2, None, None), (0xF910, 0, "Pulse", 1000)):
        ok(m, h("10") + u16(addr) + h("0002 04") + _fl(v))
        if name:
            assert m.config.get(name) == got, (name, m.config.get(name))
    m.service()
    assert seen[-1] == (19200, 2)
    assert q(m, adu(1, h("03 F910 0002"))) == adu(1, h("03 04") + _fl(0))
    for addr, v in ((0x0002, 0), (0x0002, 7.5), (0x0002, 61), (0x000A, 1), (0x0012, 4), (0x0014, 248),
                    (0x001C, 8), (0x000C, width + 1), (0x0056, 1), (0xF910, 1), (0x0100, 2), (0x0018, 10000)):
        ex(m, h("10") + u16(addr) + h("0002 04") + _fl(v), 3)  # no such setting or out of the meter's range
    ex(m, h("06 0014 0003"), 3)  # half a float
    ex(m, h("10 0012 0004 08") + _fl(1) + _fl(1), 3)  # one parameter per request, as Eastron's meters
    ex(m, h("10 0006 0002 04") + _fl(230), 2)  # system voltage: read-only
    ex(m, h("10 0010 0002 04") + _fl(1), 2)  # an unused address
    assert m.config.get("DM_P") == 30 and m.config.get("Adr") == 1
    # write protection: the password unlocks through KPPA (0x000E) as through Key natively
    m.set("Wp", 1)
    assert q(m, adu(1, h("03 000E 0002"))) == adu(1, h("03 04") + _fl(0))  # locked
    assert q(m, adu(1, h("03 0018 0002"))) == adu(1, h("03 04") + _fl(0))  # password hidden
    ex(m, h("10 0014 0002 04") + _fl(9), 3)
    ex(m, h("10 000E 0002 04") + _fl(1111), 3)
    ok(m, h("10 000E 0002 04") + _fl(1234))
    assert q(m, adu(1, h("03 000E 0002"))) == adu(1, h("03 04") + _fl(1))
    ok(m, h("10 0018 0002 04") + _fl(0))  # writing back the 0 it read keeps the password
    assert m.config.get("PASS") == 1234
    m.set("Wp", 0)
    # back to the native map over Modbus: Prot at 0x0100
    ok(m, h("10 0100 0002 04") + _fl(0))
    m.service()
    assert q(m, adu(1, h("03 0000 0001"))) == adu(1, h("03 02 0001")) and m.config.get("Prot") == 0


def test_sdm630_holding_from_the_panel_setting():
    m = Meter(None)
    assert "Prot" in m.config.names and m.set("Prot", 1) and not m.set("Prot", 2)
    assert q(m, adu(1, h("03 0014 0002"))) == adu(1, h("03 04") + _fl(1))  # the SDM630 map: node 1
    assert m.set("Prot", 0)
    assert q(m, adu(1, h("03 0000 0001"))) == adu(1, h("03 02 0001"))
