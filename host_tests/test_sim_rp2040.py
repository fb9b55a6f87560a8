# SPDX-License-Identifier: MIT
# The simulator's rp2040 runtime (python -m tools.sim --runtime rp2040): the meter's UF2 on the emulated RP2040 in
# device mode (tools/emu/device.mjs, tools/simchip.py). READY <pty> only once the chip answered Modbus; pymodbus
# reads and writes on that pty; the flash survives a restart in --state-dir; quit powers down in order. The
# console, keys, DI, relay and pulse outputs and the power-fail input are checked with a stand-in main loop
# (host_tests/device/console_main.py, --chip-main) so they do not depend on what board.run() does yet.
# Marked rp2040 (pytest -m rp2040 selects them, -m "not rp2040" leaves them out).
import json
import os
import signal
import time

import pytest
from pymodbus.client import ModbusSerialClient

from chip import toolchain
from conftest import ROOT
from headless_sim import HeadlessSim
from tools import sim as simmod

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
    sim = HeadlessSim(tmp_path, runtime="rp2040", speed="max", state_dir=state)
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
    sim = HeadlessSim(tmp_path, runtime="rp2040", speed="max", state_dir=state)
    try:
        c = client(sim)
        assert read(c, BLT)[0] == new
        c.close()
    finally:
        sim.stop()


def test_quit_is_an_orderly_power_down(tmp_path):
    toolchain()
    sim = HeadlessSim(tmp_path, runtime="rp2040", speed="max")
    s = sim.state()
    sim.cmd("quit")
    rc = sim.p.wait(60)
    if s.get("console") == "no answer":
        pytest.xfail("this image's board.run() has no service console: no power-fail save (%s)" % json.dumps(s)[:200])
    assert rc == 0


CONSOLE_MAIN = os.path.join(ROOT, "host_tests", "device", "console_main.py")


def wait_for(fn, timeout=30):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        v = fn()
        if v:
            return v
        time.sleep(0.1)
    raise TimeoutError


def test_console_keys_inputs_outputs_power_fail(tmp_path):
    toolchain()
    logs = []
    s = simmod.Sim(runtime="rp2040", speed=None, chip_main=CONSOLE_MAIN, log=logs.append)
    s.start()
    try:
        assert any("console_main: up" in x for x in logs)  # guest prints go to the log
        assert s.submit("key up").wait(5) and s.submit("di 1 on").wait(5)

        def state():
            r = s.submit("state")
            assert r.wait(30) and r.error is None, r.error
            return json.loads(r.text)

        st = wait_for(lambda: (lambda d: d if d["keys"] == ["up"] and d["di"] == [1, 0] else None)(state()))
        assert st["sim"]["runtime"] == "rp2040" and st["heap_free"] > 100000 and st["cycles"] > 0
        for name, value in (("DO2", 1), ("PULSE", 3)):
            r = s.setting(name, value)
            assert r.wait(30) and r.error is None and r.text == "ok"
        bad = s.setting("NOPE", 1)
        assert bad.wait(30) and bad.error.startswith("firmware: unknown command")
        st = wait_for(lambda: (lambda d: d if d["sim"]["chip"]["pulses"] == [3, 0] else None)(state()))
        assert st["sim"]["chip"]["relays"] == [0, 1] and st["relays"] == [0, 1]
        r = s.submit("lcd")  # the firmware's own text of its screen, through the console
        assert r.wait(30) and r.error is None and r.text == "CONSOLE MAIN\nline 2"
        if st["chip"]["lcd_model"]:  # the glass off the LCD model (this stand-in leaves it blank): what the terminal draws
            r = s.submit("fb")
            assert r.wait(30) and r.error is None and len(bytes.fromhex(r.text)) == 1024
            assert isinstance(st["chip"]["backlight"], bool)
        # Modbus through the pty: the stand-in answers every request with exception 01
        c = ModbusSerialClient(s.pty, baudrate=9600, timeout=10, retries=1)
        assert c.connect()
        rr = c.read_holding_registers(0, count=1, device_id=1)
        c.close()
        assert rr.isError() and rr.exception_code == 1
        quit = s.submit("quit")
        assert quit.wait(30) and quit.text == "bye"
        assert s.wait_exit() == 0 and s.bye
    finally:
        s.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_signals(tmp_path, sig):
    toolchain()
    sim = HeadlessSim(tmp_path, runtime="rp2040", speed="max", extra=["--chip-main", CONSOLE_MAIN])
    node = sim.state()["sim"]["pid"]
    sim.p.send_signal(sig)
    rc = sim.p.wait(60)
    if sig == signal.SIGTERM:
        assert rc == 0  # the power-fail input, !bye, then the supply: an orderly exit
    wait_for(lambda: not os.path.exists("/proc/%d" % node) or open("/proc/%d/stat" % node).read().split()[2] == "Z",
             timeout=10)  # the emulator ends with its launcher (its stdin closes)


def test_watchdog_reset_keeps_scratch_and_flash(tmp_path):
    toolchain()
    s = simmod.Sim(runtime="rp2040", speed=None, chip_main=os.path.join(ROOT, "host_tests", "device", "wdt_main.py"),
                   log=lambda text: None, state_dir=str(tmp_path / "state"))
    s.start()
    try:
        def state():
            r = s.submit("state")
            assert r.wait(30) and r.error is None, r.error
            return json.loads(r.text)

        st = state()
        assert (st["cause"], st["boots"], st["chip"]["resets"]["watchdog"]) == (1, 1, 0)  # power-on
        r = s.setting("HANG", 1)
        assert r.wait(30) and r.text == "ok"
        st = wait_for(lambda: (lambda d: d if d.get("boots") == 2 else None)(state()))
        assert st["cause"] == 3 and st["chip"]["resets"]["watchdog"] == 1  # machine.WDT_RESET, scratch kept
        quit = s.submit("quit")
        assert quit.wait(30) and quit.text == "bye" and s.wait_exit() == 0
    finally:
        s.close()


def test_the_line_on_the_chip(tmp_path):
    """The pty in front of the emulated chip behaves like a wire too (docs/sim.md, "The line"): a frame over 256
    bytes counts one overrun in FC08 0x12 (the image's UART driver and rtu.Assembler decide, docs/modbus.md; at
    times the chip's Port also reads a short garbled frame into it: one more in 0x0B and 0x0C); a master at the wrong baud rate gets no valid answer, at the right one it does; a one-shot
    master's reply never reaches the next master (the chip may miss a request that comes while it is busy: then
    mbpoll times out, as it would on a real line, but it never reads another request's answer)."""
    import lineprobe

    toolchain()
    sim = HeadlessSim(tmp_path, runtime="rp2040", speed="max", scenario="default")

    def settle():
        # 300 bytes take 312 ms of simulated time to come in at 9600 baud; then 0.2 s more for the main loop to read
        # them: a request that came while it was still busy with them would run into their tail (Port reads the
        # FIFO in chunks) and be lost with it, on the chip as on a device
        t0 = sim.state()["chip"]["time_s"]
        wait_for(lambda: sim.state()["chip"]["time_s"] > t0 + 0.55)

    try:
        lineprobe.overrun(sim, settle, chip=True)
        c = lineprobe.client(sim, baud=19200, timeout=1.0)
        assert lineprobe.read_ia(c) is None
        c.close()
        c = lineprobe.client(sim, timeout=10)
        assert abs(lineprobe.read_ia(c) / lineprobe.TRUTH["Ia"] - 1) < 0.002
        c.close()
        if lineprobe.MBPOLL:
            got = []
            for _ in range(4):
                lineprobe.one_shot(sim, lineprobe.UA_REQUEST)
                got.append(lineprobe.mbpoll(sim)[1])
            assert all(v == [] or lineprobe.is_ia(v) for v in got) and any(got), got
    finally:
        sim.stop()
