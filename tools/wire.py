# SPDX-License-Identifier: MIT
# What an RS485 line does to the bytes between two UARTs whose settings differ (docs/sim.md, "The line"): the
# sender's characters become a waveform (start bit, data LSB first, parity, stop bits, idle high), and the receiver
# reads it as a UART does: 16x oversampling, a start bit on a falling edge checked half a bit later, each bit
# sampled in its middle, only the first stop bit checked. Equal settings are the identity; a wrong baud rate or
# parity gives garbage and framing/parity errors, which the receiver's driver then keeps, marks or drops.
import os
import stat
import termios

PARITY = "NEOMS"  # none, even, odd, mark (1), space (0)
DATA_CODES = ("8N1", "8E1", "8O1", "8N2", "8E2", "8O2")  # the meter's dATA setting (firmware/regmap.py)
_CMSPAR = getattr(termios, "CMSPAR", 0o10000000000)  # stick parity (Linux)
_BOTHER = 0o010000  # a rate outside the B constants: read with TCGETS2
_SPEEDS = {}
for _name in dir(termios):
    if _name[:1] == "B" and _name[1:].isdigit():
        _SPEEDS[getattr(termios, _name)] = int(_name[1:])
_CODES = {v: k for k, v in _SPEEDS.items()}


class Format:
    """A UART's character format: baud rate, data bits (5..8), parity (N E O M S), stop bits (1 or 2)."""

    __slots__ = ("baud", "bits", "parity", "stop")

    def __init__(self, baud, bits=8, parity="N", stop=1):
        if parity not in PARITY or bits not in (5, 6, 7, 8) or stop not in (1, 2) or baud <= 0:
            raise ValueError("no such format: %r %r%s%r" % (baud, bits, parity, stop))
        self.baud, self.bits, self.parity, self.stop = int(baud), bits, parity, stop

    @classmethod
    def parse(cls, baud, data):
        """baud and a name such as "8E1", or the meter's dATA code 0..5."""
        name = DATA_CODES[data] if isinstance(data, int) else data
        return cls(baud, int(name[0]), name[1], int(name[2]))

    def __str__(self):
        return "%d %d%s%d" % (self.baud, self.bits, self.parity, self.stop)

    __repr__ = __str__

    def __eq__(self, other):
        return isinstance(other, Format) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def char_bits(self):
        return 1 + self.bits + (self.parity != "N") + self.stop

    def same_reading(self, other):
        """True when a receiver in this format reads other's characters exactly: equal rate, data bits and parity
        (a receiver checks only the first stop bit, so the number of stop bits does not matter)."""
        return (self.baud, self.bits, self.parity) == (other.baud, other.bits, other.parity)


def speed(code, fd=None):
    """A termios speed constant as baud; BOTHER (an arbitrary rate) is read with TCGETS2 when fd is given."""
    if code in _SPEEDS:
        return _SPEEDS[code]
    if code == _BOTHER and fd is not None:
        try:
            import fcntl
            import struct

            buf = fcntl.ioctl(fd, 0x802C542A, bytes(44))  # TCGETS2 (x86, arm): struct termios2, 44 bytes
            return struct.unpack_from("<II", buf, 36)[1]  # c_ospeed
        except (OSError, ImportError):
            pass
    return 0


def from_termios(attr, fd=None, receive=False):
    """The format a tty's termios (tcgetattr) sends with, or with receive=True receives with (input speed; 0 means
    the output speed). On a Linux pty, tcgetattr of the master returns the slave's settings: those the master
    application set, except that the pty driver forces CS8 and clears PARENB (drivers/tty/pty.c,
    pty_set_termios). What it leaves tells the parity all the same: PARODD (odd), CMSPAR (mark with PARODD, else
    space), INPCK (input parity checking, which libmodbus/mbpoll set exactly when they use parity: even); a
    master that sets even parity and no INPCK (pyserial on its own; tools/serialport.py adds it on a pty) cannot
    be told from one without parity."""
    cflag, iflag = attr[2], attr[0]
    out = speed(attr[5], fd)
    baud = (speed(attr[4], fd) or out) if receive else out
    bits = {termios.CS5: 5, termios.CS6: 6, termios.CS7: 7, termios.CS8: 8}[cflag & termios.CSIZE]
    if cflag & _CMSPAR:
        parity = "M" if cflag & termios.PARODD else "S"
    elif cflag & termios.PARODD:
        parity = "O"
    elif cflag & termios.PARENB or iflag & termios.INPCK:
        parity = "E"
    else:
        parity = "N"
    return Format(baud or 1, bits, parity, 2 if cflag & termios.CSTOPB else 1)


PTY_SLAVE_MAJORS = range(136, 144)  # Unix98 pty slaves (Linux Documentation/admin-guide/devices.txt)


def is_pty(fd):
    """True when fd is the slave side of a Unix98 pty (the simulator's line), not a real serial port."""
    st = os.fstat(fd)
    return stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) in PTY_SLAVE_MAJORS


def pty_parity(attr, parity):
    """Put parity (N E O M S) into a tcgetattr list, in place, where a pty keeps it (see from_termios): PARODD,
    CMSPAR, and INPCK for any parity; never PARENB, which the pty driver clears. Also sets ECHOKE (inert in raw
    mode), the mark a configuring master clears (cfmakeraw, pyserial, libmodbus all do).

    Why no PARENB and why the mark: the Linux pty driver clears PARENB on every set (drivers/tty/pty.c,
    pty_set_termios), and Debian's glibc tcsetattr (debian/patches/any/local-tcsetaddr.diff) then reads the
    termios back and returns EINVAL when PARENB (or CSIZE, CREAD) did not stick and nothing else in c_iflag,
    c_oflag, c_lflag or the rest of c_cflag changed, although the kernel applied the request. So a master that
    asks a pty for PARENB fails whenever its request changes nothing else: pyserial on every open of a pty that
    already holds its settings, and at once at its second tcsetattr of an open (pymodbus sets inter_byte_timeout
    right after opening, which changes only c_cc). A request without PARENB never fails that way; the mark makes
    the next master's tcsetattr, PARENB or not, change something (libmodbus restores what it found at close, so
    mbpoll after mbpoll changes something anyway)."""
    attr[2] &= ~(termios.PARENB | termios.PARODD | _CMSPAR)
    attr[0] &= ~termios.INPCK
    if parity != "N":
        attr[2] |= (termios.PARODD if parity in "OM" else 0) | (_CMSPAR if parity in "MS" else 0)
        attr[0] |= termios.INPCK
    attr[3] |= termios.ECHOKE


def set_termios(fd, fmt):
    """Set a pty to fmt, raw (what an installer does with stty before the first master runs), the parity where a
    pty keeps it and with the mark of pty_parity(), so a master's first tcsetattr changes something."""
    attr = termios.tcgetattr(fd)
    attr[0] &= ~(termios.BRKINT | termios.ICRNL | termios.ISTRIP | termios.IXON | termios.PARMRK
                 | termios.IGNBRK | termios.INLCR | termios.IGNCR)
    attr[1] &= ~termios.OPOST
    attr[3] &= ~(termios.ECHO | termios.ICANON | termios.IEXTEN | termios.ISIG | termios.ECHONL)
    cflag = attr[2] & ~(termios.CSIZE | termios.CSTOPB)
    cflag |= termios.CS8 | termios.CREAD | termios.CLOCAL
    if fmt.stop == 2:
        cflag |= termios.CSTOPB
    attr[2] = cflag
    pty_parity(attr, fmt.parity)
    attr[4] = attr[5] = _CODES.get(fmt.baud, attr[5])
    attr[6][termios.VMIN] = 1
    attr[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attr)


def _parity_bit(byte, parity):
    ones = bin(byte).count("1")
    return {"E": ones & 1, "O": 1 - (ones & 1), "M": 1, "S": 0}[parity]


def bits(data, fmt):
    """The line levels, one per bit time of fmt, that fmt's UART sends for data (back to back, then idle)."""
    out = []
    mask = (1 << fmt.bits) - 1
    for b in data:
        b &= mask
        out.append(0)
        out.extend((b >> i) & 1 for i in range(fmt.bits))
        if fmt.parity != "N":
            out.append(_parity_bit(b, fmt.parity))
        out.extend([1] * fmt.stop)
    return out


def receive(sources, rx):
    """What a UART at format rx reads from the line. sources: [(data, fmt, delay)], the senders on the line, each
    starting `delay` bit times of its own format after the first; where several drive the line at once a 0
    wins (their bytes garble each other). Returns [(byte, parity_error, framing_error, brk)] in order."""
    if len(sources) == 1 and sources[0][2] == 0 and rx.same_reading(sources[0][1]):
        mask = (1 << rx.bits) - 1
        return [(b & mask, False, False, False) for b in sources[0][0]]
    rates = {rx.baud}
    rates.update(f.baud for _, f, _ in sources)
    unit = 32  # time unit: 1/unit of a second, a multiple of 16 x every rate (16x oversampling in whole units)
    for r in rates:
        unit *= r
    lines = []  # (start, units per bit, levels)
    end = 0
    for data, fmt, delay in sources:
        per = unit // fmt.baud
        lv = bits(data, fmt)
        start = int(delay * per)
        lines.append((start, per, lv))
        end = max(end, start + per * len(lv))

    def level(t):
        for start, per, lv in lines:
            i = (t - start) // per
            if 0 <= i < len(lv) and not lv[i]:
                return 0
        return 1

    def after(t):  # the first tick of the receiver's clock at or after the next level change of any sender
        nxt = None
        for start, per, lv in lines:
            if t < start:
                b = start
            elif t < start + per * len(lv):
                b = start + per * ((t - start) // per + 1)
            else:
                continue
            nxt = b if nxt is None or b < nxt else nxt
        return None if nxt is None else -(-nxt // tick) * tick

    per_rx = unit // rx.baud
    tick = per_rx // 16
    n_bits = rx.bits + (rx.parity != "N")
    mask = (1 << rx.bits) - 1
    out = []
    t = 0
    prev = 1
    while t is not None:
        lv = level(t)
        if not (prev and not lv):
            prev = lv
            t = after(t)  # the level holds until then: no edge to miss
            continue
        mid = t + 8 * tick  # the middle of the start bit: still low, or it was a glitch
        if level(mid):
            prev = 1
            t = mid
            continue
        sampled = [level(mid + per_rx * (k + 1)) for k in range(n_bits + 1)]
        byte = 0
        for k in range(rx.bits):
            byte |= sampled[k] << k
        pe = rx.parity != "N" and sampled[rx.bits] != _parity_bit(byte, rx.parity)
        fe = sampled[n_bits] == 0
        brk = fe and byte == 0 and not any(sampled)
        out.append((byte & mask, pe, fe, brk))
        t = mid + per_rx * (n_bits + 1)  # the first stop bit's middle: idle again, waiting for a falling edge
        prev = sampled[n_bits]
    return out


def meter_reads(data, sender, meter):
    """Bytes the meter's UART driver hands to the firmware: the MicroPython rp2 driver keeps characters with a
    parity or framing error and drops breaks (ports/rp2/machine_uart.c, uart_drain_rx_fifo)."""
    if meter.same_reading(sender):
        return bytes(b & ((1 << meter.bits) - 1) for b in data)
    return bytes(b for b, _, _, brk in receive([(data, sender, 0)], meter) if not brk)


def master_reads(sources, master, iflag):
    """Bytes a master's read() returns from what the senders put on the line, by the Linux serial driver and
    n_tty rules for its termios input flags: a parity or framing error is reported only with INPCK, and then
    IGNPAR drops the character, else it reads as \\0 (PARMRK's \\377 \\0 mark cannot pass a pty: \\0 too); a
    break is dropped with IGNBRK, else read as \\0. The pty's own line discipline does the rest (ISTRIP...)."""
    out = bytearray()
    for b, pe, fe, brk in receive(sources, master):
        if brk:
            if not iflag & termios.IGNBRK:
                out.append(0)
        elif (pe or fe) and iflag & termios.INPCK:
            if not iflag & termios.IGNPAR:
                out.append(0)
        else:
            out.append(b)
    return bytes(out)
