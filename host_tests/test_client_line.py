# SPDX-License-Identifier: MIT
# The host client (tools/client.py) and the meter's line settings, against the simulated meter over its pty: a
# meter with parity is opened every time (and other masters still can after the client), a write of the address,
# baud rate or data format is read back at the new settings, and a write-only command register is not read back.
# Each test that changes the line settings has a fresh meter of its own (tests/test_client.py shares one).
import io
import logging
import os
import termios

import pytest
from pymodbus.client import ModbusSerialClient

from headless_sim import HeadlessSim
from lineprobe import MBPOLL, mbpoll
from test_client import values
from tools import client, serialport, wire
from firmware import regmap

DATA = regmap.CONFIG_BASE + regmap.config_index("dATA")
REPEAT = 3  # opens in a row: a fault that only the first open escapes shows on the second


def run(sim, *args):
    out = io.StringIO()
    rc = client.main(["--port", sim.link] + list(args), out=out)
    return rc, out.getvalue()




@pytest.fixture
def fresh(tmp_path):
    s = HeadlessSim(tmp_path, speed="1")  # real time, as make run: the meter switches settings in its own time
    s.wait_time(0.5)  # the first measurements are in
    yield s
    s.stop()


def set_data_format(sim, code):
    # an independent master (plain pymodbus at 8N1, not tools.client) makes the meter use another data format
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    c = ModbusSerialClient(sim.link, baudrate=9600, timeout=2, retries=1)
    assert c.connect()
    try:
        assert not c.write_register(DATA, code, device_id=1).isError()
    finally:
        c.close()
    assert sim.state()["data"] == regmap.DATA_NAMES[code]


def test_the_port_opens_a_pty_with_parity_every_time():
    # no meter: the client's port (tools/serialport.py) on a bare pty, as pymodbus opens it, then a master that
    # asks for PARENB itself (libmodbus's request) after it
    master, slave = os.openpty()
    path = os.ttyname(slave)
    try:
        wire.set_termios(slave, wire.Format(9600))
        for parity, stop in (("E", 1), ("E", 1), ("O", 2), ("O", 2), ("N", 1), ("E", 1)):
            for _ in range(2):
                c = serialport.ModbusClient(path, baudrate=19200, parity=parity, stopbits=stop, timeout=0.1)
                assert c.connect(), c.error
                assert c.inter_byte_timeout and c.socket.inter_byte_timeout == c.inter_byte_timeout
                assert wire.from_termios(termios.tcgetattr(master), master) == wire.Format(19200, 8, parity, stop)
                c.close()
            attr = termios.tcgetattr(slave)
            attr[0] = termios.INPCK
            attr[1] = attr[3] = 0
            attr[2] = termios.CS8 | termios.CREAD | termios.CLOCAL | termios.PARENB | termios.B19200
            termios.tcsetattr(slave, termios.TCSANOW, attr)  # EINVAL if the client left nothing to change
            assert wire.from_termios(termios.tcgetattr(master), master) == wire.Format(19200, 8, "E", 1)
    finally:
        os.close(slave)
        os.close(master)


@pytest.mark.parametrize("code,opts", [(1, ("--parity", "E")), (5, ("--parity", "O", "--stopbits", "2"))])
def test_a_meter_with_parity_is_opened_every_time(fresh, code, opts, capsys):
    set_data_format(fresh, code)
    name = regmap.DATA_NAMES[code]
    for _ in range(REPEAT):
        rc, text = run(fresh, *opts, "read", "dATA", "Ua")
        assert rc == 0, (rc, capsys.readouterr().err)
        v = values(text)
        assert v["dATA"] == name and abs(float(v["Ua"]) - 220.0) < 0.5, text
    # the line heard the client at the meter's format (a pty keeps the parity only as PARODD, CMSPAR, INPCK)
    assert fresh.state()["sim"]["line"]["master"] == "9600 " + name
    if MBPOLL and code == 1:  # and another master that asks for PARENB still opens the pty after the client
        for _ in range(2):
            rc, v = mbpoll(fresh, "-t", "4", "-r", str(DATA), "-c", "1", parity="even")
            assert rc == 0 and v == ["1"], (rc, v)
        rc, text = run(fresh, *opts, "read", "dATA")
        assert rc == 0 and values(text)["dATA"] == name


def test_line_settings_are_read_back_at_the_new_settings(fresh, capsys):
    steps = [
        ((), ("write", "Adr", "2"), "Adr", "2", "--address 2 --baud 9600 --parity N --stopbits 1"),
        (("--address", "2"), ("write", "baud", "19200"), "baud", "19200",
         "--address 2 --baud 19200 --parity N --stopbits 1"),
        (("--address", "2", "--baud", "19200"), ("write", "dATA", "8E2"), "dATA", "8E2",
         "--address 2 --baud 19200 --parity E --stopbits 2"),
    ]
    for opts, cmd, name, want, reach in steps:
        rc, text = run(fresh, *opts, *cmd)
        assert rc == 0, (cmd, rc, text, capsys.readouterr().err)
        assert values(text)[name] == want and reach in text, text
    st = fresh.state()
    assert (st["address"], st["baud"], st["data"]) == (2, 19200, "8E2")
    rc, text = run(fresh, "--address", "2", "--baud", "19200", "--parity", "E", "--stopbits", "2", "read", "Adr",
                   "baud", "dATA")
    assert rc == 0 and values(text) == {"Adr": "2", "baud": "19200", "dATA": "8E2"}, text
    # the meter refuses a value: nothing changed, so nothing to switch to
    rc, text = run(fresh, "--address", "2", "--baud", "19200", "--parity", "E", "--stopbits", "2", "write", "baud",
                   "300")
    assert rc == client.REFUSED and text == ""


def test_a_write_only_command_is_not_read_back(sim, capsys):
    def frames():
        return sim.state()["sim"]["relay"]["frames_in"]

    for name, value in (("cLr_Eny", "6666"), ("Key", "6666")):
        before = frames()
        rc, text = run(sim, "write", name, value)
        assert rc == 0, capsys.readouterr().err
        assert text == "%s %s: command accepted (a write-only register: nothing to read back)\n" % (name, value)
        assert frames() == before + 1  # the write alone, no read
    rc, text = run(sim, "events", "--count", "8")  # the meter did clear the energy, on a Modbus command
    assert rc == 0 and "clear" in text and "energy (Modbus)" in text, text
