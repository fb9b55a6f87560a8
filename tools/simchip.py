# SPDX-License-Identifier: MIT
# The simulator's rp2040 runtime: the meter's UF2 on the emulated RP2040 (tools/emu/device.mjs, device mode) in
# place of the firmware process of tools/simproc.py, with the same interface (start/expect/kill/wait_exit/out/
# on_frame/ready/exited/bye) and the same framing on the node process's stdin/stdout. docs/sim.md, docs/device.md.
import json
import os
import struct
import subprocess
import sys
import threading
import time

from boards.sim import proto
from firmware.modbus.codes import READ_HOLDING_REGISTERS
from tools import emu
from tools import scenario as _scenario
from tools.simproc import Firmware, Reply, message

DEVICE = os.path.join(emu.HERE, "device.mjs")
PROBE_EVERY = 2.0  # s of wall time between Modbus probes while waiting for the first answer


def crc16(data):
    c = 0xFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return struct.pack("<H", c)


def probe_frame(address):
    """FC03, one holding register at 0x0000: any answer (data or an exception) shows the meter serves its line."""
    pdu = bytes([address, READ_HOLDING_REGISTERS, 0, 0, 0, 1])
    return pdu + crc16(pdu)


def pin_map():
    """boards/pico/pins.py's constants that device mode drives or watches (plain data, importable here)."""
    from boards.pico import pins

    names = ("KEYS", "RELAYS", "INPUTS", "PULSE_P", "PULSE_Q", "AO_PWM", "POWER_FAIL", "RS485")
    return {n: getattr(pins, n) for n in names if hasattr(pins, n)}


def chip_uf2(log):
    """build/pico/firmware.uf2: built when missing (minutes); when older than the sources only a warning (make
    firmware rebuilds it, incrementally), so the launcher never stalls on a build it was not asked for."""
    if not os.path.exists(emu.UF2):
        return emu.ensure_uf2()
    if emu._sources_newer_than(emu.UF2):
        log("sim: %s is older than the firmware sources (make firmware BOARD=pico rebuilds it)" % emu.UF2)
    return emu.UF2


class Chip(Firmware):
    """The emulated chip as the simulator's firmware process. Extra message kinds: G (an output pin changed:
    relays, pulse outputs), F (figures once per simulated second). time_s: the chip's simulated time (last F)."""

    def __init__(self, state_dir=None, fw_stderr=None, log=None, on_frame=None, speed=1.0, scenario=None, seed=0,
                 uf2=None, main=None):
        Firmware.__init__(self, "rp2040", state_dir, None, fw_stderr, log, self._frame)
        self.line_frame = on_frame  # frames for the line; the probe's answer is taken out first
        self.speed = speed
        self.scenario = _scenario.parse(scenario if scenario is not None else _scenario.DEFAULT)
        self.seed = seed
        self.uf2 = uf2
        self.main = main  # a guest main loop to run in place of board.run() (device.mjs --main)
        self.feeder = None
        self.console = False  # the guest speaks the console protocol (it printed READY)
        self.time_s = 0.0
        self.figures = {}
        self.map = pin_map()
        self.pins = {}
        self.pulses = [0, 0]  # rising edges on PULSE_P, PULSE_Q
        self.answered = threading.Event()  # the Modbus probe got its answer
        self._probe = None  # the probe's address while probing
        self._sent = {}  # host frame number (1, 2, ... as device.mjs counts them) -> the line's seq
        self._frames = 0
        self._answers = 0  # W: the frame number the next M answers

    # --- start-up -----------------------------------------------------------------------------------------
    def start(self, timeout=180.0):
        """Spawn the feeder and the emulator, wait for R, then for a Modbus answer on the line."""
        try:
            emu.ensure_node()
            uf2 = self.uf2 or chip_uf2(self.log)
        except emu.EmuError as e:
            raise RuntimeError(str(e))
        self.feeder = subprocess.Popen([sys.executable, "-m", "tools.emu.feeder", "--seed", str(self.seed)],
                                       cwd=emu.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       start_new_session=True)
        self.feeder.stdin.write(b"j " + json.dumps(self.scenario.to_dict()).encode() + b"\n")
        self.feeder.stdin.flush()
        ok = self.feeder.stdout.readline()
        if ok != b"ok\n":
            self.feeder.kill()
            raise RuntimeError("the sample feeder refused the scenario: %s" % ok.decode(errors="replace").strip())
        rd, wr = self.feeder.stdout.fileno(), self.feeder.stdin.fileno()
        argv = ["node", DEVICE, "--uf2", uf2, "--bootrom", "file://" + os.path.abspath(emu.BOOTROM),
                "--speed", "max" if self.speed is None else repr(float(self.speed)),
                "--samples-in", str(rd), "--samples-out", str(wr), "--pins", json.dumps(pin_map())]
        if self.state_dir:
            argv += ["--state", os.path.join(self.state_dir, "flash.bin")]
        if self.main:
            argv += ["--main", os.path.abspath(self.main)]
        # own session (a Ctrl-C reaches the launcher only); node exits when its stdin closes (a launcher killed)
        self.proc = subprocess.Popen(argv, cwd=emu.ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.fw_stderr, pass_fds=(rd, wr), start_new_session=True)
        self.feeder.stdin.close()  # node holds the pipes now: when it ends, the feeder sees EOF and ends too
        self.feeder.stdout.close()
        for fn in (self._reader, self._writer):
            threading.Thread(target=fn, daemon=True).start()
        t_end = time.monotonic() + timeout
        while not self.ready.wait(0.05):
            if self.exited.is_set() or time.monotonic() > t_end:
                self.kill()
                raise RuntimeError("the emulated meter did not start (exit status %s)" % self.proc.poll())
        self.console = self.ready_info == b"console"
        address = self._address(t_end)
        self._probe = address
        next_probe = 0.0
        while not self.answered.wait(0.05):
            if self.exited.is_set() or time.monotonic() > t_end:
                self.kill()
                raise RuntimeError("the emulated meter did not answer Modbus at address %d (exit status %s)"
                                   % (address, self.proc.poll()))
            if time.monotonic() >= next_probe:
                next_probe = time.monotonic() + PROBE_EVERY
                self.note_frame(None)
                self.out.put(message(proto.FRAME, probe_frame(address)))
        self._probe = None

    def _address(self, t_end):
        """The meter's Modbus address: from its state on the console, else 1 (the default)."""
        if not self.console:
            return 1
        r = Reply("state", waiting=True)
        r.facts = {"time_s": self.time_s}
        self.expect(r)
        self.out.put(message(proto.COMMAND, b"state"))
        r.wait(max(1.0, t_end - time.monotonic()))
        try:
            return int(json.loads(r.text)["address"])
        except (TypeError, ValueError, KeyError):
            return 1

    def note_frame(self, seq):
        self._frames += 1
        self._sent[self._frames] = seq
        self._sent.pop(self._frames - 256, None)

    # --- messages beyond R M T E --------------------------------------------------------------------------
    def _reply(self, payload):
        # the chip does not answer every frame: W (sent just before) names the frame this reply answers
        self._frame(payload, self._sent.get(self._answers, -1))

    def _extra(self, kind, payload):
        if kind == proto.ANSWERS:
            self._answers = struct.unpack("<I", payload)[0]
            return True
        if kind == proto.UART:
            from tools import wire

            d = json.loads(payload)
            self.line_fmt = wire.Format(d["baud"], d["bits"], d["parity"], d["stop"])
            if self.on_format is not None:
                self.on_format(self.line_fmt)
            return True
        if kind == proto.GPIO:
            pin, level, _us = struct.unpack("<BBd", payload)
            for k, name in enumerate(("PULSE_P", "PULSE_Q")):
                if pin == self.map.get(name) and level and not self.pins.get(pin):
                    self.pulses[k] += 1
            self.pins[pin] = level
            return True
        if kind == proto.FIGURES:
            self.figures = json.loads(payload)
            self.time_s = self.figures.get("time_s", self.time_s)
            return True
        return False

    def _reader(self):
        Firmware._reader(self)
        self._stop_feeder()

    def _frame(self, data, seq=None):
        if self._probe is not None and data[:1] == bytes([self._probe]):
            self.answered.set()  # the launcher's own probe: not for the line
        elif self.line_frame is not None and seq is not None:
            self.line_frame(data, seq)  # -1: a reply to no frame the host knows of (the line drops it as late)

    def di_pulse(self, k, ms):
        """Close DI k for ms of simulated time, then open it (tests: a bounce under the 40 ms debounce)."""
        self.out.put(message(proto.BOUNCE, bytes([k]) + struct.pack("<H", ms)))

    def facts(self):
        """What the launcher adds to `state`: the output pins as the host saw them."""
        return {"relays": [self.pins.get(p, 0) for p in self.map.get("RELAYS", ())], "pulses": list(self.pulses),
                "figures": self.figures}

    def wait_exit(self, timeout=60.0):
        """After Q: the guest has 2 s of simulated time to save, which can be over 10 s of wall time."""
        return Firmware.wait_exit(self, timeout)

    def kill(self):
        Firmware.kill(self)
        self._stop_feeder()

    def _stop_feeder(self):
        if self.feeder is not None and self.feeder.poll() is None:
            self.feeder.kill()
            self.feeder.wait()
