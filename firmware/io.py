# SPDX-License-Identifier: MIT
# Discrete I/O as the Modbus slave and the UI see it: relay outputs (coils) in remote or alarm mode, switch inputs
# debounced in sample time with change counters, comms activity. The board passes callables that drive the pins.
from array import array

from micropython import const

from firmware.modbus.codes import SERVER_DEVICE_FAILURE

DEBOUNCE = const(320)  # samples (40 ms at 8000/s): manual 1.2, switch inputs "Debounce time 40ms"
REMOTE = const(0)
ALARM = const(1)


class Io:
    def __init__(self, relay_out=None, n_relays=2, n_inputs=2):
        self.coils = bytearray(n_relays)  # 1 = relay closed; FC01/FC05 and the LCD read this
        self.relays = self.coils
        self.mode = bytearray(n_relays)  # REMOTE / ALARM per relay (CONFIG DO1_M, DO2_M)
        self.inputs = bytearray(n_inputs)  # debounced, 1 = contact closed; FC02 and the LCD read this
        self.raw = bytearray(n_inputs)  # the level as last reported by the board
        self.since = array("i", bytes(4 * n_inputs))  # samples the raw level has differed from inputs[]
        self.di_n = array("i", bytes(4 * n_inputs))  # debounced changes (the owner restores it from the store)
        self.di_at = array("i", bytes(8 * n_inputs))  # (YYYYMMDD, hhmmss) of the last change per input
        self.changed = 0  # bits: relays (0..7) and inputs (8..) that changed since the owner last looked
        self.comm = 0  # > 0 while Modbus traffic was seen recently (LCD comms sign)
        self.alarm = 0  # 1 while an alarm rule is active (LCD area 8)
        self.stamp_ymd = 0  # the clock at the last advance(): stamps set_input's changes
        self.stamp_hms = 0
        self.cause = 0  # of the last relay change: 0 remote (Modbus), 1 alarm, 2 mode change
        self._out = relay_out

    def write_coil(self, i, v):
        """FC05/FC15. Remote mode: the master's command holds until released or power is lost (manual 3.4).
        Alarm mode: refused with -SERVER_DEVICE_FAILURE (exception 04, nothing changes): the request is well formed
        and the coil exists, but the meter cannot carry it out while the alarm function owns the relay; 03
        would tell the master its value is wrong, which no other value would fix."""
        if self.mode[i] != REMOTE:
            return -SERVER_DEVICE_FAILURE
        self._set(i, v, 0)
        return 0

    def alarm_drive(self, i, v):
        """The alarm rules' demand for relay i (ignored unless it is in alarm mode). Allocation-free."""
        if self.mode[i] == ALARM:
            self._set(i, v, 1)

    def set_mode(self, i, m):
        """A mode change releases the relay (open); alarm mode then follows the rules at once (the caller drives)."""
        if self.mode[i] != m:
            self.mode[i] = m
            self._set(i, 0, 2)

    def _set(self, i, v, cause):
        v = 1 if v else 0
        if self.coils[i] != v:
            self.coils[i] = v
            self.changed |= 1 << i
            self.cause = cause
            if self._out is not None:
                self._out(i, v)

    def set_input(self, i, v):
        """A debounced level from a board whose driver debounces (boards/pico/dio.py): taken at once."""
        v = 1 if v else 0
        self.raw[i] = v
        if self.inputs[i] != v:
            self._take(i, v, self.stamp_ymd, self.stamp_hms)

    def raw_input(self, i, v):
        """A raw level (the sim board has no driver): it counts once it held DEBOUNCE samples (advance)."""
        self.raw[i] = 1 if v else 0

    def _take(self, i, v, ymd, hms):
        self.inputs[i] = v
        self.di_n[i] += 1
        self.di_at[2 * i] = ymd
        self.di_at[2 * i + 1] = hms
        self.changed |= 256 << i

    def advance(self, n, ymd, hms):
        """n samples passed (allocation-free): a raw level that differed from the debounced one for at least
        DEBOUNCE samples becomes the state, counted and stamped with the date and time."""
        self.stamp_ymd = ymd
        self.stamp_hms = hms
        for i in range(len(self.inputs)):
            if self.raw[i] == self.inputs[i]:
                self.since[i] = 0
                continue
            s = self.since[i] + n
            if s >= DEBOUNCE:
                s = 0
                self._take(i, self.raw[i], ymd, hms)
            self.since[i] = s
