# SPDX-License-Identifier: MIT
# The meter as one object: wires sampler, metering, register image, Modbus slave, config, store and UI.
# Boards feed it sample blocks and Modbus frames; it never touches hardware itself (callbacks do).
import gc
from array import array

from micropython import const

from firmware import apply, regmap, version
from firmware.alarms import Alarms
from firmware.analog import Analog
from firmware.calib import CAL_BASE, CMD_BASE, N_ROWS, Calib
from firmware.config import Config
from firmware.cyclerms import C_POLL, CycleRms
from firmware.frontend import SAMPLE_RATE
from firmware.demand import Demand
from firmware.harmonics import Harmonics
from firmware.inputflags import InputFlags
from firmware.events import EventLog
from firmware.events import device as events_device
from firmware.io import Io
from firmware.iolog import IoLog
from firmware.journal import MODBUS, PANEL, Journal
from firmware.kernel import D_N
from firmware.ledger import Ledger
from firmware.maxmin import MaxMin
from firmware.metering import Metering
from firmware.modbus import codes
from firmware.modbus.diag import Diagnostics
from firmware.modbus.ident import Ident
from firmware.modbus.slave import Slave
from firmware.pqevents import VoltageEvents
from firmware.protect import KEY, Protect
from firmware.regbank import RegisterBank
from firmware.sampler import Sampler
from firmware.sdm630 import Sdm630
from firmware.sdm630_holding import SdmHolding
from firmware.store import Store, ensure_dir
from firmware.ui import Ui

_COMM_HOLD = const(8000)  # samples (1 s) the LCD's comms sign stays on after a frame
_DEFER_MAX = const(256)  # blocks up to this many samples get a closed window processed over the next calls
# requests whose effect service() completes (settings, the event window, an FC08 restart): bit fc set
_WRITES = ((1 << codes.WRITE_SINGLE_COIL) | (1 << codes.WRITE_SINGLE_REGISTER) | (1 << codes.DIAGNOSTICS)
           | (1 << codes.WRITE_MULTIPLE_COILS) | (1 << codes.WRITE_MULTIPLE_REGISTERS))  # a small int


class Meter:
    """The whole meter behind one object; a board (boards/*/main.py) owns the hardware and calls it.

    Built once at power-up with everything it needs (the constructor's arguments; the RS485 line, which needs
    the meter's modbus() to exist first, comes in through bind_line()). Then the board's main loop calls, in
    any interleaving, but each from the one loop (no threads, no interrupts):

    - feed(block, n): every block of samples from the ADC, in order; gap(n) instead when a block was lost.
    - modbus(frame, n): a whole RTU frame from the line; returns the reply's length in self.tx (0: no reply).
    - service(): between blocks and frames, at least every 100 ms, and at once after a write's reply when
      service_due is set: applies settings changed by a master or the keys (then calls on_serial for new line
      settings), refills the event window, saves what is due, logs events.
    - key(name), tick(ms): a front-panel key ("left" "up" "down" "right" "enter"); ms elapsed for the UI's timers.
    - di(k, on) / di_raw(k, on): switch input k (1, 2) as the board's driver debounced it / as a raw level.
    - ui.render(buf) or lcd_text(): the display, when the board redraws it.
    - power_down(): the supply is failing (or SIGTERM in the sim): saves everything not yet saved; call nothing
      after it.

    feed, modbus, each_second and the window stages allocate nothing (host_tests heap_lock() them); service,
    key, set, the UI and power_down may allocate. Time is the ADC's sample count (SAMPLE_RATE per second), not a
    wall clock. Architecture and data flow: docs/ARCHITECTURE.md."""

    def __init__(self, state_dir=None, relay_out=None, on_serial=None, pulse_out=None, ao_out=None, span=None,
                 spread=None, serial=0, events=None):
        """state_dir: the store's block device (a board's flash partition) or a directory (the sim) or None (RAM
        only); relay_out(i, on), pulse_out(channel, level), ao_out(microamps): the board's relay, pulse and 4-20 mA
        outputs (None: none); on_serial(baud, data_code): reprograms the UART (or bind_line() later); span: the
        board's span kernel module for the sampler (None: firmware.kernel_span, viper); spread: its harmonics
        spreading kernel module (None: firmware.harmonics_grid, viper); serial: the board's serial number (SDM630
        holding register 0xFC00; 0 when the board has none); events: the event log's block device (None:
        DIR/events.bin when state_dir is a directory, else RAM only)."""
        # RAM (DESIGN.md 7): the set-up of several parts makes garbage (the store's scan, the sampler's and the
        # harmonics' tables, the SDM630 program); collecting after each keeps what stays packed, so the heap is
        # not left in pieces with the large buffers scattered over it.
        gc.collect()
        self.cycle = CycleRms()  # the voltages' one-cycle RMS every half cycle (dips, swells, interruptions)
        self.sampler = Sampler(span=span, cycle=self.cycle)
        gc.collect()
        if state_dir is not None:
            ensure_dir(state_dir)
        self.store = Store(state_dir)
        new = self.store.writes == 0  # nothing was ever saved: the meter's first power-up (its flash is new)
        gc.collect()
        self.config = Config(self.store)
        self.vals = array("f", [0.0] * regmap.N_MEAS)
        self.io = Io(relay_out)
        self.protect = Protect(self.config)  # Wp write protection: the bank asks it before every write
        self.regs = RegisterBank(self.config, self.vals, self.protect)
        # harmonics/THD/unbalance: the largest buffers, allocated while the heap is in one piece
        self.harm = Harmonics(self.vals, self.sampler, self.regs.image, spread=spread)
        gc.collect()
        # FC04 = the SDM630 profile; FC08 diagnostics; FC17/FC43 identity; Wp protection
        self.sdm = Sdm630(self.vals, self.regs)
        gc.collect()
        self.slave = Slave(self.regs, self.io, self.config.get("Adr"), self.sdm)
        self.diag = Diagnostics(self.slave, self._restart_comms)
        self.ident = Ident(self.slave)
        self.regs.attach(KEY, KEY + 1, self.protect.key_write)
        self.regs.refresh_config()
        self.tx = self.slave.tx
        self.metering = Metering(self.vals, kap=self.harm.kap)  # harmonic rms factors (the front end's filter)
        # 4-20 mA output of the quantity An (docs/analog.md); ao_out(microamps) drives the board's PWM/DAC
        self.analog = Analog(self.vals, ao_out)
        # calibration (store record "calib", CALIBRATION block, CAL_Pass/CAL_Cmd), STATUS
        self.calib = Calib(self.metering, self.store, self.config, self.protect, self.regs.image)
        self.regs.attach(CMD_BASE, CMD_BASE + 2, self.calib.cmd_write)
        self.regs.attach(CAL_BASE, CAL_BASE + 2 * N_ROWS, self.calib.block_write)
        self._status_off = 2 * regmap.block("status")[0]
        # what is wrong with the inputs (over range, current without voltage, phase sequence): STATUS rows 5-8,
        # counters (block ovr_n), cLr_OVR
        self.flags = InputFlags(self.regs.image, self.config)
        # clock, energy, periods, pulses (pulse_out(channel, level): board pins PULSE_P/Q)
        self.ledger = Ledger(self.store, self.regs, self.config, self.vals, regmap.slot, pulse_out)
        self.ledger.energy.bind(self.metering)
        self.clock = self.ledger.clock
        # demand, max/min (store records "demand", "maxmin"), cLr_*
        # both take only what the window measured (metering's mask: transitions, thresholds)
        mask = self.metering.mask
        self.maxmin = MaxMin(self.vals, self.clock, self.store, self.regs.image, self.config, mask)
        self.demand = Demand(self.vals, self.clock, self.store, self.regs.image, self.config, mask)
        for name, handler in (("cLr_MaxMin", self.maxmin.cmd_write), ("cLr_DM", self.demand.cmd_write),
                              ("cLr_OVR", self.flags.cmd_write)):
            a = regmap.address(name)
            self.regs.attach(a, a + 1, handler)
        # alarm rules (docs/alarms.md): blocks alarms / alarm_lim written through their owner, status, counters;
        # the switch inputs' counters and times (block di_log, store record "di")
        self.alarms = Alarms(self.vals, self.io, self.store, self.regs.image)
        a0 = regmap.block("alarms")[0]
        self.regs.attach(a0, a0 + len(regmap.ALARMS), self.alarms.cfg_write)
        a0 = regmap.block("alarm_lim")[0]
        self.regs.attach(a0, a0 + 2 * len(regmap.ALARM_LIM), self.alarms.lim_write)
        self.iolog = IoLog(self.io, self.store, self.regs.image)
        # dips, swells, interruptions (pq_n) from the one-cycle RMS, scaled as metering scales U
        self.pq = VoltageEvents(self.cycle, self.metering.w, self.clock, self.regs.image)
        self._pqcs = self.cycle.cs
        # Prot = 1: FC03/06/16 serve the SDM630 holding registers instead of the native map (docs/modbus.md)
        self.sdmh = SdmHolding(self.config, self.demand, self.ledger.pulse, self.protect, serial)
        self._prot = 0
        self._mw = 0  # metering.windows already given to max/min and demand
        self._stage = 0  # feed(): 1 = a window closed, metering next; 2 = its second half; 3 = energy, registers
        self._sdm_stale = False
        self._due = 0  # seconds whose each_second() is still to run
        self.service_due = False  # a write was answered: the board calls service() now, not at its next tick
        # the panel's settings list: the config plus dATE, tinE and the clears cLr_Eny, cLr_MaxMin, cLr_DM
        self.ui = Ui(self.vals, regmap.slot, self.ledger.panel(self.config, self.maxmin, self.demand, self.alarms),
                     self.io, self._source, self.metering, self.flags)
        # the event log (docs/events.md): its own ring of flash sectors; the journal watches the meter for it
        self.journal = Journal(EventLog(events if events is not None else events_device(state_dir)), self)
        sel = regmap.block("ev_sel")[0]
        self.regs.attach(sel, sel + 1, self.journal.sel_write)
        self.journal.power_up(new)
        self.on_serial = on_serial  # board callback(baud, data_code): reprogram the UART (bind_line)
        self.seconds = 0  # simulated/real time from the ADC's sample clock: whole seconds ...
        self.subsec = 0  # ... and samples into the current second (small ints: no allocation)
        self.frames = 0  # Modbus frames handed to the slave (the sim's state shows it)
        self.windows = 0  # metering windows completed
        self.gaps = 0  # sample blocks the ADC did not deliver whole (gap())
        self._comm = 0
        self._cfg_version = -1
        self._writes = -1
        self._writes_reg = regmap.address("Writes")  # INFO uint32 rows
        self._gaps_reg = regmap.address("Gaps")
        self._gaps = -1
        self._put_u32(regmap.address("Ver"), version.VERSION)  # x 100
        self._put_u32(regmap.address("Ver_D"), version.DATE)  # YYYYMMDD
        self._serial = (self.config.get("baud"), self.config.get("dATA"))
        self.service()
        gc.collect()

    # --- hot paths: allocation-free -------------------------------------------------------------------------
    def feed(self, block, n):
        """block: array('i') holding 8*n interleaved samples (Ua Ub Uc Ia Ib Ic In T), 24-bit codes.

        A board feeding small blocks (n <= 256, the Pico's DMA blocks) gets a closed window processed in three
        stages on its next three calls (metering's two halves; then energy, registers, max/min, demand), so no
        call does the whole window's work: on the RP2040 ~17 ms, the stages ~6, ~6 and ~5 ms (docs/device.md).
        The window's sums wait in the sampler's done buffer, which is only overwritten when the next window
        closes, at least 1,400 samples later. Bigger blocks (the host sim) are processed whole, as before."""
        whole = n > _DEFER_MAX
        busy = self._stage
        if busy:
            if whole:
                self._finish_window()
            else:
                self._next_stage()
        done = self.sampler.feed(block, n)
        if self._pqcs[C_POLL]:  # a half cycle of this block crossed a dip or swell level
            self.pq.poll()
        if done:
            self._stage = 1
            if whole:
                self._finish_window()
        self.harm.feed(block, n, done)  # captures windows, analyses a few orders per block
        self._advance(n)
        if whole or not busy:  # the per-second work (~6 ms on the RP2040) not on a call with a window stage
            self._run_seconds()
        if self._comm > 0:
            self._comm -= n
            if self._comm <= 0:
                self.io.comm = 0

    def gap(self, n):
        """n samples the ADC did not deliver whole (a frame with a bad CRC, a missed DRDY, a DMA ring overrun):
        time goes on (the clock, the pulse timers), the window in progress is discarded and the sampler
        synchronises again (the energy of the dropped window is lost, not invented), a harmonics capture in
        progress is dropped. Counted in self.gaps (the board's state). Not a hot path: seldom, allocation-free."""
        self._finish_window()
        self.gaps += 1
        self.sampler.reset()
        self.harm.drop()
        self._advance(n)
        self._run_seconds()

    def _advance(self, n):
        # n samples of time: the pulse timers, the seconds (their per-second work is run by the caller)
        self.ledger.advance(n)
        self.io.advance(n, self.clock.ymd, self.clock.hms)  # switch inputs: 40 ms debounce in sample time
        s = self.subsec + n
        while s >= SAMPLE_RATE:
            s -= SAMPLE_RATE
            self.seconds += 1
            self._due += 1
        self.subsec = s

    def _next_stage(self):
        # a closed window in three stages: metering's first half; its second half and the input flags; the analog
        # output, energy, registers, max/min, demand, alarms, voltage events
        st = self._stage
        if st == 1:
            self._stage = 2 if self.metering.begin(self.sampler) else 3
            return
        if st == 2:
            mt = self.metering
            mt.finish(self.sampler)
            self.flags.window(self.sampler.done, self.vals, mt.syss, mt.complete, self.harm.seq)
            self._stage = 3
            return
        self.analog.update()  # before publish: AO goes out with the window's values
        self._stage = 0
        self.ledger.window(self.sampler.done, self.vals)
        self.regs.publish()
        self._publish_status()
        if self.calib.busy:
            self.calib.window()
        self.windows += 1
        if self.metering.windows != self._mw:  # a window was metered
            self._mw = self.metering.windows
            self.maxmin.update()
            self.demand.window(self.sampler.done[D_N])
            self.alarms.window(self.sampler.done[D_N])  # per window, not per sample (DESIGN.md 7)
            self.pq.window()  # the detector's levels from this window's scale

    def _finish_window(self):
        while self._stage:
            self._next_stage()

    def _run_seconds(self):
        while self._due:
            self._due -= 1
            self.each_second()

    def settle(self):
        """Finish the stages of a window that closed and the seconds due (tests and tools that read registers
        right after feeding small blocks; the board loop just feeds on)."""
        self._finish_window()
        self._run_seconds()

    def modbus(self, frame, n):
        """frame: buffer holding one RTU frame of n bytes. Returns the reply length in self.tx (0: none)."""
        self.frames += 1
        if n > 1:
            fc = frame[1]
            if self._sdm_stale and fc == 4:  # FC04: the SDM630 profile, refreshed on demand
                self._sdm_stale = False
                self.sdm.refresh()
            elif fc == 3 and self._prot:  # the SDM630 holding registers: settings and demand time, now
                self.sdmh.refresh()
        self.journal.src = self.config.src = MODBUS
        r = self.slave.handle(frame, n)
        self._comm = _COMM_HOLD
        self.io.comm = 1
        if n > 1 and (_WRITES >> frame[1]) & 1:
            self.service_due = True
        return r

    # --- everything else --------------------------------------------------------------------------------------
    def each_second(self):
        """Called from feed() once per second of sample time (clock, periods, demand): allocation-free too."""
        self.protect.tick()
        # the SDM630 FC04 profile: rebuilt (~6 ms on the RP2040) when a master asks for it, at most once a
        # second, as an SDM630 updates its own registers
        self._sdm_stale = True
        self.ledger.second()
        self.demand.second(self.clock.hms)  # subintervals end on the clock's DM_S minutes

    def service(self):
        """Between requests and blocks: apply changed settings (after the reply that made them; one change or a
        burst: applied once), save them. A change waits while a closed window's stages are pending (feed() of small
        blocks: at most three blocks), so no window is metered half with the old constants; set() finishes them
        first."""
        self.service_due = False
        self.diag.service()  # an FC08 restart, after its reply went out
        cfg = self.config
        v = cfg.values
        if self.calib.service(v[apply.PT_U], v[apply.CT_I]):
            self._cfg_version = -1  # new corrections: configure metering again
        if cfg.version != self._cfg_version and not self._stage:
            self._cfg_version = cfg.version
            self.slave.address = v[apply.ADR]
            prot = v[apply.PROT]
            if prot != self._prot:  # after the reply to the write that changed it, as the serial settings
                self._prot = prot
                self.slave.serve(self.sdmh if prot else self.regs)
            serial = (v[apply.BAUD], v[apply.DATA])
            if serial != self._serial:  # first: the master may talk at the new settings right after the reply
                self._serial = serial
                if self.on_serial is not None:
                    self.on_serial(serial[0] * 100, serial[1])
            apply.parts(self)
        if cfg.dirty:
            cfg.save()
        self.ledger.service()
        # INFO Writes (uint32, high word first): records written to flash since it was new
        w = self.store.writes
        if w != self._writes:
            self._writes = w
            self._put_u32(self._writes_reg, w)
        g = self.gaps
        if g != self._gaps:
            self._gaps = g
            self._put_u32(self._gaps_reg, g)
        self.maxmin.service(self.seconds)  # saves at most once a minute
        self.alarms.service()
        self.iolog.service(self.seconds)
        self.journal.watch()
        self.demand.service(self.seconds)

    def _put_u32(self, reg, v):
        # an INFO uint32 (Ver, Ver_D, Writes, Gaps): high word first
        self.regs.put_u16(reg, (v >> 16) & 0xFFFF)
        self.regs.put_u16(reg + 1, v & 0xFFFF)

    def _publish_status(self):
        # STATUS block (uint16, high byte first) from the last window's codes
        img = self.regs.image
        st = self.metering.status
        a = self._status_off
        for k in range(len(st)):
            img[a + 2 * k] = st[k] >> 8
            img[a + 2 * k + 1] = st[k] & 0xFF
        self.flags.put_status()  # then SEQ OVR OVR_L NOV

    def _source(self, name):
        # the UI's page rows that are no measurement slot, looked up when a page is shown: energy, clock,
        # max/min, demand, and the harmonic ratios (Harmonics.hr holds them in regmap.HARMONICS order)
        if name == "AL_act":
            return self.alarms.text
        fn = self.journal.source(name)
        if fn is not None:
            return fn
        for owner in (self.ledger, self.maxmin, self.demand):
            fn = owner.source(name)
            if fn is not None:
                return fn
        k = regmap.HARMONICS.find(name) if name.startswith("HR_") else -1
        if k < 0:
            return None
        hr = self.harm.hr
        return lambda: hr[k]

    def bind_line(self, on_serial):
        """The board's RS485 line, built after the meter because it calls modbus(): on_serial(baud, data_code)
        reprograms its UART after the reply to a write that changed the settings, and on an FC08 restart. The
        current settings are serial_settings()."""
        self.on_serial = on_serial

    def serial_settings(self):
        """(baud rate in bit/s, dATA code 0-5: firmware/modbus/port.py serial_params) as applied now (a change
        written by a master applies in service(), after its reply)."""
        return self._serial[0] * 100, self._serial[1]

    def _restart_comms(self):
        # FC08 sub 01: re-initialise the serial port with the current settings (counters already cleared)
        if self.on_serial is not None:
            self.on_serial(*self.serial_settings())

    def key(self, name):
        self.journal.src = self.config.src = PANEL
        r = self.ui.key(name)
        self.service()  # a setting made with the keys applies now (or, while a window's stages run, 100 ms later)
        return r

    def tick(self, ms):
        self.ui.tick(ms)
        self.ledger.service()  # energy saves by the save policy (outside the sample hot path)

    def di(self, k, on):
        """A switch input's level from a board whose driver debounced it (Pico, ESP32)."""
        self.io.set_input(k - 1, on)

    def di_raw(self, k, on):
        """A switch input's raw level (the sim board): debounced here, 40 ms of sample time (firmware/io.py)."""
        self.io.raw_input(k - 1, on)

    def set(self, name, value, now=True):
        """A setting changed as a technician would at the panel (the sim applies scenario settings this way):
        validated, applied, saved and logged at once. now=False, for a burst (several settings back to back):
        validated and held like a master's register write; the main loop's next service() applies, saves and logs
        them all once (on the Pico within 100 ms; a power-fail warning before then saves them: power_down).
        Returns False when refused (nothing changed)."""
        self.journal.src = self.config.src = PANEL
        ok = self.config.set(name, value)
        if now:
            self._finish_window()
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
                "wiring": regmap.SYSS_NAMES[self.config.get("SYSS")],
                "energy": self.ledger.state(),  # pulses since start-up, clock, saves
                "store": {"writes": self.store.writes, "erases": self.store.erases, "skipped": self.store.skipped},
                "alarms": {"status": list(self.alarms.st), "count": list(self.alarms.cnt),
                           "active": self.alarms.active},
                "di_count": list(self.io.di_n), "relay_mode": list(self.io.mode)}

    def state_json(self):
        import json

        return json.dumps(self.state())

    def power_down(self):
        """Orderly power-down (supply failing or SIGTERM in the sim): save what is not saved yet."""
        self.store.power_fail()  # the saves below use the reserved room: no erase, ~1 ms each
        if self.config.dirty:  # saved by service() whenever it changed
            self.config.save()
        self.ledger.power_down()
        self.maxmin.power_down()
        self.demand.power_down()
        self.iolog.power_down()
        self.journal.power_down()
