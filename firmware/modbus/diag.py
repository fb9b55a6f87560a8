# SPDX-License-Identifier: MIT
# FC08 diagnostics for the RTU slave (Serial Line v1.02 sec. 6.1): return query data, restart communications,
# listen-only mode, clear and read the bus counters that Slave keeps. Allocation-free, see docs/modbus.md.
from micropython import const

from firmware.bufs import copy8
from firmware.modbus.codes import ADU_FIXED, CRC_LEN, DIAGNOSTICS, ILLEGAL_DATA_VALUE, ILLEGAL_FUNCTION, REPLY_ECHO
from firmware.modbus.slave import OVERRUNS

_RETURN_QUERY = const(0x00)
_RESTART = const(0x01)
_DIAG_REGISTER = const(0x02)
_LISTEN_ONLY = const(0x04)
_CLEAR = const(0x0A)
_FIRST_COUNTER = const(0x0B)  # 0x0B..0x12: Slave.counters[sub - 0x0B]
_LAST_COUNTER = const(0x12)
_CLEAR_OVERRUN = const(0x14)
_ADU_SUB = const(6)  # address, function code, sub-function, CRC: the shortest FC08 request


class Diagnostics:
    """Serves FC08 on `slave`. A restart (sub 01) is answered first and carried out by service(), which the
    meter calls after the reply has gone out: it clears the counters and calls on_restart() (the board
    re-initialises its UART there). restarts counts them."""

    def __init__(self, slave, on_restart=None):
        self.slave = slave
        self.on_restart = on_restart
        self.restart_pending = False
        self.restarts = 0
        slave.on(DIAGNOSTICS, self._fc08)

    def service(self):
        if self.restart_pending:
            self.restart_pending = False
            self.restarts += 1
            self.slave.clear_counters()
            if self.on_restart is not None:
                self.on_restart()

    def _fc08(self, frame, n):
        if n < _ADU_SUB:
            return -ILLEGAL_DATA_VALUE  # too short to hold a sub-function
        sub = (frame[2] << 8) | frame[3]
        s = self.slave
        tx = s.tx
        if sub == _RETURN_QUERY:
            copy8(tx, 2, frame, 2, n - 2 - CRC_LEN)  # the sub-function and any data, echoed as they came
            return n - CRC_LEN
        if not (sub <= _DIAG_REGISTER or sub == _LISTEN_ONLY or _CLEAR <= sub <= _LAST_COUNTER
                or sub == _CLEAR_OVERRUN):
            return -ILLEGAL_FUNCTION  # 03 (ASCII delimiter), 0x13, 0x15...: the spec's 01 for sub-functions
        if n != ADU_FIXED:
            return -ILLEGAL_DATA_VALUE
        v = (frame[4] << 8) | frame[5]
        if sub == _RESTART:
            if v != 0 and v != 0xFF00:
                return -ILLEGAL_DATA_VALUE
            self.restart_pending = True
            if s.listen_only:
                s.listen_only = False  # the one way out of listen-only mode; no reply then
                return 0
            copy8(tx, 2, frame, 2, 4)
            return REPLY_ECHO
        if v != 0:
            return -ILLEGAL_DATA_VALUE  # every other sub-function takes data 0000
        if sub == _LISTEN_ONLY:
            s.listen_only = True
            return 0  # never answered
        if sub == _CLEAR:
            s.clear_counters()
        elif sub == _CLEAR_OVERRUN:
            s.counters[OVERRUNS] = 0
        c = 0
        if _FIRST_COUNTER <= sub <= _LAST_COUNTER:
            c = s.counters[sub - _FIRST_COUNTER]
        tx[2] = 0
        tx[3] = sub
        tx[4] = c >> 8
        tx[5] = c & 0xFF
        return REPLY_ECHO
