# SPDX-License-Identifier: MIT
# CPython cross-check of the firmware's Modbus slave against two independent masters: frames built and replies
# decoded by pymodbus (FramerRTU + PDU classes) and by umodbus; CRC against pymodbus; fuzzing with hypothesis.
import os
import random
import struct
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu import bit_message as B
from pymodbus.pdu import register_message as R
from umodbus import exceptions as UE
from umodbus.client.serial import rtu as U

from conftest import ROOT

sys.path.insert(0, os.path.join(ROOT, "host_tests", "cases"))
import case_modbus as C  # the fakes with the lead's interface
from firmware.modbus import codes
from firmware.modbus import slave as S
from firmware.modbus.crc import crc16

CLIENT = FramerRTU(DecodePDU(False))  # builds requests, decodes replies


def reply(s, frame):
    k = s.handle(frame, len(frame))
    return bytes(s.tx[:k])


def test_codes_are_the_specs_numbers():
    """firmware/modbus/codes.py against two independent masters' tables: pymodbus's request classes (function
    codes) and umodbus's exceptions (exception codes)."""
    from pymodbus.pdu import diag_message, mei_message, other_message

    assert [codes.READ_COILS, codes.READ_DISCRETE_INPUTS, codes.READ_HOLDING_REGISTERS, codes.READ_INPUT_REGISTERS,
            codes.WRITE_SINGLE_COIL, codes.WRITE_SINGLE_REGISTER, codes.DIAGNOSTICS, codes.WRITE_MULTIPLE_COILS,
            codes.WRITE_MULTIPLE_REGISTERS, codes.REPORT_SERVER_ID, codes.ENCAPSULATED_INTERFACE,
            codes.MEI_DEVICE_ID] == [
        B.ReadCoilsRequest.function_code, B.ReadDiscreteInputsRequest.function_code,
        R.ReadHoldingRegistersRequest.function_code, R.ReadInputRegistersRequest.function_code,
        B.WriteSingleCoilRequest.function_code, R.WriteSingleRegisterRequest.function_code,
        diag_message.DiagnosticBase.function_code, B.WriteMultipleCoilsRequest.function_code,
        R.WriteMultipleRegistersRequest.function_code, other_message.ReportDeviceIdRequest.function_code,
        mei_message.ReadDeviceInformationRequest.function_code,
        mei_message.ReadDeviceInformationRequest.sub_function_code]
    assert [codes.ILLEGAL_FUNCTION, codes.ILLEGAL_DATA_ADDRESS, codes.ILLEGAL_DATA_VALUE,
            codes.SERVER_DEVICE_FAILURE] == [
        UE.IllegalFunctionError.error_code, UE.IllegalDataAddressError.error_code,
        UE.IllegalDataValueError.error_code, UE.ServerDeviceFailureError.error_code]
    # the RTU frame lengths, counted from the requests a master builds: FC03 (8 bytes), FC16 of one register
    # (9 + 2 data bytes), FC17 (4), FC43/14 (7)
    assert len(U.read_holding_registers(1, 0, 1)) == codes.ADU_FIXED
    assert len(U.write_multiple_registers(1, 0, [7])) == codes.ADU_MULTIPLE + 2
    assert len(CLIENT.buildFrame(other_message.ReportDeviceIdRequest(dev_id=1))) == codes.ADU_MIN
    assert len(CLIENT.buildFrame(mei_message.ReadDeviceInformationRequest(dev_id=1, read_code=1, object_id=0))) == \
        codes.ADU_MEI_DEVICE_ID


def decode(frame):
    used, pdu = CLIENT.handleFrame(frame, 0, 0)
    assert used == len(frame) and pdu is not None, frame.hex(" ")
    return pdu


def wire_crc(data):
    c = crc16(data, 0, len(data))
    return bytes([c & 0xFF, c >> 8])


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=256))
def test_crc_matches_pymodbus(data):
    assert wire_crc(data) == FramerRTU.compute_CRC(data).to_bytes(2, "big")


# The Application Protocol's examples as pymodbus builds them, with the exact replies (Simply Modbus has the
# same frames: 11 03 00 6B 00 03 76 87 -> 11 03 06 02 2B 00 00 00 64 + CRC).
SPEC = [
    (R.ReadHoldingRegistersRequest(dev_id=0x11, address=0x6B, count=3), "11 03 00 6B 00 03 76 87",
     "11 03 06 02 2B 00 00 00 64"),
    (R.ReadInputRegistersRequest(dev_id=0x11, address=8, count=1), "11 04 00 08 00 01 B2 98", "11 04 02 00 0A"),
    (B.ReadCoilsRequest(dev_id=0x11, address=0x13, count=0x13), "11 01 00 13 00 13 8E 92", "11 01 03 CD 6B 05"),
    (B.ReadDiscreteInputsRequest(dev_id=0x11, address=0xC4, count=0x16), None, "11 02 03 AC DB 35"),
    (B.WriteSingleCoilRequest(dev_id=0x11, address=0xAC, bits=[True]), "11 05 00 AC FF 00 4E 8B",
     "11 05 00 AC FF 00"),
    (R.WriteSingleRegisterRequest(dev_id=0x11, address=1, registers=[3]), "11 06 00 01 00 03 9A 9B",
     "11 06 00 01 00 03"),
    (B.WriteMultipleCoilsRequest(dev_id=0x11, address=0x13, bits=[1, 0, 1, 1, 0, 0, 1, 1, 1, 0]),
     "11 0F 00 13 00 0A 02 CD 01 BF 0B", "11 0F 00 13 00 0A"),
    (R.WriteMultipleRegistersRequest(dev_id=0x11, address=1, registers=[0x000A, 0x0102]),
     "11 10 00 01 00 02 04 00 0A 01 02 C6 F0", "11 10 00 01 00 02"),
]


def spec_slave():
    s = C.make()
    for r, v in ((0x6B, 0x022B), (0x6C, 0), (0x6D, 0x0064)):
        s.regs.set(r, v)
    s.inregs.set(8, 10)
    for base, pattern, n in ((0x13, bytes.fromhex("CD6B05"), 19), (0xC4, bytes.fromhex("ACDB35"), 22)):
        bank = s.bits.coils if base == 0x13 else s.bits.inputs
        for i in range(n):
            bank[base + i] = (pattern[i >> 3] >> (i & 7)) & 1
    return s


@pytest.mark.parametrize("k", range(len(SPEC)))
def test_spec_examples_through_pymodbus(k):
    msg, req_hex, rsp_hex = SPEC[k]
    req = CLIENT.buildFrame(msg)
    if req_hex:
        assert req == bytes.fromhex(req_hex)
    body = bytes.fromhex(rsp_hex)
    got = reply(spec_slave(), req)
    assert got == body + FramerRTU.compute_CRC(body).to_bytes(2, "big")
    assert decode(got).function_code == msg.function_code


@settings(max_examples=150, deadline=None)
@given(st.binary(min_size=600, max_size=600), st.integers(0, 299), st.integers(1, 125))
def test_read_registers_roundtrip(image, start, count):
    s = C.make()
    s.regs.image[:] = image
    s.inregs.image[:] = image[::-1]
    for cls, bank in ((R.ReadHoldingRegistersRequest, s.regs), (R.ReadInputRegistersRequest, s.inregs)):
        got = decode(reply(s, CLIENT.buildFrame(cls(dev_id=0x11, address=start, count=count))))
        if start + count > 300:
            assert got.exception_code == 2
        else:
            want = list(struct.unpack(">%dH" % count, bytes(bank.image[2 * start:2 * (start + count)])))
            assert got.registers == want


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32), st.integers(0, 2047), st.integers(1, 2000))
def test_read_bits_roundtrip(seed, start, count):
    s = C.make()
    bits = random.Random(seed).getrandbits(2048).to_bytes(256, "little")
    s.bits.coils[:] = bytes((bits[i >> 3] >> (i & 7)) & 1 for i in range(2048))
    s.bits.inputs[:] = bytes(1 - b for b in s.bits.coils)
    for cls, bank in ((B.ReadCoilsRequest, s.bits.coils), (B.ReadDiscreteInputsRequest, s.bits.inputs)):
        raw = reply(s, CLIENT.buildFrame(cls(dev_id=0x11, address=start, count=count)))
        got = decode(raw)
        if start + count > 2048:
            assert got.exception_code == 2
            continue
        nb = (count + 7) // 8
        assert raw[2] == nb and len(got.bits) == 8 * nb
        assert got.bits[:count] == [bool(b) for b in bank[start:start + count]]
        assert not any(got.bits[count:])  # padding bits are zero


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 250), st.lists(st.integers(0, 1000), min_size=1, max_size=50),
       st.lists(st.booleans(), min_size=1, max_size=300))
def test_writes_roundtrip(start, values, coils):
    s = C.make()
    got = decode(reply(s, CLIENT.buildFrame(R.WriteMultipleRegistersRequest(dev_id=0x11, address=start,
                                                                            registers=values))))
    assert (got.address, got.count) == (start, len(values))
    assert [s.regs.reg(start + i) for i in range(len(values))] == values
    got = decode(reply(s, CLIENT.buildFrame(B.WriteMultipleCoilsRequest(dev_id=0x11, address=start, bits=coils))))
    assert (got.address, got.count) == (start, len(coils))
    assert list(s.bits.coils[start:start + len(coils)]) == [int(b) for b in coils]


def test_umodbus_master():
    s = C.make()
    s.regs.set(5, 0xBEEF)
    s.bits.inputs[3] = 1

    def ask(req):
        return U.parse_response_adu(reply(s, req), req)

    assert ask(U.read_holding_registers(0x11, 4, 3)) == [0, 0xBEEF, 0]
    assert ask(U.read_discrete_inputs(0x11, 0, 5)) == [0, 0, 0, 1, 0]
    assert ask(U.write_single_register(0x11, 7, 999)) == 999 and s.regs.reg(7) == 999
    assert ask(U.write_multiple_registers(0x11, 10, [1, 2, 3])) == 3 and s.regs.reg(12) == 3
    assert ask(U.write_single_coil(0x11, 9, 1)) == 1 and s.bits.coils[9] == 1
    assert ask(U.write_multiple_coils(0x11, 0, [1, 0, 1])) == 3 and list(s.bits.coils[:3]) == [1, 0, 1]
    assert ask(U.read_coils(0x11, 0, 10)) == [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]
    with pytest.raises(UE.IllegalDataAddressError):
        ask(U.read_holding_registers(0x11, 299, 2))
    with pytest.raises(UE.IllegalDataValueError):
        ask(U.write_single_register(0x11, 7, 1001))
    s.regs.fail = 7
    with pytest.raises(UE.ServerDeviceFailureError):
        ask(U.write_single_register(0x11, 7, 1))
    req = bytes([0x11, 0x07])
    req += wire_crc(req)
    with pytest.raises(UE.IllegalFunctionError):
        U.raise_for_exception_adu(reply(s, req))


@settings(max_examples=500, deadline=None)
@given(st.sampled_from([0, 0x11, 0x11, 0x11, 0x12]),
       st.one_of(st.sampled_from([1, 2, 3, 4, 5, 6, 15, 16]), st.integers(0, 255)),
       st.binary(min_size=0, max_size=252))
def test_fuzz_valid_crc(addr, fc, body):
    s = C.make()
    frame = bytes([addr, fc]) + body
    frame += wire_crc(frame)
    got = reply(s, frame)
    if addr != 0x11:
        assert got == b""
        return
    assert len(got) >= 5 and got[0] == 0x11 and wire_crc(got[:-2]) == got[-2:]
    if got[1] & 0x80:
        assert got[1] == fc | 0x80 and got[2] in (1, 2, 3, 4) and len(got) == 5
    else:
        assert got[1] == fc
        assert decode(got).function_code == fc


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=0, max_size=256))
def test_fuzz_garbage(data):
    s = C.make()
    got = reply(s, data)
    if got:  # only when the garbage happens to carry a valid CRC
        assert data[0] == 0x11 and wire_crc(data[:-2]) == data[-2:]
    assert s.counters[S.BUS_MESSAGES] == 1
