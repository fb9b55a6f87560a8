# SPDX-License-Identifier: MIT
# The host client's serial port (tools/client.py): pymodbus's serial client on pyserial, except that on a pty (the
# simulator's line) the parity goes where a pty keeps it (tools/wire.py pty_parity), so a meter with parity opens
# every time. A real serial port gets exactly what pyserial sets. docs/client.md, docs/sim.md "The line".
import termios

import serial
from pymodbus.client import ModbusSerialClient

from tools import wire


class Serial(serial.Serial):
    """pyserial's port. On a pty: pyserial's settings without parity, then the parity as a pty keeps it (PARODD,
    CMSPAR, INPCK) and the mark of wire.pty_parity. pyserial's own request carries PARENB, which the pty clears,
    and Debian's glibc answers such a tcsetattr with EINVAL whenever it changes nothing else (wire.pty_parity):
    every open of a meter with parity failed (pymodbus's inter_byte_timeout, set right after the open, is a
    second tcsetattr that changes only c_cc)."""

    def _reconfigure_port(self, force_update=False):
        if self.fd is None or not wire.is_pty(self.fd):
            serial.Serial._reconfigure_port(self, force_update)
            return
        parity = self._parity
        self._parity = serial.PARITY_NONE
        try:
            serial.Serial._reconfigure_port(self, force_update)
        finally:
            self._parity = parity
        attr = termios.tcgetattr(self.fd)
        wire.pty_parity(attr, parity)
        termios.tcsetattr(self.fd, termios.TCSANOW, attr)  # no PARENB asked: never the EINVAL above


class ModbusClient(ModbusSerialClient):
    """pymodbus's ModbusSerialClient (same arguments) on Serial above. error: why the last connect() failed
    (the OSError, termios.error or ValueError text), or None."""

    error = None

    def connect(self):
        """pymodbus 3.16's connect() (the same port settings, exclusive lock and inter-byte timeout) with Serial."""
        if self.socket:
            return True
        p = self.comm_params
        try:
            self.socket = Serial(p.host, timeout=p.timeout_connect, write_timeout=p.timeout_connect,
                                 bytesize=p.bytesize, stopbits=p.stopbits, baudrate=p.baudrate, parity=p.parity,
                                 exclusive=True)
            self.socket.inter_byte_timeout = self.inter_byte_timeout
        except (OSError, termios.error, ValueError) as e:  # pyserial raises termios.error as it is
            self.error = str(e)
            self.close()
        return self.socket is not None
