# SPDX-License-Identifier: MIT
# The whole meter on the emulated RP2040 behind the simulator CLI (python -m tools.sim --runtime rp2040): the UF2 a
# user flashes boots its own main.py (board.run(): the ADS131M08 over SPI0 and DMA, RS485, the panel, the console)
# in device mode (tools/emu/device.mjs). Masters and key sequences as with the unix runtime; outputs watched on
# the GPIOs. Marked rp2040 (pytest -m "not rp2040" leaves them out).
import json
import os
import signal
import time

import pytest
from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ModbusIOException

from chip import toolchain
from conftest import ROOT
from headless_sim import HeadlessSim
from test_e2e_modbus import MBPOLL, check_against_truth, read_all
from tools import scenario as scen
from tools import sim as simmod
from tools.truth import truth

pytestmark = pytest.mark.rp2040
SCEN = os.path.join(ROOT, "tools", "scenarios")
PULSE = 3200  # imp/kWh, the factory Pulse constant (firmware/regmap.py CONFIG)
LOSS_WH = 55.0 + 1.0  # docs/energy.md: a power cut loses at most max(10 Wh, 60 s of rated load), plus a window


@pytest.mark.parametrize("name", ["default.json", "unbalanced_49_8.json"])
def test_scenarios_polled_within_class(tmp_path, name):
    """pymodbus reads every measurement from the chip within the limits the unix runtime is held to."""
    toolchain()
    path = os.path.join(SCEN, name)
    sim = HeadlessSim(tmp_path, scenario=path, runtime="rp2040")
    try:
        sim.wait_time(1.5, timeout=120)
        c = ModbusSerialClient(sim.pty, baudrate=9600, timeout=5, retries=2)
        assert c.connect()
        worst = check_against_truth(read_all(c), truth(scen.load(path)))
        c.close()
        print(name, " ".join("%s=%.2g" % kv for kv in sorted(worst.items())))
    finally:
        sim.stop()


def wait_for(fn, timeout=60):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    raise TimeoutError


def test_relay_inputs_pulses_and_keys():
    """FC05 drives the relay GPIO; a DI bounce under 40 ms is ignored, a 60 ms closure is seen; the pulses counted
    on the GPIO equal the meter's pulses and its energy register; Adr and baud set from the keys, then polled at
    the new address and speed (the guest's UART divisor)."""
    toolchain()
    s = simmod.Sim(scen.load(os.path.join(SCEN, "default.json")), runtime="rp2040", speed=None)
    s.start()

    def state():
        r = s.submit("state")
        assert r.wait(60) and r.error is None, r.error
        return json.loads(r.text)

    try:
        c = ModbusSerialClient(s.pty, baudrate=9600, timeout=5, retries=2)
        assert c.connect()
        assert not c.write_coil(0, True, device_id=1).isError()
        st = wait_for(lambda: (lambda d: d if d["sim"]["chip"]["relays"] == [1, 0] else None)(state()))
        assert st["relays"] == [1, 0]
        assert not c.write_coil(0, False, device_id=1).isError()
        wait_for(lambda: state()["sim"]["chip"]["relays"] == [0, 0])
        c.close()

        before = state()["di_changes"]
        s.fw.di_pulse(1, 20)  # a bounce: shorter than the 40 ms debounce
        t = state()["time_s"]
        d = wait_for(lambda: (lambda d: d if d["time_s"] > t + 0.3 else None)(state()))
        assert d["di_changes"] == before and d["di"] == [0, 0]
        s.fw.di_pulse(1, 60)  # a real closure: reported closed, then open
        # (waited for by the count, not for 0.3 s of chip time: on a loaded host the pulse's message can reach the
        # emulator after that much chip time has passed)
        d = wait_for(lambda: (lambda d: d if d["di_changes"] >= before + 2 else None)(state()))
        t = d["time_s"]
        d = wait_for(lambda: (lambda d: d if d["time_s"] > t + 0.2 else None)(state()))
        assert d["di_changes"] == before + 2 and d["di"] == [0, 0]

        d = wait_for(lambda: (lambda d: d if d["time_s"] >= 6.0 else None)(state()), timeout=120)
        gpio = d["sim"]["chip"]["pulses"][0]
        emitted = d["energy"]["pulses_out"][0]
        assert abs(gpio - emitted) <= 1 and gpio >= 10, (gpio, emitted)  # one may be on its way out
        wh = d["energy"]["EP_imp_Wh"]  # whole Wh
        assert abs(emitted * 1000.0 / PULSE - wh) <= 1.0 + 1000.0 / PULSE, (emitted, wh)

        # the panel: password 6666, then Adr 001 -> 002 and baud 9600 -> 19200 (docs/ui.md)
        keys = ["enter"] + (["down"] * 4 + ["right"]) * 3 + ["down"] * 4 + ["enter"]
        keys += ["down"] * 6 + ["enter", "right", "right", "up", "enter"]  # Adr: the last digit + 1
        keys += ["down", "enter", "up", "enter", "left"]  # baud: the next allowed value
        for k in keys:
            assert s.submit("key " + k).wait(5)
        d = wait_for(lambda: (lambda d: d if d["baud"] == 19200 and d["address"] == 2 else None)(state()),
                     timeout=120)
        assert wait_for(lambda: state()["chip"]["uart"]["baud"] == 19200)
        c = ModbusSerialClient(s.pty, baudrate=19200, timeout=3, retries=1)
        assert c.connect()
        r = c.read_holding_registers(0, count=1, device_id=2)
        assert not r.isError() and r.registers == [2]
        try:  # the old address is silent (pymodbus raises on no answer, or returns an error object)
            silent = c.read_holding_registers(0, count=1, device_id=1).isError()
        except ModbusIOException:
            silent = True
        assert silent
        c.close()
        _orderly_quit(s)
    finally:
        s.close()


def test_sigkill_loses_at_most_the_bound(tmp_path):
    """A power cut (SIGKILL of the launcher and with it the emulator): the restart resumes from what the chip had
    written, within docs/energy.md's bound."""
    toolchain()
    state = tmp_path / "state"
    path = os.path.join(SCEN, "default.json")
    sim = HeadlessSim(tmp_path, scenario=path, runtime="rp2040", state_dir=state)
    try:
        sim.wait_time(4.0, timeout=120)
        before = sim.state()["energy"]["EP_imp_Wh"]
        sim.p.send_signal(signal.SIGKILL)
        sim.p.wait(30)
    finally:
        sim.stop()
    time.sleep(1.0)  # the emulator ends with its launcher (its stdin closes)
    sim = HeadlessSim(tmp_path, scenario=path, runtime="rp2040", state_dir=state)
    try:
        after = sim.state()["energy"]["EP_imp_Wh"]
    finally:
        sim.stop()
    assert before >= 2 and 0 <= before - after <= LOSS_WH, (before, after)


@pytest.mark.skipif(not MBPOLL, reason="mbpoll is not installed (Debian package mbpoll; .ci/run installs it)")
def test_mbpoll_on_the_chips_pty(tmp_path):
    """mbpoll (Debian's command-line master) reads the phase voltages from the emulated chip's pty."""
    import subprocess

    from firmware import regmap

    toolchain()
    sim = HeadlessSim(tmp_path, runtime="rp2040")
    try:
        sim.wait_time(1.5, timeout=120)
        r = subprocess.run([MBPOLL, "-m", "rtu", "-a", "1", "-b", "9600", "-P", "none", "-0", "-r",
                            str(regmap.MEAS_BASE), "-c", "3", "-t", "4:float", "-B", "-1", "-o", "5", sim.pty],
                           capture_output=True, text=True, timeout=60)
        vals = [float(line.split(":")[1]) for line in r.stdout.splitlines() if line.startswith("[")]
        want = truth(scen.DEFAULT)
        assert len(vals) == 3, r.stdout + r.stderr
        for v, n in zip(vals, ("Ua", "Ub", "Uc")):
            assert abs(v / want[n] - 1) < 0.002
    finally:
        sim.stop()


def test_watchdog_resets_a_stuck_loop():
    """The console's watchdog self-test stops the main loop: the watchdog resets the chip, the meter boots again,
    counts the reset and keeps its clock (the watchdog scratch registers)."""
    toolchain()
    s = simmod.Sim(scen.load(os.path.join(SCEN, "default.json")), runtime="rp2040", speed=None)
    s.start()

    def state():
        r = s.submit("state")
        assert r.wait(60) and r.error is None, r.error
        return json.loads(r.text)

    try:
        d = wait_for(lambda: (lambda d: d if d["time_s"] >= 2.0 else None)(state()))
        assert d["watchdog_resets"] == 0
        clock = d["energy"]["time"]
        from boards.sim.proto import COMMAND, message
        from tools.simproc import Reply

        r = Reply(None, waiting=True)  # a console line the simulator's commands do not cover: straight to the chip
        s.fw.expect(r)
        s.fw.out.put(message(COMMAND, b"stall"))
        assert r.wait(60) and r.text == "ok", (r.text, r.error)
        d = wait_for(lambda: (lambda d: d if d.get("watchdog_resets") == 1 else None)(state()), timeout=120)
        assert d["time_s"] < 3.0  # the meter's uptime started again ...
        assert d["energy"]["time"] >= clock  # ... and its clock did not go back
        c = ModbusSerialClient(s.pty, baudrate=9600, timeout=5, retries=2)
        assert c.connect()
        assert c.read_holding_registers(0, count=1, device_id=1).registers == [1]  # serving again
        c.close()
    finally:
        s.close()


def test_a_write_takes_effect_before_the_next_request():
    """On the chip a master that selects an event window and reads it at once, or sets a new baud rate and talks
    at it at once, is answered right on its first try: the board runs Meter.service() as soon as a write's reply
    has gone out (Meter.service_due), not at its next 100 ms tick. The sim's `lcd` is the meter's screen text."""
    from firmware import regmap

    toolchain()
    s = simmod.Sim(scen.load(os.path.join(SCEN, "default.json")), runtime="rp2040", speed=None)
    s.start()
    try:
        c = ModbusSerialClient(s.pty, baudrate=9600, timeout=5, retries=2)
        assert c.connect()
        for v in (2, 3, 4, 5):  # four settings: four events in the log
            assert not c.write_register(regmap.address("BLt"), v, device_id=1).isError()
        lcd = s.submit("lcd")  # the meter's own text of its screen (the glass is in its own glyphs)
        assert lcd.wait(30) and lcd.error is None and lcd.text.startswith("Meter U") and " V" in lcd.text, lcd.text
        t = c.read_holding_registers(regmap.address("EV_Total"), count=2, device_id=1).registers
        total = (t[0] << 16) | t[1]
        assert total >= 5
        for age in (3, 1, 2, 0):
            assert not c.write_register(regmap.address("EV_From"), age, device_id=1).isError()
            r = c.read_holding_registers(regmap.address("EV1_Seq"), count=2, device_id=1).registers
            assert (r[0] << 16) | r[1] == total - age, (age, r, total)
        assert not c.write_register(regmap.address("baud"), 192, device_id=1).isError()
        c.close()
        c = ModbusSerialClient(s.pty, baudrate=19200, timeout=3, retries=0)
        assert c.connect()
        r = c.read_holding_registers(regmap.address("baud"), count=1, device_id=1)  # the first try, at once
        assert not r.isError() and r.registers == [192]
        c.close()
        _orderly_quit(s)
    finally:
        s.close()


def _orderly_quit(s):
    q = s.submit("quit")  # an orderly power-down: the chip saves and says bye, the emulator exits 0
    assert q.wait(60) and q.text == "bye"
    assert s.wait_exit() == 0
