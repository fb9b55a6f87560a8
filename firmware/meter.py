# The meter as one object: wires sampler, metering, register image, Modbus slave, config, store and UI.
# Boards feed it sample blocks and Modbus frames; it never touches hardware itself (callbacks do).
from array import array

from micropython import const

from firmware import regmap
from firmware.config import Config
from firmware.frontend import SAMPLE_RATE
from firmware.io import Io
from firmware.metering import Metering
from firmware.modbus.slave import Slave
from firmware.regbank import RegisterBank
from firmware.sampler import Sampler
from firmware.store import Store, ensure_dir
from firmware.ui import Ui

_COMM_HOLD = const(8000)  # samples (1 s) the LCD's comms sign stays on after a frame


class Meter:
    def __init__(self, state_dir=None, relay_out=None, on_serial=None):
        if state_dir is not None:
            ensure_dir(state_dir)
        self.store = Store(state_dir)
        self.config = Config(self.store)
        self.vals = array("f", [0.0] * regmap.N_MEAS)
        self.io = Io(relay_out)
        self.regs = RegisterBank(self.config, self.vals)
        self.slave = Slave(self.regs, self.io, self.config.get("Adr"))
        self.tx = self.slave.tx
        self.sampler = Sampler()
        self.metering = Metering(self.vals)
        slots = {}
        for k in range(regmap.N_MEAS):
            slots[regmap.MEASUREMENTS[k][0]] = k
        self.ui = Ui(self.vals, slots, self.config, self.io)
        self.on_serial = on_serial  # board callback(baud, data_code): reprogram the UART
        self.seconds = 0  # simulated/real time from the ADC's sample clock: whole seconds ...
        self.subsec = 0  # ... and samples into the current second (small ints: no allocation)
        self.frames = 0  # Modbus frames handed to the slave (the sim's state shows it)
        self.windows = 0  # metering windows completed
        self._comm = 0
        self._cfg_version = -1
        self._serial = (self.config.get("baud"), self.config.get("dATA"))
        self.service()

    # --- hot paths: allocation-free -------------------------------------------------------------------------
    def feed(self, block, n):
        """block: array('i') holding 8*n interleaved samples (Ua Ub Uc Ia Ib Ic In T), 24-bit codes."""
        done = self.sampler.feed(block, n)
        if done:
            self.metering.update(self.sampler)
            self.regs.publish()
            self.windows += 1
        s = self.subsec + n
        while s >= SAMPLE_RATE:
            s -= SAMPLE_RATE
            self.seconds += 1
            self.each_second()
        self.subsec = s
        if self._comm > 0:
            self._comm -= n
            if self._comm <= 0:
                self.io.comm = 0

    def modbus(self, frame, n):
        """frame: buffer holding one RTU frame of n bytes. Returns the reply length in self.tx (0: none)."""
        self.frames += 1
        r = self.slave.handle(frame, n)
        self._comm = _COMM_HOLD
        self.io.comm = 1
        return r

    # --- everything else --------------------------------------------------------------------------------------
    def each_second(self):
        """Called once per second of sample time, outside the sample hot path (clock, demand, periods...)."""
        # [issue4-clock] [issue3-demand] [issue4-energy] hooks go here

    def service(self):
        """Between requests and blocks: apply changed settings (after the reply that made them), save them."""
        cfg = self.config
        if cfg.version != self._cfg_version:
            self._cfg_version = cfg.version
            self.regs.refresh_config()
            self.slave.address = cfg.get("Adr")
            self.metering.configure(cfg.get("Pt_U"), cfg.get("Ct_I"), cfg.get("SYSS"), cfg.get("Un"),
                                    cfg.get("In"))
            serial = (cfg.get("baud"), cfg.get("dATA"))
            if serial != self._serial:
                self._serial = serial
                if self.on_serial is not None:
                    self.on_serial(serial[0] * 100, serial[1])
        if cfg.dirty:
            cfg.save()

    def key(self, name):
        r = self.ui.key(name)
        self.service()
        return r

    def tick(self, ms):
        self.ui.tick(ms)

    def di(self, k, on):
        self.io.set_input(k - 1, on)

    def set(self, name, value):
        """A setting changed as a technician would at the panel (the sim applies scenario settings this way)."""
        ok = self.config.set(name, value)
        self.service()
        return ok

    def lcd_text(self):
        return self.ui.text()

    def time_s(self):
        return self.seconds + self.subsec / SAMPLE_RATE

    def state(self):
        return {"time_s": self.time_s(), "relays": list(self.io.coils), "di": list(self.io.inputs),
                "frames": self.frames, "windows": self.windows, "address": self.slave.address,
                "baud": self.config.get("baud") * 100, "data": regmap.DATA_NAMES[self.config.get("dATA")],
                "wiring": regmap.SYSS_NAMES[self.config.get("SYSS")]}

    def state_json(self):
        import json

        return json.dumps(self.state())

    def power_down(self):
        """Orderly power-down (supply failing or SIGTERM in the sim): save what is not saved yet."""
        self.config.save()
