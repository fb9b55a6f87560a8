# The simulator's rp2040 runtime (python -m tools.sim --runtime rp2040): the meter's UF2 on the emulated RP2040 in
# device mode (tools/emu/device.mjs, tools/simchip.py). READY <pty> only once the chip answered Modbus; pymodbus
# reads and writes on that pty; the flash survives a restart in --state-dir; quit powers down in order.
# Marked rp2040 (pytest -m rp2040 selects them, -m "not rp2040" leaves them out); about a minute.
import json

import pytest
from pymodbus.client import ModbusSerialClient

from chip import toolchain
from simproc import Sim

pytestmark = pytest.mark.rp2040

BLT = 8  # holding register of the backlight time (CONFIG_BASE + 8): harmless to change, kept in the flash store


def client(sim):
    c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=10, retries=2)
    assert c.connect()
    return c


def read(c, address, count=1):
    r = c.read_holding_registers(address, count=count, device_id=1)
    assert not r.isError(), r
    return r.registers


def test_modbus_state_and_flash_across_restarts(tmp_path):
    toolchain()
    state = tmp_path / "state"
    sim = Sim(tmp_path, runtime="rp2040", speed="max", state_dir=state)
    try:
        c = client(sim)
        assert read(c, 0, 3)[0] == 1  # Adr
        old = read(c, BLT)[0]
        new = 7 if old != 7 else 9
        assert not c.write_register(BLT, new, device_id=1).isError()
        assert read(c, BLT)[0] == new
        c.close()
        s = sim.state()
        assert s["sim"]["runtime"] == "rp2040"
        assert s["cycles"] > 0 and 0.0 <= s["cpu_load"] <= 1.0
        assert s["chip"]["uart"]["frames_tx"] >= 3
        assert (state / "flash.bin").stat().st_size == 1408 * 1024
    finally:
        sim.stop()
    assert sim.p.returncode is not None
    # the second start reads what the first one's chip wrote to its flash
    sim = Sim(tmp_path, runtime="rp2040", speed="max", state_dir=state)
    try:
        c = client(sim)
        assert read(c, BLT)[0] == new
        c.close()
    finally:
        sim.stop()


def test_quit_is_an_orderly_power_down(tmp_path):
    toolchain()
    sim = Sim(tmp_path, runtime="rp2040", speed="max")
    s = sim.state()
    sim.cmd("quit")
    rc = sim.p.wait(60)
    if s.get("console") == "no answer":
        pytest.xfail("this image's board.run() has no service console: no power-fail save (%s)" % json.dumps(s)[:200])
    assert rc == 0
