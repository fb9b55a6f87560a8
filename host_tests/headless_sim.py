# SPDX-License-Identifier: MIT
# Starts the simulated meter (python -m tools.sim) for end-to-end tests and talks to it over stdin/stdout.
import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class HeadlessSim:
    """`python -m tools.sim --headless` in a subprocess: its commands on stdin, its answers on stdout, its
    Modbus line on the pty it prints (self.pty). Not tools.sim.Sim, which it runs."""

    def __init__(self, tmp, scenario=None, runtime="micropython", speed="max", state_dir=None, extra=()):
        self.link = os.path.join(str(tmp), "meter-%d" % time.monotonic_ns())
        cmd = [sys.executable, "-m", "tools.sim", "--headless", "--serial-link", self.link, "--runtime", runtime,
               "--speed", str(speed)]
        if scenario:
            cmd += ["--scenario", scenario]
        if state_dir:
            cmd += ["--state-dir", str(state_dir)]
        cmd += list(extra)
        self.p = subprocess.Popen(cmd, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        line = self.p.stdout.readline()
        if not line.startswith("READY "):
            self.p.kill()
            raise RuntimeError("sim did not start: %r" % line)
        self.pty = line.split(None, 1)[1].strip()

    def cmd(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()

    def state(self):
        self.cmd("state")
        return json.loads(self.p.stdout.readline())

    def lcd(self):
        self.cmd("lcd")
        lines = []
        while True:
            line = self.p.stdout.readline()
            if line.rstrip("\n") == "." or not line:
                return "\n".join(lines)
            lines.append(line.rstrip("\n"))

    def wait_time(self, seconds, timeout=60):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.state()["time_s"] >= seconds:
                return
            time.sleep(0.05)
        raise TimeoutError("simulated time did not reach %s s" % seconds)

    def stop(self):
        if self.p.poll() is None:
            self.cmd("quit")
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode
