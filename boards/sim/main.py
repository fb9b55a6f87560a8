# SPDX-License-Identifier: MIT
# Sim board runtime loop: reads launcher messages (boards/sim/proto.py: kind byte, uint32 LE length, payload) from
# stdin, drives the Meter, writes replies to stdout. EOF on stdin is a power cut: exit at once, save nothing.
# See docs/sim.md.
import sys
from array import array

from micropython import const

from boards.sim import board, proto
from boards.sim.proto import COMMAND, DI, ERROR, FRAME, KEY, LINE, QUIT, READY, SAMPLES, TEXT

_OVERRUNS = const(7)  # Slave.counters index of FC08 sub 0x12 (firmware/modbus/slave.py OVERRUNS)
_SCRATCH = const(256)
_RATE = const(8000)  # samples/s (firmware/frontend.py SAMPLE_RATE)
_FB_BYTES = const(1024)  # the 128x64 LCD's frame buffer, MONO_VLSB (the ST7567's page layout)


def _report(e):
    # never on stdout: it carries the protocol
    if hasattr(sys, "print_exception"):
        sys.print_exception(e, sys.stderr)
    else:
        import traceback
        traceback.print_exception(type(e), e, e.__traceback__, file=sys.stderr)


class Runtime:
    """One meter behind a message pipe. inp/out: binary streams (sys.stdin.buffer, sys.stdout.buffer)."""

    def __init__(self, meter, inp, out):
        self.meter = meter
        self.inp = inp
        self.out = out
        self.hdr = bytearray(proto.HEADER)
        self.ohdr = bytearray(proto.HEADER)
        self._grow(board.BLOCK)
        self.frame = bytearray(board.RX_FRAME_MAX)
        self.fmv = memoryview(self.frame)
        self.scratch = bytearray(_SCRATCH)
        self.xmv = memoryview(self.scratch)
        # counters shown under "runtime" in the state JSON (the launcher's tests read them)
        self.messages = 0
        self.blocks = 0
        self.frames_rx = 0
        self.rx_bytes = 0
        self.frames_tx = 0
        self.frames_dropped = 0
        self.errors = 0
        self.keys = 0  # K messages handed to meter.key (the terminal's tests count them against the keys sent)
        self.failed = False
        self.fbuf = bytearray(_FB_BYTES)  # `fb`: the frame buffer the panel draws into, made once
        self.tick = meter.tick  # UI timers (blink, timeouts) in simulated ms
        self.tick_rem = 0  # samples not yet turned into whole ms
        # FC08 counters: a frame longer than 256 bytes is the UART driver's overrun, as Port counts it on a device
        self.counters = meter.slave.counters
        # the line settings go to the launcher (it models the wire between the master's termios and the meter):
        # now, and whenever the meter applies new ones (on_serial, after the reply to the write that made them)
        self.config = meter.config
        meter.bind_line(self.serial)
        # switch inputs: this board has no debouncing driver, so the meter debounces the raw level (di_raw)
        self.di = meter.di_raw

    def _grow(self, n):
        # sample buffer for blocks of n samples x 8 channels; reallocated only when a bigger block arrives
        self.cap = n
        self.samples = array("i", bytes(4 * board.CHANNELS * n))
        self.smv = memoryview(self.samples)
        self.last_n = n
        self.view = self.samples

    def _read(self, buf, n):
        # readinto fills the whole buffer on CPython and MicroPython (both loop over short pipe reads): a short
        # count can only mean EOF
        return self.inp.readinto(buf) == n

    def _drain(self, n):
        while n > 0:
            k = n if n < _SCRATCH else _SCRATCH
            if not self._read(self.xmv[:k] if k < _SCRATCH else self.scratch, k):
                return False
            n -= k
        return True

    def _text(self, n):
        if n > _SCRATCH:
            return None if not self._drain(n) else ""
        if n and not self._read(self.xmv[:n], n):
            return None
        return bytes(self.xmv[:n]).decode()

    def send(self, kind, payload, n):
        h = self.ohdr
        proto.put_header(h, kind, n)
        self.out.write(h)
        if n:
            self.out.write(payload if len(payload) == n else memoryview(payload)[:n])
        self.out.flush()

    def serial(self, baud, data):
        self.send_text(LINE, "%d %d" % (baud, data))

    def send_text(self, kind, text):
        b = text.encode()
        self.send(kind, b, len(b))

    def state(self):
        import json
        d = json.loads(self.meter.state_json())
        d["runtime"] = {"messages": self.messages, "blocks": self.blocks, "frames_rx": self.frames_rx,
                        "rx_bytes": self.rx_bytes, "keys": self.keys,
                        "frames_tx": self.frames_tx, "frames_dropped": self.frames_dropped, "errors": self.errors}
        # what the sim board would show beside the glass: the 4-20 mA output (the Pico board's figures carry the
        # same ao_ua), the backlight, and where the panel is (the terminal's tests check key counts against it)
        d["ao_ua"] = self.meter.analog.ua
        menu = self.meter.ui.menu
        d["backlight"] = bool(menu.backlight)
        d["ui"] = {"mode": menu.mode, "screen": menu.screen, "group": menu.group, "page": menu.page,
                   "pages": menu.group_len()}
        return json.dumps(d)

    def fb(self):
        """The LCD's frame buffer as the panel draws it: 1024 bytes MONO_VLSB, as 2048 hex digits (a T payload)."""
        import binascii
        self.meter.ui.render(self.fbuf)  # Ui.render(buf): the panel's own renderer, into the buffer made once
        return binascii.hexlify(self.fbuf)

    def step(self):
        """Handle one message. Returns False on EOF (power cut) or after `Q`."""
        h = self.hdr
        if not self._read(h, proto.HEADER):
            return False
        kind = h[0]
        n = proto.length(h)
        self.messages += 1
        if kind == SAMPLES:
            return self._samples(n)
        if kind == FRAME:
            # every M gets exactly one M back, empty for no reply, so the launcher knows which request a reply answers
            if n > len(self.frame):
                # longer than any RTU frame: on a device the UART driver's assembler overruns (firmware/modbus/port.py):
                # FC08 sub 0x12 counts it, the slave never sees it, nothing is answered
                self.frames_dropped += 1
                c = self.counters
                c[_OVERRUNS] = (c[_OVERRUNS] + 1) & 0xFFFF
                if not self._drain(n):
                    return False
                self.send(FRAME, b"", 0)
                return True
            if not self._read(self.frame if n == len(self.frame) else self.fmv[:n], n):
                return False
            self.frames_rx += 1
            self.rx_bytes += n
            r = 0
            try:
                r = self.meter.modbus(self.frame, n)
            finally:
                if r:
                    self.frames_tx += 1
                    self.send(FRAME, self.meter.tx, r)
                else:
                    self.send(FRAME, b"", 0)
            return True
        if kind == DI:
            if n != 2:
                self.send_text(ERROR, "D: expected 2 bytes, got %d" % n)
                return self._drain(n)
            if not self._read(self.xmv[:2], 2):
                return False
            self.di(self.scratch[0], self.scratch[1] != 0)
            return True
        if kind == QUIT:
            if not self._drain(n):
                return False
            try:
                self.meter.power_down()
            except Exception as e:
                self.errors += 1
                self.failed = True
                _report(e)
                self.send_text(ERROR, "power_down: %s: %s" % (type(e).__name__, e))
            self.send_text(TEXT, "bye")  # the launcher waits for it; a failed save shows in the exit status
            return False
        text = self._text(n)
        if text is None:
            return False
        if kind == KEY:
            self.keys += 1
            self.meter.key(text)
        elif kind == COMMAND:
            self._command(text)
        else:
            self.send_text(ERROR, "unknown message type %r" % chr(kind))
        return True

    def _samples(self, n):
        if n % (4 * board.CHANNELS):
            self.send_text(ERROR, "S: %d bytes is not whole samples" % n)
            return self._drain(n)
        count = n // (4 * board.CHANNELS)
        if count > self.cap:
            self._grow(count)
        if count != self.last_n:
            # a view of exactly count samples; the usual block size reuses the cached one (no allocation)
            self.last_n = count
            self.view = self.samples if count == self.cap else self.smv[:count * board.CHANNELS]
        if n and not self._read(self.view, n):
            return False
        self.blocks += 1
        self.meter.feed(self.samples, count)
        # 8 samples = 1 ms at 8000 samples/s; carry the remainder so odd block sizes lose no time
        r = self.tick_rem + count * 1000
        ms = r // _RATE
        self.tick_rem = r - ms * _RATE
        if ms:
            self.tick(ms)
        return True

    def _command(self, text):
        # every C gets exactly one T (the launcher pairs them in order), even when the meter fails
        try:
            if text == "lcd":
                out = self.meter.lcd_text()
            elif text == "fb":
                out = self.fb()  # bytes already
            elif text == "state":
                out = self.state()
            elif text.startswith("set "):
                out = self._set(text)
            else:
                out = "ERR unknown command %r" % text
        except Exception as e:
            self.errors += 1
            _report(e)
            out = "ERR %s: %s" % (type(e).__name__, e)
        if isinstance(out, str):
            out = out.encode()
        self.send(TEXT, out, len(out))

    def _set(self, text):
        # "set NAME VALUE": a setting made at the panel (the launcher applies a scenario's wiring this way)
        words = text.split()
        if len(words) != 3:
            return "ERR usage: set NAME VALUE"
        ok = self.meter.set(words[1], int(words[2]))
        return "ok" if ok else "ERR refused %s=%s" % (words[1], words[2])

    def run(self):
        cfg = self.config
        self.serial(cfg.get("baud") * 100, cfg.get("dATA"))
        self.send(READY, b"", 0)
        while True:
            try:
                if not self.step():
                    return 1 if self.failed else 0
                self.meter.service()
            except Exception as e:
                # a meter bug must not kill the simulated device silently: log it, tell the launcher, go on
                self.errors += 1
                _report(e)
                self.send_text(ERROR, "%s: %s" % (type(e).__name__, e))


def make_meter(state_dir):
    """The Meter with the sim board's flash: two simulated NOR chips whose images stay in state_dir across
    restarts (flash.bin: the record store, events.bin: the event log), or RAM only without a state_dir."""
    from firmware.meter import Meter  # here, not at the top: the loop is testable without the meter

    if state_dir is None:
        return Meter(None)
    from boards.sim.norflash import Flash
    from firmware import events, store

    store.ensure_dir(state_dir)
    d = state_dir.rstrip("/") + "/"
    return Meter(Flash(store.SIM_BLOCKS, path=d + store.FLASH_FILE),
                 events=Flash(events.BLOCKS, path=d + events.FILE))


def main():
    # argv: [state_dir] [--meter=module:Class]; the option swaps in a test double for the Meter
    state_dir = None
    cls = make_meter
    for a in sys.argv[1:]:
        if a.startswith("--meter="):
            mod, name = a[8:].split(":")
            cls = getattr(__import__(mod, None, None, [name]), name)
        else:
            state_dir = a
    out = sys.stdout.buffer
    try:
        sys.stdout = sys.stderr  # stray print()s would corrupt the protocol (CPython; MicroPython cannot)
    except AttributeError:
        pass
    if Runtime(cls(state_dir), sys.stdin.buffer, out).run():
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        _report(e)  # MicroPython prints an uncaught traceback on stdout, into the protocol: keep it on stderr
        sys.exit(1)
