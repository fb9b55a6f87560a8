# SPDX-License-Identifier: MIT
# The ESP32 board: builds the meter from this board's parts (store partition, RTC, RS485 line) and runs its main
# loop; the structure of boards/pico/board.py, with viper kernels (firmware/'s defaults) and the I2S ADC stream.
import time

from micropython import const

from boards.esp32 import pins

BLOCK = const(80)  # samples per Meter.feed: 10 ms at 8000 samples/s
SERVICE_BLOCKS = const(10)  # Meter.service and Meter.tick every 100 ms
LCD_BLOCKS = const(50)  # the display redrawn twice a second
GC_BLOCKS = const(200)  # gc.collect every 2 s
RTC_BLOCKS = const(6000)  # the RTC set from the meter's clock every minute
_YEAR_VALID = const(2024)  # an RTC that reads an earlier year lost its time (power loss: it restarts at 2000)


def store_device(esp32=None):
    """The meter's record store: the raw data partition labelled pins.STORE["label"] (esp32.Partition, a block
    device with the extended protocol: readblocks/writeblocks with an offset, ioctl 6 erases a 4 KiB block),
    else the fallback directory (a file on littlefs, firmware/filedev.py). esp32: the module (tests pass a
    fake)."""
    if esp32 is None:
        try:
            import esp32
        except ImportError:
            return pins.STORE["fallback"]
    found = esp32.Partition.find(esp32.Partition.TYPE_DATA, label=pins.STORE["label"])
    if not found:
        return pins.STORE["fallback"]
    part = found[0]
    if part.ioctl(5, 0) != pins.STORE["block_size"] or part.ioctl(4, 0) < 3:
        return pins.STORE["fallback"]
    return part


def clock_from_rtc(meter, rtc):
    """At power-up: an RTC that kept time (a reset, a watchdog, deep sleep: the RTC domain stays powered) sets the
    meter's clock; one that lost it (power loss: the ESP32 has no RTC battery) is set from the meter's clock, which
    resumed from the stored time (firmware/ledger.py). True when the RTC's time was taken."""
    dt = rtc.datetime()  # (year, month, day, weekday, hours, minutes, seconds, subseconds)
    clk = meter.clock
    if dt[0] >= _YEAR_VALID and clk.set_ymd(dt[0] * 10000 + dt[1] * 100 + dt[2]):
        clk.set_hms(dt[4] * 10000 + dt[5] * 100 + dt[6])
        return True
    rtc_from_clock(meter, rtc)
    return False


def rtc_from_clock(meter, rtc):
    """The RTC set from the meter's clock (its time runs off the ADC's crystal; the RTC's off the ESP32's)."""
    ymd = meter.clock.ymd
    hms = meter.clock.hms
    rtc.datetime((ymd // 10000, (ymd // 100) % 100, ymd % 100, 0, hms // 10000, (hms // 100) % 100, hms % 100, 0))


def events_device(esp32=None):
    """The event log's flash: the raw data partition labelled pins.EVENTS["label"] (at least 2 blocks of 4 KiB),
    else None: the meter then keeps the log beside a store on the filesystem (/events.bin), or in RAM when the
    store is a raw partition (lost at a cut: give the log its partition). esp32: the module (tests pass a fake)."""
    if esp32 is None:
        try:
            import esp32
        except ImportError:
            return None
    found = esp32.Partition.find(esp32.Partition.TYPE_DATA, label=pins.EVENTS["label"])
    if found and found[0].ioctl(5, 0) == pins.EVENTS["block_size"] and found[0].ioctl(4, 0) >= 2:
        return found[0]
    return None


def make_meter(relay_out=None, pulse_out=None, store=None, events=None):
    """The meter as the board builds it at power-up: viper kernels (firmware's defaults), the store partition,
    the event log's partition (or file)."""
    from firmware.meter import Meter

    return Meter(store_device() if store is None else store, relay_out=relay_out, pulse_out=pulse_out,
                 events=events if events is not None else (events_device() if store is None else None))


def start_adc(block=BLOCK):
    """The ADS131M08 set up over SPI2, then streamed by I2S0: (chip, ring). OSError when the chip does not answer."""
    from machine import I2S, SPI, Pin

    from boards.esp32 import adc_i2s
    from boards.pico import ads131m08

    p = pins.ADC_SPI
    spi = SPI(p["id"], baudrate=8000000, polarity=0, phase=1, bits=8, sck=Pin(p["sck"]), mosi=Pin(p["mosi"]),
              miso=Pin(p["miso"]))
    cs = Pin(p["cs"], Pin.OUT, value=1)
    chip = ads131m08.Ads131m08(spi, cs, Pin(p["drdy"], Pin.IN), None)  # SYNC/RESET tied to EN: RESET command
    chip.setup()
    spi.deinit()
    Pin(p["mosi"], Pin.OUT, value=0)  # DIN low: every frame is a NULL command
    cs.value(0)  # CS stays low: the chip frames by clock count (MODE.TIMEOUT)
    c = pins.ADC_I2S
    i2s = I2S(c["id"], sck=Pin(p["sck"]), ws=Pin(p["ws"]), sd=Pin(p["miso"]), mode=I2S.RX, bits=c["bits"],
              format=I2S.STEREO, rate=c["rate"], ibuf=c["ibuf"])
    adc_i2s.invert_output(p["sck"])
    ring = adc_i2s.AdcI2s(i2s, block)
    ring.start()
    return chip, ring


class Board:
    """Everything the main loop drives, built once at power-up: the meter, the ADC ring, RS485, the console, the
    panel, the power-fail input, the RTC. step() is one pass of the loop."""

    def __init__(self):
        import gc
        from array import array

        from machine import ADC, RTC, SPI, Pin

        from boards.esp32 import keys_ladder, rs485
        from boards.pico import console, dio, st7567

        relays = dio.Relays(tuple(Pin(n, Pin.OUT, value=0) for n in pins.RELAYS))
        pulse = dio.PulseOut(Pin(pins.PULSE_P, Pin.OUT, value=0))
        self.meter = make_meter(relays, pulse)
        gc.collect()
        self.rtc = RTC()
        clock_from_rtc(self.meter, self.rtc)
        self.keys = keys_ladder.KeysLadder(ADC(Pin(pins.KEYS_ADC), atten=ADC.ATTN_11DB))
        self.inputs = dio.Inputs(tuple(Pin(n, Pin.IN) for n in pins.INPUTS))  # input-only pins: external pull-ups
        lp = pins.LCD_SPI
        spi1 = SPI(lp["id"], baudrate=10000000, sck=Pin(lp["sck"]), mosi=Pin(lp["mosi"]))
        self.lcd = st7567.St7567(spi1, Pin(lp["cs"], Pin.OUT, value=1), Pin(lp["dc"], Pin.OUT, value=0),
                                 _NoPin(), Pin(lp["backlight"], Pin.OUT, value=0))  # LCD RST: RC on the module
        self.lcd.init()
        self.fbuf = bytearray(lp["width"] * lp["height"] // 8)
        self.lcd.bind(self.fbuf)
        self.ticks_ms = time.ticks_ms
        self.samples = array("i", bytes(4 * 8 * BLOCK))
        self.line = rs485.attach(self.meter)
        self.port = self.line.poll
        self.console = console.Console(self.meter, self.figures)
        self.fail = False
        self.pf = Pin(pins.POWER_FAIL, Pin.IN)
        self.pf.irq(self._power_fail, Pin.IRQ_FALLING)
        self.blocks = 0
        self.gc = gc.collect
        self.mem_free = gc.mem_free
        self.chip, self.ring = start_adc()

    def _power_fail(self, pin):
        self.fail = True  # the loop saves at its next pass (within one block: 10 ms)

    def figures(self):
        r = self.ring
        return {"heap_free": self.mem_free(), "adc_frames_lost": r.frames_lost, "adc_crc_errors": r.crc_errors,
                "adc_stale_frames": r.stale_frames, "adc_overruns": r.overruns, "adc_blocks": r.blocks,
                "adc_aligns": r.aligns, "gaps": self.meter.gaps, "watchdog_resets": 0,
                "runtime": {"blocks": self.blocks, "frames_rx": self.line.port.frames,
                            "console_commands": self.console.commands}}

    def step(self):
        """One pass: a block of samples when one is ready (and the work scheduled on block counts), else Modbus
        and the console."""
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
            if b % GC_BLOCKS == 0:
                self.gc()
            if b % RTC_BLOCKS == 0:
                rtc_from_clock(m, self.rtc)
            self.panel(b)
        self.port()
        if m.service_due:  # a write was answered: its effect now, before the master's next request
            m.service()
        self.console.poll()
        if self.fail:
            self.power_down()

    def panel(self, b):
        """Keys and switch inputs every block, the LCD twice a second."""
        m = self.meter
        now = self.ticks_ms()
        k = self.keys.poll(now, m.ui.model.cursor_row >= 0)
        if k is not None:
            m.key(k)
        d = self.inputs.poll(now)
        if d:
            m.di(d if d > 0 else -d, d > 0)
        if b % LCD_BLOCKS == 0:
            from firmware.ui import fb

            scr = m.ui.screen()
            fb.render(scr, self.fbuf)  # the glass, straight into the LCD's MONO_VLSB bytes
            self.lcd.show(self.fbuf)
            self.lcd.backlight(scr.backlight)

    def power_down(self):
        """The supply is collapsing: save, set the RTC, tell the console, wait for the end (or for the supply to
        come back: then start again from the saved state)."""
        import machine

        self.ring.stop()
        self.meter.power_down()
        rtc_from_clock(self.meter, self.rtc)
        print("!bye")
        while self.pf.value() == 0:
            time.sleep_ms(1)
        time.sleep_ms(100)
        machine.reset()


class _NoPin:
    """A pin that is not wired (the LCD module's RST has its own RC): value() is accepted and ignored."""

    def value(self, v=None):
        return 1


def run():
    import machine

    board = Board()
    print("KPM53 firmware on", pins.ARCH, "ready")
    print("READY")
    step = board.step
    idle = machine.idle
    while True:
        step()
        idle()  # the ESP32 port's idle yields to other FreeRTOS tasks (the I2S driver's, Wi-Fi's if on)
