# SPDX-License-Identifier: MIT
# ST7567 128x64 dot-matrix LCD controller (Sitronix ST7567 datasheet V1.4b) on a 4-wire SPI bus: SPI1 with CS,
# A0 (= DC: low command, high display data), RST and the backlight on GPIOs (pins.LCD_SPI). Section names below
# are the datasheet's "Instruction Table" entries. The display RAM is 9 pages x 132 columns of vertical bytes (bit 0
# = top row of the page), the layout of framebuf.MONO_VLSB: a 128x64 framebuf goes out page by page as it is.
from micropython import const

WIDTH = const(128)
HEIGHT = const(64)
PAGES = const(8)

# Instruction Table (datasheet section 8, command byte with A0 = 0)
DISPLAY_OFF = const(0xAE)  # (1) Display ON/OFF: AE off, AF on
DISPLAY_ON = const(0xAF)
START_LINE = const(0x40)  # (2) Set Start Line: 0x40 | line 0..63 (the RAM line shown on the top row)
PAGE_ADDR = const(0xB0)  # (3) Set Page Address: 0xB0 | page 0..8
COL_HI = const(0x10)  # (4) Set Column Address: 0x10 | column >> 4, then 0x00 | column & 15
COL_LO = const(0x00)
SEG_NORMAL = const(0xA0)  # (8) SEG Direction: A0 column 0 on SEG0, A1 reversed (column 131 on SEG0)
SEG_REVERSE = const(0xA1)
INVERSE_OFF = const(0xA6)  # (9) Inverse Display: A6 normal, A7 every pixel inverted
ALL_PIXELS_OFF = const(0xA4)  # (10) All Pixel ON: A4 shows the RAM, A5 every pixel on (a lamp test)
BIAS_1_9 = const(0xA2)  # (11) Bias Select: A2 1/9, A3 1/7 (the 1/65 duty of a 64-row glass wants 1/9)
RESET = const(0xE2)  # (14) RESET: software reset of start line, column, page, COM direction, ratio, EV
COM_NORMAL = const(0xC0)  # (15) COM Direction: C0 COM0 -> COM63, C8 COM63 -> COM0
COM_REVERSE = const(0xC8)
POWER_CONTROL = const(0x28)  # (16) Power Control: 0x28 | VB << 2 | VR << 1 | VF (booster, regulator, follower)
POWER_ALL_ON = const(0x2F)
REG_RATIO = const(0x20)  # (17) Regulation Ratio: 0x20 | RR 0..7, ratios 3.0, 3.5 ... 6.5
SET_EV = const(0x81)  # (18) Set EV: two bytes, 0x81 then the electronic volume 0..63 (contrast)
SET_BOOSTER = const(0xF8)  # (19) Set Booster: two bytes, 0xF8 then 0x00 (4x) or 0x01 (5x)
NOP = const(0xE3)  # (20) NOP

# This glass (the common 12864 COG module): upright with SEG normal and COM reversed; ratio and volume give a
# V0 of about 9 V on 3.3 V logic. Contrast is a per-glass setting: contrast() trims it at run time.
RATIO = const(5)  # RR = 5: ratio 5.5; V0 = ratio x 2.1 V x (1 - (63 - EV) / 162) = 9.3 V at EV 31
CONTRAST = const(0x1F)  # electronic volume at power-up, mid-range
RESET_LOW_MS = const(1)  # RST low pulse: datasheet tRW >= 5 us; 1 ms is the shortest sleep_ms gives
RESET_WAIT_MS = const(5)  # after RST high, before the first command: datasheet tR <= 5 us, with margin
POWER_WAIT_MS = const(50)  # after power control on: the booster and V0 settle (application note, ~tens of ms)

# The datasheet's "Referential Instruction Setup Flow" (initialise after power-on and RST):
# function set-up (bias, SEG/COM direction, ratio, volume) -> power control on -> start line -> display on.
# One command transfer: BIAS_1_9, SEG_NORMAL, COM_REVERSE, REG_RATIO | RATIO, SET_EV, CONTRAST (a bytes literal
# stays in flash when frozen); power control and display on follow with their waits.
INIT = b"\xa2\xa0\xc8\x25\x81\x1f"


class St7567:
    """The LCD on an SPI bus (machine.SPI, mode 0 or 3, MSB first; the board uses 10 MHz: keep SCK within the
    datasheet's serial-interface AC timing, tSCYC, for the glass's supply) and four output pins (machine.Pin): cs (low = selected), dc (the A0 input: low = command, high = data), rst
    (low = reset), backlight (high = lit). sleep_ms: a delay for init(), time.sleep_ms by default. Nothing talks
    to the chip before init()."""

    def __init__(self, spi, cs, dc, rst, backlight, sleep_ms=None):
        self.spi = spi
        self.cs = cs
        self.dc = dc
        self.rst = rst
        self.bl = backlight
        self._sleep = sleep_ms
        self._cmd = bytearray(3)  # page address, column high, column low of one page write
        self._cmd2 = bytearray(2)  # two-byte commands (Set EV)
        self._cmd1 = memoryview(self._cmd)[:1]
        self._buf = None  # the framebuf bytes last shown, and its 8 page slices (made when it changes)
        self._pages = None
        cs.value(1)
        dc.value(0)
        backlight.value(0)

    def _command(self, buf):
        self.dc.value(0)
        self.cs.value(0)
        self.spi.write(buf)
        self.cs.value(1)

    def _op(self, byte):
        self._cmd1[0] = byte
        self._command(self._cmd1)

    def init(self):
        """Hardware reset pulse, then the datasheet's set-up flow; the RAM is cleared, the display switched on."""
        sleep = self._sleep
        if sleep is None:
            import time

            sleep = time.sleep_ms
        self.cs.value(1)
        if self.rst is not None:
            self.rst.value(0)
            sleep(RESET_LOW_MS)
            self.rst.value(1)
        else:  # RST wired to the board's reset: the RESET instruction (datasheet (14)) restarts the set-up
            self._op(RESET)
        sleep(RESET_WAIT_MS)
        self._command(INIT)
        self._op(POWER_ALL_ON)  # booster, regulator and follower on in one step
        sleep(POWER_WAIT_MS)
        self._op(START_LINE | 0)
        self.clear()
        self._op(DISPLAY_ON)

    def contrast(self, level):
        """Electronic volume 0..63 (datasheet "Set EV"): higher is darker. ValueError outside the range."""
        if not 0 <= level <= 63:
            raise ValueError("contrast 0..63")
        self._cmd2[0] = SET_EV
        self._cmd2[1] = level
        self._command(self._cmd2)

    def power(self, on):
        """Display ON/OFF (the RAM is kept; the controller's sleep needs display off and all pixels on)."""
        self._op(DISPLAY_ON if on else DISPLAY_OFF)

    def backlight(self, on):
        """Backlight pin: high = lit (Screen.backlight tells the board when BLt has expired)."""
        self.bl.value(1 if on else 0)

    def clear(self):
        """Zero the visible RAM (128 x 8 pages), without a framebuf."""
        zeros = bytes(WIDTH)
        cmd = self._cmd
        for p in range(PAGES):
            cmd[0] = PAGE_ADDR | p
            cmd[1] = COL_HI
            cmd[2] = COL_LO
            self._command(cmd)
            self.dc.value(1)
            self.cs.value(0)
            self.spi.write(zeros)
            self.cs.value(1)

    def bind(self, buf):
        """Make the page slices of the framebuf bytes that show() will send (show() does it for a new buffer;
        call it at start-up so the one allocation happens early)."""
        if len(buf) != WIDTH * PAGES:
            raise ValueError("framebuf of 128x64 MONO_VLSB: 1024 bytes")
        m = memoryview(buf)
        self._pages = [m[p * WIDTH:(p + 1) * WIDTH] for p in range(PAGES)]
        self._buf = buf

    def show(self, buf):
        """Send a 128x64 MONO_VLSB framebuf's 1024 bytes: per page its address and column 0 (command), then its
        128 bytes (data). Allocation-free once a buffer has been shown (its page slices are kept)."""
        if buf is not self._buf:
            self.bind(buf)
        cmd = self._cmd
        pages = self._pages
        spi = self.spi
        cs = self.cs
        dc = self.dc
        for p in range(PAGES):
            cmd[0] = PAGE_ADDR | p
            cmd[1] = COL_HI
            cmd[2] = COL_LO
            dc.value(0)
            cs.value(0)
            spi.write(cmd)
            cs.value(1)
            dc.value(1)
            cs.value(0)
            spi.write(pages[p])
            cs.value(1)
