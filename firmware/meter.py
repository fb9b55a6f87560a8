# The meter as one object: wires sampler, metering, register image, Modbus slave, config and UI.
# Boards feed it samples and frames; it never touches hardware itself. (Stub: filled in by the integration.)
import json


class Meter:
    def __init__(self, state_dir=None):
        self.state_dir = state_dir
        self.tx = bytearray(256)
        self.samples = 0
        self.relays = [0, 0]
        self.inputs = [0, 0]

    def feed(self, block, n):
        """block: array('i') of 8*n interleaved samples (Ua Ub Uc Ia Ib Ic In T)."""
        self.samples += n

    def modbus(self, frame, n):
        """frame: buffer holding one RTU frame of n bytes. Returns reply length in self.tx (0: no reply)."""
        return 0

    def key(self, name):
        pass

    def di(self, k, on):
        self.inputs[k - 1] = 1 if on else 0

    def lcd_text(self):
        return "KPM53\n(stub)"

    def state(self):
        return {"time_s": self.samples / 8000, "relays": self.relays, "di": self.inputs}

    def state_json(self):
        return json.dumps(self.state())

    def service(self):
        pass

    def power_down(self):
        pass
