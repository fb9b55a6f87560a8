# SPDX-License-Identifier: MIT
# FC08 diagnostics, listen-only mode, FC17 report server ID and FC43/14 device identification: exact frames
# (spec layouts, CRC from the bitwise reference), every exception path, all under heap_lock.
import case_modbus as C
from firmware.modbus import slave as S
from firmware.modbus.diag import Diagnostics
from firmware.modbus.ident import Ident

h = C.h
adu = C.adu
call = C.call
exc = C.exc

OBJS = ("ACME", "PC-1", "V2.11", "http://x.y", "Meter", "M7")


def make():
    s = C.make()
    restarts = bytearray(1)

    def on_restart():
        restarts[0] += 1

    d = Diagnostics(s, on_restart)
    i = Ident(s, OBJS, 0x35, "hello")
    return s, d, i, restarts


def test_fc08_return_query_data_spec_example():
    s, d, i, r = make()
    req = adu(0x11, h("08 0000 A537"))  # the Application Protocol's example: echoed unchanged
    assert call(s, req) == req
    req = adu(0x11, h("08 0000 01 02 03 04 05"))  # any amount of data, odd too
    assert call(s, req) == req
    req = adu(0x11, h("08 0000"))
    assert call(s, req) == req


def test_fc08_counters():
    s, d, i, r = make()
    call(s, adu(0x11, h("03 00 00 00 01")))  # normal
    call(s, adu(0x11, h("07")))  # exception
    call(s, adu(0x12, h("03 00 00 00 01")))  # someone else's
    bad = bytearray(adu(0x11, h("03 00 00 00 01")))
    bad[-1] ^= 0xFF
    call(s, bytes(bad))  # CRC error
    call(s, adu(0, h("06 00 01 00 05")))  # broadcast: no reply
    # counters as seen when each request arrives (its own frame already counted in 0x0B and 0x0E)
    assert call(s, adu(0x11, h("08 000B 0000"))) == adu(0x11, h("08 000B 0006"))
    assert call(s, adu(0x11, h("08 000C 0000"))) == adu(0x11, h("08 000C 0001"))
    assert call(s, adu(0x11, h("08 000D 0000"))) == adu(0x11, h("08 000D 0001"))
    assert call(s, adu(0x11, h("08 000E 0000"))) == adu(0x11, h("08 000E 0007"))
    assert call(s, adu(0x11, h("08 000F 0000"))) == adu(0x11, h("08 000F 0001"))
    assert call(s, adu(0x11, h("08 0010 0000"))) == adu(0x11, h("08 0010 0000"))
    assert call(s, adu(0x11, h("08 0011 0000"))) == adu(0x11, h("08 0011 0000"))
    s.counters[S.OVERRUNS] = 0x1234
    assert call(s, adu(0x11, h("08 0012 0000"))) == adu(0x11, h("08 0012 1234"))
    assert call(s, adu(0x11, h("08 0014 0000"))) == adu(0x11, h("08 0014 0000"))
    assert s.counters[S.OVERRUNS] == 0
    assert call(s, adu(0x11, h("08 0002 0000"))) == adu(0x11, h("08 0002 0000"))  # diagnostic register
    assert call(s, adu(0x11, h("08 000A 0000"))) == adu(0x11, h("08 000A 0000"))
    assert list(s.counters) == [0] * 8
    assert call(s, adu(0x11, h("08 000B 0000"))) == adu(0x11, h("08 000B 0001"))


def test_fc08_exceptions():
    s, d, i, r = make()
    for sub in ("0003", "0013", "0015", "0100", "FFFF"):
        exc(s, h("08" + sub + "0000"), 1)  # sub-functions not served: 01
    exc(s, h("08 00"), 3)  # no room for a sub-function
    exc(s, h("08 000B 00"), 3)  # wrong length
    exc(s, h("08 000B 0000 00"), 3)
    exc(s, h("08 000B 0001"), 3)  # data must be 0000
    exc(s, h("08 0004 0001"), 3)
    exc(s, h("08 000A FF00"), 3)
    exc(s, h("08 0001 1234"), 3)  # restart: 0000 or FF00 only
    assert not s.listen_only and not d.restart_pending
    assert call(s, adu(0, h("08 0004 0000"))) == b"" and not s.listen_only  # FC08 is never broadcast


def test_fc08_restart_answers_first_then_clears():
    s, d, i, r = make()
    call(s, adu(0x11, h("07")))
    for data in ("0000", "FF00"):
        req = adu(0x11, h("08 0001" + data))
        assert call(s, req) == req
        assert s.counters[S.EXCEPTIONS] in (0, 1) and d.restart_pending
        d.service()  # the meter calls it after the reply has gone out
        assert list(s.counters) == [0] * 8 and not d.restart_pending
    assert r[0] == 2 and d.restarts == 2


def test_listen_only_mode():
    s, d, i, r = make()
    assert call(s, adu(0x11, h("08 0004 0000"))) == b"" and s.listen_only
    assert call(s, adu(0x11, h("03 00 00 00 01"))) == b""
    assert call(s, adu(0x11, h("06 00 01 00 07"))) == b"" and s.regs.reg(1) == 0  # not run either
    assert call(s, adu(0, h("06 00 01 00 07"))) == b"" and s.regs.reg(1) == 0  # nor broadcasts
    assert call(s, adu(0x11, h("05 00 01 FF 00"))) == b"" and s.bits.coils[1] == 0
    assert call(s, adu(0x11, h("08 000B 0000"))) == b""  # other FC08 sub-functions are ignored too
    assert call(s, adu(0x11, h("08 0000 1234"))) == b""
    assert call(s, adu(0x11, h("07"))) == b"" and s.counters[S.EXCEPTIONS] == 0
    assert s.counters[S.BUS_MESSAGES] == 8 and s.counters[S.NO_RESPONSE] == 8  # counted while listening
    assert call(s, adu(0, h("08 0001 0000"))) == b"" and s.listen_only  # a broadcast restart does nothing
    assert call(s, adu(0x11, h("08 0001 0000"))) == b"" and not s.listen_only  # leaves it, without a reply
    d.service()
    assert r[0] == 1 and list(s.counters) == [0] * 8
    assert call(s, adu(0x11, h("03 00 00 00 01"))) == adu(0x11, h("03 02 00 00"))


def test_fc17_report_server_id():
    s, d, i, r = make()
    # byte count, server id, run indicator FF (running), additional data
    assert call(s, adu(0x11, h("11"))) == adu(0x11, h("11 07 35 FF") + b"hello")
    exc(s, h("11 00"), 3)
    assert call(s, adu(0, h("11"))) == b""


def _objs(ids):
    out = b""
    for k in ids:
        out += bytes([k, len(OBJS[k])]) + OBJS[k].encode()
    return out


def test_fc43_basic_and_regular_stream():
    s, d, i, r = make()
    # 2B 0E code conformity(82: regular, stream + individual) more-follows next-id count objects...
    assert call(s, adu(0x11, h("2B 0E 01 00"))) == adu(0x11, h("2B 0E 01 82 00 00 03") + _objs((0, 1, 2)))
    assert call(s, adu(0x11, h("2B 0E 02 00"))) == adu(0x11, h("2B 0E 02 82 00 00 06") + _objs(range(6)))
    assert call(s, adu(0x11, h("2B 0E 02 03"))) == adu(0x11, h("2B 0E 02 82 00 00 03") + _objs((3, 4, 5)))
    assert call(s, adu(0x11, h("2B 0E 01 01"))) == adu(0x11, h("2B 0E 01 82 00 00 02") + _objs((1, 2)))
    # stream access from an object that is not there (or not in that category) starts again at 0
    assert call(s, adu(0x11, h("2B 0E 01 04"))) == adu(0x11, h("2B 0E 01 82 00 00 03") + _objs((0, 1, 2)))
    assert call(s, adu(0x11, h("2B 0E 02 80"))) == adu(0x11, h("2B 0E 02 82 00 00 06") + _objs(range(6)))
    # extended: we have no private objects, so the regular ones come back
    assert call(s, adu(0x11, h("2B 0E 03 00"))) == adu(0x11, h("2B 0E 03 82 00 00 06") + _objs(range(6)))


def test_fc43_individual_access_and_errors():
    s, d, i, r = make()
    for k in range(6):
        assert call(s, adu(0x11, h("2B 0E 04") + bytes([k]))) == adu(0x11, h("2B 0E 04 82 00 00 01") + _objs((k,)))
    exc(s, h("2B 0E 04 06"), 2)  # individual access to an object that does not exist: 02
    exc(s, h("2B 0E 04 80"), 2)
    exc(s, h("2B 0E 00 00"), 3)  # read device id code outside 1..4: 03
    exc(s, h("2B 0E 05 00"), 3)
    exc(s, h("2B 0D 01 00"), 1)  # another MEI type (CANopen): 01
    exc(s, h("2B 0E 01"), 3)  # wrong length
    exc(s, h("2B 0E 01 00 00"), 3)
    exc(s, h("2B"), 3)


def test_fc43_more_follows_when_objects_do_not_fit():
    s = C.make()
    big = ("A" * 120, "B" * 120, "C" * 20, "D", "E", "F")
    Ident(s, big)
    r = call(s, adu(0x11, h("2B 0E 02 00")))
    assert r == adu(0x11, h("2B 0E 02 82 FF 02 02") + bytes([0, 120]) + b"A" * 120 + bytes([1, 120]) + b"B" * 120)
    r = call(s, adu(0x11, h("2B 0E 02 02")))  # the master asks again from the next object
    assert r[:8] == h("11 2B 0E 02 82 00 00 04")
