# SPDX-License-Identifier: MIT
# A shared RS485 bus (tools/bus.py): 8 meters (MicroPython firmware, --speed 1) on one pty, polled by pymodbus.
# Only the addressed meter answers, an absent address gets silence, a broadcast write reaches every meter.
import time

import pytest
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusException

from conftest import MICROPYTHON
from tools.bus import Bus
from firmware import regmap

ADDRESSES = [1, 2, 5, 17, 33, 100, 200, 247]
PT_U = regmap.CONFIG_BASE + regmap.config_index("Pt_U")
ADR = regmap.CONFIG_BASE + regmap.config_index("Adr")


@pytest.fixture(scope="module")
def bus():
    b = Bus(ADDRESSES, runtime="micropython" if MICROPYTHON else "cpython", speed=1.0)
    b.start()
    try:
        yield b
    finally:
        assert b.quit()
        b.close()


def client(bus):
    c = ModbusSerialClient(bus.pty, baudrate=9600, timeout=0.5, retries=0)
    assert c.connect()
    return c


def test_only_the_addressed_meter_answers(bus):
    c = client(bus)
    try:
        out0 = bus.line.stats["frames_out"]
        for a in ADDRESSES:
            rr = c.read_holding_registers(ADR, count=1, device_id=a)
            assert not rr.isError(), (a, rr)
            assert rr.registers == [a]  # the answer came from meter a itself
        assert bus.line.stats["frames_out"] - out0 == len(ADDRESSES)  # one reply per request, no second one
        # an address nobody has: silence (the master times out), no stray reply
        with pytest.raises(ModbusException):
            c.read_holding_registers(ADR, count=1, device_id=9)
        assert bus.line.stats["frames_out"] - out0 == len(ADDRESSES)
        # the measurement block from every meter: 125 registers at once, plausible voltages (default scenario 220 V)
        t_end = time.monotonic() + 5
        for a in ADDRESSES:
            while True:
                rr = c.read_holding_registers(regmap.MEAS_BASE, count=125, device_id=a)
                assert not rr.isError(), (a, rr)
                ua = c.convert_from_registers(rr.registers[0:2], data_type=c.DATATYPE.FLOAT32)
                if ua or time.monotonic() > t_end:  # 0 until the meter's first measuring window closed
                    break
                time.sleep(0.1)
            assert abs(ua - 220.0) < 1.0, (a, ua)
    finally:
        c.close()
    st = bus.state()
    assert st["line"]["collisions"] == 0
    frames = [m["frames"] for m in st["meters"]]
    assert [m["address"] for m in st["meters"]] == ADDRESSES
    assert len(set(frames)) == 1 and frames[0] == st["line"]["frames_in"]  # every meter saw every frame


def test_broadcast_write_reaches_every_meter(bus):
    c = client(bus)
    try:
        for value in (37, 1):  # set, then back to the default
            out0 = bus.line.stats["frames_out"]
            c.write_register(PT_U, value, device_id=0, no_response_expected=True)  # returns None: no reply
            time.sleep(0.2)  # a broadcast has no reply: give every meter time to take it (next block at speed 1)
            assert bus.line.stats["frames_out"] == out0  # nobody answers a broadcast
            for a in ADDRESSES:
                rr = c.read_holding_registers(PT_U, count=1, device_id=a)
                assert not rr.isError(), (a, rr)
                assert rr.registers == [value], (a, rr.registers)
    finally:
        c.close()
    assert bus.state()["line"]["collisions"] == 0
