# SPDX-License-Identifier: MIT
# Tests of the simulator launcher end to end (READY, pty and link, commands, scenario switch, Modbus relay,
# SIGTERM/SIGKILL, both runtimes); the runtime loop in-process is in test_sim_runtime.py.
import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest
import serial

from conftest import ROOT


# A Meter double for the firmware process: echoes each Modbus frame back (so replies can be checked byte for
# byte through the pty) and logs its calls to stderr. It has what boards/sim/main.py reads of a Meter: the entry
# points, tx, slave.counters, config (the factory line settings), bind_line, analog.ua, ui.menu.
ECHO_METER = '''
import sys
from array import array
class _Config:
    def get(self, name):
        return {"baud": 96, "dATA": 0}[name]
class _Slave:
    def __init__(self):
        self.counters = array("H", bytes(16))
class _Analog:
    ua = 0
class _Menu:
    mode, screen, group, page, backlight = 0, 0, 0, 0, True
    def group_len(self):
        return 1
class _Ui:
    menu = _Menu()
class EchoMeter:
    def __init__(self, state_dir=None):
        self.tx = bytearray(256)
        self.slave = _Slave()
        self.config = _Config()
        self.on_serial = None
        self.analog = _Analog()
        self.ui = _Ui()
        self.samples = 0
        self.keys = []
        self.di_state = [0, 0]
        self.state_dir = state_dir
        self.settings = {}
    def feed(self, block, n):
        self.samples += n
    def modbus(self, frame, n):
        self.tx[:n] = frame[:n]
        return n
    def key(self, name):
        self.keys.append(name)
    def set(self, name, value):
        self.settings[name] = value
        return not (name == "In" and value == 1)  # one refusal, to see the launcher report it
    def bind_line(self, on_serial):
        self.on_serial = on_serial
    def di_raw(self, k, on):
        self.di_state[k - 1] = 1 if on else 0
    def tick(self, ms):
        pass
    def lcd_text(self):
        return "ECHO\\nkeys %d" % len(self.keys)
    def state_json(self):
        import json
        return json.dumps({"time_s": self.samples / 8000, "keys": self.keys, "di": self.di_state,
                           "state_dir": self.state_dir,
                           "settings": self.settings})
    def service(self):
        pass
    def power_down(self):
        sys.stderr.write("POWER_DOWN\\n")
'''


# --- the launcher end to end ---------------------------------------------------------------------------------
class Launcher:
    def __init__(self, tmp, *extra, runtime="micropython", speed="max", env=None):
        self.link = os.path.join(str(tmp), "meter")
        cmd = [sys.executable, "-m", "tools.sim", "--headless", "--serial-link", self.link, "--runtime", runtime,
               "--speed", speed] + list(extra)
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
        self.ready = self.p.stdout.readline()

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def line(self):
        return self.p.stdout.readline().rstrip("\n")

    def state(self):
        self.cmd("state")
        return json.loads(self.line())

    def lcd(self):
        self.cmd("lcd")
        lines = []
        while True:
            x = self.line()
            if x == ".":
                return lines
            lines.append(x)

    def finish(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()
        self.p.stdout.close()
        self.p.stdin.close()
        self.p.stderr.close()


@pytest.fixture
def echo_env(tmp_path):
    (tmp_path / "echometer.py").write_text(ECHO_METER)
    return dict(os.environ, MICROPYPATH=str(tmp_path), PYTHONPATH=str(tmp_path))


def gone(pid, timeout=5.0):
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        try:
            with open("/proc/%d/stat" % pid) as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    return True  # exited, waiting for its (new) parent to reap it
        except FileNotFoundError:
            return True
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("runtime", ["micropython", "cpython"])
def test_ready_pty_link_and_commands(tmp_path, runtime):
    sim = Launcher(tmp_path, runtime=runtime)
    try:
        assert sim.ready.startswith("READY /dev/pts/"), sim.ready
        pty = sim.ready.split()[1]
        assert os.path.realpath(sim.link) == pty and os.path.exists(pty)
        assert sim.lcd()  # some LCD text, ended by "." (the next reply below parses as JSON)
        sim.cmd("fb")  # the frame buffer the panel draws: 1024 bytes in hex
        fb = sim.line()
        assert len(fb) == 2048 and any(bytes.fromhex(fb)), fb[:200]
        s1 = sim.state()
        assert s1["sim"]["pty"] == pty and s1["sim"]["speed"] == "max" and s1["sim"]["runtime"] == runtime
        assert s1["sim"]["time_s"] == s1["sim"]["samples"] / 8000 and s1["sim"]["samples"] % 400 == 0
        assert s1["time_s"] == s1["sim"]["time_s"]  # the firmware's clock is the sample count
        sim.cmd("key up")
        sim.cmd("key enter")
        sim.cmd("di 1 on")
        sim.cmd("frobnicate now")
        assert sim.line() == "ERR unknown command 'frobnicate'"
        sim.cmd("key sideways")
        assert sim.line().startswith("ERR usage")
        s2 = sim.state()
        # every K/D/C reached the firmware, in order: 3 commands + 1 state since the last state
        nonsample = lambda s: s["runtime"]["messages"] - s["runtime"]["blocks"]
        assert nonsample(s2) - nonsample(s1) == 4
        assert s2["sim"]["samples"] >= s1["sim"]["samples"]
        if "di" in s2:
            assert s2["di"][:2] == [1, 0]
        sim.cmd("quit")
        assert sim.p.wait(10) == 0
        assert not os.path.lexists(sim.link)  # the link goes with the launcher
    finally:
        sim.finish()


def test_scenario_switch(tmp_path, echo_env):
    good = tmp_path / "s60.json"
    good.write_text(json.dumps({"name": "sixty", "frequency": 60.0,
                                "phases": {"a": {"voltage": 100.0, "current": 1.0}},
                                "settings": {"SYSS": "2LL3CT", "Pt_U": 100, "Ct_I": 80, "Un": 100}}))
    nyquist = tmp_path / "bad.json"  # order 50 at 100 Hz = 5 kHz: above Nyquist, the generator refuses it
    nyquist.write_text(json.dumps({"name": "bad", "frequency": 100.0,
                                   "phases": {"a": {"voltage": 100.0, "voltage_harmonics": {"50": 0.1}}}}))
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", env=echo_env)
    try:
        s = sim.state()
        assert s["sim"]["scenario"] == "default" and s["settings"] == {}  # no --scenario: the meter's own config
        sim.cmd("scenario %s" % good)
        s = sim.state()
        assert s["sim"]["scenario"] == "sixty"
        assert s["settings"] == {"SYSS": 1, "Un": 100, "In": 5, "Pt_U": 100, "Ct_I": 80}
        sim.cmd("scenario %s" % nyquist)
        assert sim.line().startswith("ERR scenario: frequency")
        sim.cmd("scenario %s" % (tmp_path / "missing.json"))
        assert sim.line().startswith("ERR scenario:")
        s = sim.state()
        assert s["sim"]["scenario"] == "sixty" and s["runtime"]["blocks"] * 400 == s["sim"]["samples"]
    finally:
        sim.finish()


def test_modbus_relay_through_pty(tmp_path, echo_env):
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", "--frame-gap", "30", env=echo_env)
    try:
        assert sim.ready.startswith("READY"), sim.p.stderr.read()
        # first a plain open (no pyserial, so no termios set-up by the client): the launcher's raw mode must hold,
        # or \n becomes \r\n on the way in, \r becomes \n on the way out, and the echo comes back as a frame
        fd = os.open(sim.link, os.O_RDWR | os.O_NOCTTY)
        plain = bytes([7, 3, 0x0A, 0x0D, 0x03, 0x11, 0x0A])
        os.write(fd, plain)
        got = b""
        t_end = time.monotonic() + 3
        while len(got) < len(plain) and time.monotonic() < t_end:
            if select.select([fd], [], [], 0.1)[0]:
                got += os.read(fd, 64)
        assert got == plain
        time.sleep(0.05)
        s = sim.state()
        assert s["runtime"]["frames_rx"] == 1 and s["runtime"]["rx_bytes"] == len(plain)
        os.close(fd)
        port = serial.Serial(sim.link, 9600, timeout=1.0)
        # bytes a cooked tty would eat or translate: CR, LF, ^C, ^D, XON/XOFF, DEL, 0x00
        frame = bytes([0x01, 0x10, 0x0D, 0x0A, 0x03, 0x04, 0x11, 0x13, 0x7F, 0x00, 0xFF, 0x1A])
        port.write(frame)
        assert port.read(len(frame)) == frame
        # one frame written in two pieces closer than the gap (30 ms here, so load cannot split it) is one frame
        port.write(frame[:5])
        port.flush()
        time.sleep(0.001)
        port.write(frame[5:])
        assert port.read(len(frame)) == frame
        s = sim.state()
        assert s["runtime"]["frames_rx"] == 3 and s["runtime"]["rx_bytes"] == 2 * len(frame) + len(plain)
        assert s["runtime"]["frames_tx"] == 3 and s["sim"]["relay"]["frames_in"] == 3
        port.close()
    finally:
        sim.finish()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_is_an_orderly_power_down(tmp_path, echo_env, sig):
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", "--state-dir", str(tmp_path / "flash"),
                   env=echo_env)
    try:
        s = sim.state()
        assert s["state_dir"] == str(tmp_path / "flash") and os.path.isdir(s["state_dir"])
        pid = s["sim"]["pid"]
        sim.p.send_signal(sig)
        assert sim.p.wait(10) == 0
        assert "POWER_DOWN" in sim.p.stderr.read()  # the meter's power_down ran before the exit
        assert gone(pid)
    finally:
        sim.finish()


def test_startup_scenario_sets_wiring(tmp_path, echo_env):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"frequency": 50.0, "phases": {"a": {"voltage": 100.0}},
                                "settings": {"Un": 400, "In": 1}}))  # In 1 is refused by the double
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", "--scenario", str(path), env=echo_env)
    try:
        s = sim.state()
        assert s["settings"] == {"SYSS": 0, "Un": 400, "In": 1, "Pt_U": 1, "Ct_I": 1}  # before the first sample
        sim.cmd("quit")
        assert sim.p.wait(10) == 0
        assert "sim: scenario setting In not applied: refused In=1" in sim.p.stderr.read()
    finally:
        sim.finish()


def test_sigkill_is_a_power_cut(tmp_path, echo_env):
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", env=echo_env)
    try:
        pid = sim.state()["sim"]["pid"]
        sim.p.kill()
        sim.p.wait(5)
        assert gone(pid)  # stdin EOF: the firmware exits at once
        assert "POWER_DOWN" not in sim.p.stderr.read()  # and saves nothing
    finally:
        sim.finish()


def test_stdin_eof_keeps_running(tmp_path, echo_env):
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", speed="4", env=echo_env)
    try:
        assert sim.ready.startswith("READY")
        sim.p.stdin.close()
        time.sleep(0.6)
        assert sim.p.poll() is None  # headless with stdin closed runs on until SIGTERM
        t0 = time.monotonic()
        fd = os.open(sim.link, os.O_RDWR | os.O_NOCTTY)  # the line still works
        os.close(fd)
        sim.p.send_signal(signal.SIGTERM)
        assert sim.p.wait(10) == 0 and time.monotonic() - t0 < 5
    finally:
        sim.finish()


def test_speed_paces_simulated_time(tmp_path, echo_env):
    sim = Launcher(tmp_path, "--meter", "echometer:EchoMeter", speed="4", env=echo_env)
    try:
        s1 = sim.state()
        t0 = time.monotonic()
        time.sleep(1.0)
        s2 = sim.state()
        wall = time.monotonic() - t0
        sim_dt = s2["sim"]["time_s"] - s1["sim"]["time_s"]
        assert abs(sim_dt - 4 * wall) <= 0.6, (sim_dt, wall)  # +- a few 50 ms blocks and a loaded host
    finally:
        sim.finish()


def test_second_instance_on_the_same_state_dir_refuses(tmp_path):
    """Two meters on one simulated flash would interleave their writes: the second launcher refuses, saying why,
    and the first one goes on."""
    import subprocess
    import sys

    from conftest import ROOT
    from headless_sim import HeadlessSim

    state = tmp_path / "state"
    first = HeadlessSim(tmp_path, state_dir=state)
    try:
        r = subprocess.run([sys.executable, "-m", "tools.sim", "--headless", "--state-dir", str(state)], cwd=ROOT,
                           input="", capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and "in use by another simulated meter (pid" in r.stderr, r.stderr
        assert "READY" not in r.stdout
        assert first.state()["time_s"] >= 0  # the first meter is unaffected
    finally:
        first.stop()
