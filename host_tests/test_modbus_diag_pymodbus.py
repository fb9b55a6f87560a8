# SPDX-License-Identifier: MIT
# FC08, FC17 and FC43 of the assembled meter, with requests built and replies decoded by pymodbus 3.16 (an
# independent implementation of the Application Protocol), plus SDM630 floats decoded with struct.
import struct

from pymodbus.framer import FramerRTU
from pymodbus.pdu import DecodePDU
from pymodbus.pdu import diag_message as D
from pymodbus.pdu import mei_message as M
from pymodbus.pdu import other_message as O
from pymodbus.pdu import register_message as R

from firmware import regmap
from firmware.meter import Meter
from firmware.modbus.ident import OBJECTS

CLIENT = FramerRTU(DecodePDU(False))


def ask(m, req):
    frame = bytearray(CLIENT.buildFrame(req))
    k = m.modbus(frame, len(frame))
    m.service()
    if k == 0:
        return None
    used, pdu = CLIENT.handleFrame(bytes(m.tx[:k]), 0, 0)
    assert used == k and pdu is not None, bytes(m.tx[:k]).hex(" ")
    return pdu


def test_device_identification_basic_regular_individual():
    m = Meter(None)
    r = ask(m, M.ReadDeviceInformationRequest(read_code=1, object_id=0, dev_id=1))
    assert r.conformity == 0x82 and r.more_follows == 0 and r.number_of_objects == 3
    assert r.information == {k: OBJECTS[k].encode() for k in range(3)}
    r = ask(m, M.ReadDeviceInformationRequest(read_code=2, object_id=0, dev_id=1))
    assert r.information == {k: OBJECTS[k].encode() for k in range(6)}
    r = ask(m, M.ReadDeviceInformationRequest(read_code=4, object_id=4, dev_id=1))
    assert r.information == {4: OBJECTS[4].encode()} and r.number_of_objects == 1
    r = ask(m, M.ReadDeviceInformationRequest(read_code=4, object_id=9, dev_id=1))
    assert r.function_code == 0xAB and r.exception_code == 2


def test_report_server_id():
    m = Meter(None)
    r = ask(m, O.ReportDeviceIdRequest(dev_id=1))
    assert r.function_code == 0x11 and r.identifier[:2] == b"\x35\xff" and b"KPM53" in r.identifier


def test_diagnostics_with_pymodbus():
    m = Meter(None)
    r = ask(m, D.ReturnQueryDataRequest(message=0xA537, dev_id=1))
    assert r.sub_function_code == 0 and r.message == b"\xa5\x37"
    ask(m, R.ReadHoldingRegistersRequest(address=0x7000, count=1, dev_id=1))  # 02: past the map -> exception
    assert ask(m, D.ReturnBusExceptionErrorCountRequest(dev_id=1)).message == 1
    assert ask(m, D.ReturnBusMessageCountRequest(dev_id=1)).message == 4
    assert ask(m, D.ReturnDeviceMessageCountRequest(dev_id=1)).message == 5
    assert ask(m, D.ReturnBusCommunicationErrorCountRequest(dev_id=1)).message == 0
    assert ask(m, D.ClearCountersRequest(dev_id=1)).sub_function_code == 0x0A
    assert ask(m, D.ReturnBusMessageCountRequest(dev_id=1)).message == 1
    assert ask(m, D.ForceListenOnlyModeRequest(dev_id=1)) is None and m.slave.listen_only
    assert ask(m, R.ReadHoldingRegistersRequest(address=0, count=1, dev_id=1)) is None
    assert ask(m, D.RestartCommunicationsOptionRequest(dev_id=1)) is None and not m.slave.listen_only
    assert ask(m, D.ReturnBusMessageCountRequest(dev_id=1)).message == 1  # the restart cleared them
    r = ask(m, D.RestartCommunicationsOptionRequest(dev_id=1))
    assert r.sub_function_code == 1


def test_sdm630_floats_with_pymodbus():
    m = Meter(None)
    for name, v in (("Ua", 229.75), ("Ia", 12.5), ("P", 8250.0), ("F", 49.98)):
        m.vals[regmap.slot(name)] = v
    m.sdm.refresh()
    r = ask(m, R.ReadInputRegistersRequest(address=0, count=80, dev_id=1))  # one block, across the gaps
    regs = r.registers
    assert len(regs) == 80

    def f(a):
        return struct.unpack(">f", struct.pack(">HH", regs[a], regs[a + 1]))[0]

    assert f(0x00) == 229.75 and f(0x06) == 12.5 and f(0x34) == 8250.0
    assert abs(f(0x46) - 49.98) < 1e-5 and f(0x24) == 0.0 and regs[0x2C] == 0
