# Discrete I/O as the Modbus slave and the UI see it: relay outputs (coils), switch inputs, comms activity.
# The board passes callables that drive the real pins; the sim passes none and reads the state back.


class Io:
    def __init__(self, relay_out=None, n_relays=2, n_inputs=2):
        self.coils = bytearray(n_relays)  # 1 = relay closed; FC01/FC05 and the LCD read this
        self.relays = self.coils
        self.inputs = bytearray(n_inputs)  # 1 = contact closed; FC02 and the LCD read this
        self.comm = 0  # > 0 while Modbus traffic was seen recently (LCD comms sign)
        self.clock = None  # callable -> "YYYY.MM.DD hh:mm:ss" once the clock exists
        self._out = relay_out

    def write_coil(self, i, v):
        # Remote-control mode: the master's command holds until released or power is lost (manual 3.4).
        self.coils[i] = 1 if v else 0
        if self._out is not None:
            self._out(i, self.coils[i])
        return 0

    def set_input(self, i, v):
        self.inputs[i] = 1 if v else 0

    def clock_text(self):
        return self.clock() if self.clock is not None else "----.--.-- --:--:--"
