# Configuration parameters: current values, validation against the register map's ranges, persistence.
# Keys, Modbus and the sim all change settings through set()/set_index(), so one rule refuses bad input everywhere.
from array import array

from firmware import regmap

_RECORD = "config"


class Config:
    def __init__(self, store=None):
        self.store = store
        n = len(regmap.CONFIG)
        self.values = array("H", [row[1] for row in regmap.CONFIG])
        self.names = tuple(row[0] for row in regmap.CONFIG)
        self.version = 0  # bumped on every change: consumers (metering, serial port) re-read when it moves
        self.dirty = False  # a change waits to be saved outside the request that made it
        self._n = n
        self._dm_p = regmap.config_index("DM_P")
        self._dm_s = regmap.config_index("DM_S")
        if store is not None:
            self.load()

    def index(self, name):
        return regmap.config_index(name)

    def get(self, name):
        return self.values[regmap.config_index(name)]

    def set(self, name, value):
        """Validated change from the keys or tools. False = refused, nothing changed."""
        try:
            k = regmap.config_index(name)
        except KeyError:
            return False
        return self.set_index(k, value)

    def valid_index(self, k, value):
        """Would set_index accept it? Range rules from the register map plus rules between parameters."""
        if not (0 <= k < self._n and regmap.valid(k, value)):
            return False
        # demand: the subinterval DM_S must divide the period DM_P (docs/demand.md)
        if k == self._dm_s:
            return self.values[self._dm_p] % value == 0
        if k == self._dm_p:
            return value % self.values[self._dm_s] == 0
        return True

    def set_index(self, k, value):
        # Allocation-free: called from the Modbus request handler.
        if not self.valid_index(k, value):
            return False
        if self.values[k] != value:
            self.values[k] = value
            self.version += 1
            self.dirty = True
        return True

    def load(self):
        data = self.store.load(_RECORD)
        if data is None or len(data) != 2 * self._n:
            return False
        vals = [data[2 * k] | (data[2 * k + 1] << 8) for k in range(self._n)]
        for k in range(self._n):
            if not regmap.valid(k, vals[k]):
                return False  # a record from an incompatible build: keep the defaults
        for k in range(self._n):
            self.values[k] = vals[k]
        self.version += 1
        return True

    def save(self):
        if self.store is not None:
            b = bytearray(2 * self._n)
            for k in range(self._n):
                b[2 * k] = self.values[k] & 0xFF
                b[2 * k + 1] = self.values[k] >> 8
            self.store.save(_RECORD, b)
        self.dirty = False
