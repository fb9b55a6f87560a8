# SPDX-License-Identifier: MIT
# The Pico board: builds the meter from this board's parts (store partition, RS485 line) and runs its main loop.
# main.py calls run(); the device benchmarks and tests call make_meter() to get the meter exactly as it boots.
import time

import micropython
from micropython import const

from boards.pico import pins

# The main loop's schedule, in ADC blocks (the DMA ring's blocks of BLOCK samples: 10 ms at 8000 samples/s).
# Every block: Meter.feed. Python work that needs no sample rate runs less often: on the RP2040 each Python call
# costs thousands of cycles, and settings, saves and the UI's timers need no 10 ms resolution.
BLOCK = const(80)
SERVICE_BLOCKS = const(10)  # Meter.service and Meter.tick every 100 ms (and service at once after a write's reply)
LCD_BLOCKS = const(50)  # the display redrawn twice a second, in LCD_STEPS blocks: the page, the glass in two
LCD_STEPS = const(4)  # parts, SPI1
GC_BLOCKS = const(200)  # gc.collect every 2 s: garbage never piles up into one long collection
CONSOLE_BLOCKS = const(5)  # the service console every 50 ms (a select.poll costs ~6,000 cycles)
_SIO_GPIO_IN = const(0xD0000004)
WDT_MS = const(2000)  # the watchdog: a loop stuck this long resets the chip (the longest step is ~20 ms)
# Watchdog scratch registers 0..3 survive a reset (not a power loss; 4..7 are the boot ROM's): the clock and the
# count of watchdog resets since power-up (RP2040 datasheet 4.7, SCRATCH0..7)
_SCRATCH = const(0x4005800C)
_MAGIC = const(0x4B504D35)  # "KPM5": the words below are ours


def store_partition():
    """The raw flash partition of the meter's record store (pins.STORE): rp2.Flash, a block device with the
    extended protocol (readblocks/writeblocks with an offset, ioctl 6 erases one 4 KiB block)."""
    import rp2

    return rp2.Flash(start=pins.STORE["start"], len=pins.STORE["len"])


def events_partition():
    """The event log's raw partition (pins.EVENTS, 4 blocks of 4 KiB: firmware/events.py), rp2.Flash."""
    import rp2

    return rp2.Flash(start=pins.EVENTS["start"], len=pins.EVENTS["len"])


def make_meter(relay_out=None, pulse_out=None, ao_out=None):
    """The meter as the board builds it at power-up: its sampler runs the Thumb-1 span kernel (the viper twin,
    firmware/kernel_span.py, is 15 times slower on the M0+; same sums, bit for bit) and its harmonics capture
    the Thumb-1 spreading loop (boards/pico/grid_thumb.py; twin: firmware/harmonics_grid.py)."""
    from boards.pico import grid_thumb, kernel_thumb
    from firmware.meter import Meter

    return Meter(store_partition(), relay_out=relay_out, pulse_out=pulse_out, ao_out=ao_out, span=kernel_thumb,
                 spread=grid_thumb, events=events_partition())


def start_adc(block=BLOCK):
    """The ADS131M08 set up on SPI0 and streaming into the DMA ring: (chip, ring). OSError when the chip does not
    answer (the caller shows it; the meter cannot measure without it)."""
    from machine import SPI, Pin

    from boards.pico import adc_dma, ads131m08, frames_thumb

    p = pins.ADC_SPI
    adc_dma.start_clkin(p["clkin"])
    # mode 1 (CPOL 0, CPHA 1: the ADS131M08 shifts out on rising SCLK, latches on falling); 125/16 = 7.8 MHz
    spi = SPI(p["id"], baudrate=8000000, polarity=0, phase=1, bits=8, sck=Pin(p["sck"]), mosi=Pin(p["mosi"]),
              miso=Pin(p["miso"]))
    chip = ads131m08.Ads131m08(spi, None, Pin(p["drdy"], Pin.IN), None)  # CS tied low, SYNC/RESET high
    chip.setup()
    ring = adc_dma.AdcDma(block, frames_thumb.decode)
    ring.start(chip)
    return chip, ring


class Board:
    """Everything the main loop drives, built once at power-up: the meter, the ADC ring, RS485, the console, the
    power-fail input. step() is one pass of the loop (the tests and the benchmark call it too)."""

    def __init__(self):
        import gc
        from array import array

        import machine
        from machine import PWM, SPI, WDT, Pin

        from boards.pico import ao, console, dio, keys, rs485, st7567

        relays = dio.Relays(tuple(Pin(n, Pin.OUT, value=0) for n in pins.RELAYS))
        pulse = dio.PulseOut(Pin(pins.PULSE_P, Pin.OUT, value=0), Pin(pins.PULSE_Q, Pin.OUT, value=0))
        self._ao = ao.AnalogOut(PWM(Pin(pins.AO_PWM)))
        self.meter = make_meter(relays, pulse, self._ao)
        gc.collect()
        self.keys = keys.Keys({name: Pin(n, Pin.IN, Pin.PULL_UP) for name, n in pins.KEYS.items()})
        self.inputs = dio.Inputs(tuple(Pin(n, Pin.IN, Pin.PULL_UP) for n in pins.INPUTS))
        lp = pins.LCD_SPI
        # miso=None: the rp2 port would otherwise take GP8 (relay DO1) as SPI1's MISO
        spi1 = SPI(lp["id"], baudrate=10000000, sck=Pin(lp["sck"]), mosi=Pin(lp["mosi"]), miso=None)
        self.lcd = st7567.St7567(spi1, Pin(lp["cs"], Pin.OUT, value=1), Pin(lp["dc"], Pin.OUT, value=0),
                                 None, Pin(lp["backlight"], Pin.OUT, value=0))  # RST on the RUN line
        self.lcd.init()
        self.fbuf = bytearray(lp["width"] * lp["height"] // 8)
        self.lcd.bind(self.fbuf)
        self._scr = None  # the page being redrawn (panel(): LCD_STEPS blocks)
        self.ticks_ms = time.ticks_ms
        # the panel's pins in one SIO GPIO_IN read (panel()); the RS485 poll's cheap pre-check (step())
        self._kmask = 0
        for n in pins.KEYS.values():
            self._kmask |= 1 << n
        self._dmask = 0
        for n in pins.INPUTS:
            self._dmask |= 1 << n
        self._klast = self._kmask
        self._dlast = -1
        self._ksettle = 0
        self._dsettle = 0
        self.samples = array("i", bytes(4 * 8 * BLOCK))
        self.line = rs485.attach(self.meter)
        self.port = self.line.poll
        self._uart_any = self.line.uart.any
        self._asm = self.line.port.asm
        self.console = console.Console(self.meter, self.figures)
        self.fail = False
        self.pf = dio.PowerFail(Pin(pins.POWER_FAIL, Pin.IN, Pin.PULL_UP), self._power_fail)
        self.blocks = 0
        self.di_changes = 0  # debounced DI changes handed to the meter
        self.gc = gc.collect
        self.mem32 = machine.mem32
        self.mem_free = gc.mem_free
        self.watchdog_resets = self._restart()
        self.chip, self.ring = start_adc()
        self.wdt = WDT(timeout=WDT_MS)

    def _restart(self):
        """After a reset that kept the chip powered (watchdog, machine.reset()), the clock goes on from the time
        kept in the scratch registers (the stored one is up to a minute older); a watchdog reset is counted.
        After a power loss the scratch words are gone: the clock resumes from the stored time (firmware/ledger)."""
        import machine

        mem = machine.mem32
        n = 0
        if mem[_SCRATCH] == _MAGIC:
            n = mem[_SCRATCH + 12]
            clock = self.meter.clock
            if clock.set_ymd(mem[_SCRATCH + 4]):
                clock.set_hms(mem[_SCRATCH + 8])
            if machine.reset_cause() == machine.WDT_RESET:
                n += 1
        mem[_SCRATCH] = _MAGIC
        mem[_SCRATCH + 12] = n
        return n

    def _keep_clock(self):
        c = self.meter.clock
        mem = self.mem32
        mem[_SCRATCH + 4] = c.ymd
        mem[_SCRATCH + 8] = c.hms

    def _power_fail(self, pin):
        self.fail = True  # the loop saves at its next pass (within one block: 10 ms)

    def figures(self):
        r = self.ring
        return {"heap_free": self.mem_free(), "adc_frames_lost": r.frames_lost, "adc_crc_errors": r.crc_errors,
                "adc_stale_frames": r.stale_frames, "adc_overruns": r.overruns, "adc_blocks": r.blocks,
                "gaps": self.meter.gaps, "watchdog_resets": self.watchdog_resets, "ao_ua": self._ao.ua,
                "di_changes": self.di_changes,
                "runtime": {"blocks": self.blocks, "frames_rx": self.line.port.frames,
                            "console_commands": self.console.commands}}

    def step(self):
        """One pass: a block of samples when one is ready (and the work scheduled on block counts), else Modbus,
        the console and a sleep until the next interrupt."""
        m = self.meter
        r = self.ring.poll(self.samples)
        if r >= 0:
            if r == 0:
                m.feed(self.samples, BLOCK)
            else:
                m.gap(r)
            b = self.blocks + 1
            self.blocks = b
            if b % SERVICE_BLOCKS == 0:
                m.service()
                m.tick(100)
                self._keep_clock()
            self.wdt.feed()
            if b % GC_BLOCKS == 0:
                self.gc()
            self.panel(b)
            if b % CONSOLE_BLOCKS == 0:
                self.console.poll()
        # Modbus after a block too (the DMA IRQ is what wakes the loop); the full poll only when bytes came in or a
        # frame waits for its t3.5: a Python call costs ~1,500 cycles on the M0+ and this runs 100 times a second
        asm = self._asm
        if self._uart_any() or asm.n or asm.bad:
            self.port()
            if m.service_due:  # a write was answered: its effect now, before the master's next request
                m.service()
        if self.fail:
            self.power_down()

    def panel(self, b):
        """Keys and switch inputs (their drivers debounce in ms) and the LCD twice a second. One read of SIO
        GPIO_IN per block decides whether the drivers need a call: keys while one is down and for 50 ms after a
        change, the inputs until their debounce (40 ms) has settled."""
        m = self.meter
        g = self.mem32[_SIO_GPIO_IN]
        kb = g & self._kmask
        if kb != self._klast:
            self._klast = kb
            self._ksettle = 5
        if kb != self._kmask or self._ksettle:  # a key is down (low), or its level changed lately
            if self._ksettle:
                self._ksettle -= 1
            k = self.keys.poll(self.ticks_ms(), m.ui.model.cursor_row >= 0)  # repeats only while editing
            if k is not None:
                m.key(k)
        db = g & self._dmask
        if db != self._dlast:
            self._dlast = db
            self._dsettle = 1
        if self._dsettle:
            # polled every block until the debounce settles, timed in ms: after a long step the ring hands over
            # blocks back to back, and a count of blocks would stop polling before the 40 ms were up
            d = self.inputs.poll(self.ticks_ms())
            if d:
                m.di(d if d > 0 else -d, d > 0)
                self.di_changes += 1
            elif not self.inputs.pending():
                self._dsettle = 0
        # the redraw in LCD_STEPS blocks (20 ms in one on the RP2040): the page with its values formatted, the glass
        # drawn from it (strips and bars, then the rows), the frame sent
        step = b % LCD_BLOCKS
        if step == 0:
            self._scr = m.ui.screen()
        elif (step == 1 or step == 2) and self._scr is not None:
            from firmware.ui import fb

            fb.render(self._scr, self.fbuf, step)  # the glass, straight into the LCD's MONO_VLSB bytes
        elif step == 3 and self._scr is not None:
            self.lcd.show(self.fbuf)
            self.lcd.backlight(self._scr.backlight)
            self._scr = None

    def power_down(self):
        """The supply is collapsing: save what is not saved, tell the console, wait for the end (or for the
        supply to come back: then start again from the saved state)."""
        import machine

        self.ring.stop()
        self.meter.power_down()
        print("!bye")
        while self.pf.low():
            time.sleep_ms(1)
        time.sleep_ms(100)
        machine.reset()


@micropython.asm_thumb
def wfi():
    # sleep until an interrupt is pending (ARMv6-M WFI): the DMA block IRQ, a UART or USB IRQ, the power-fail
    # edge. machine.idle() is WFE through the SDK's best_effort_wfe_or_timeout, which sets an alarm that signals
    # an event first, so it returns at once and the loop spins (measured on the emulated chip: 0.2 % asleep).
    wfi()


def run():
    board = Board()
    print("KPM53 firmware on", pins.ARCH, "ready")
    print("READY")
    step = board.step
    ring = board.ring
    while True:
        step()
        if ring.filled == ring.used:
            wfi()  # until an interrupt: the DMA block IRQ at the latest (10 ms); the emulator skips the time
