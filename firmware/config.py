# SPDX-License-Identifier: MIT
# Configuration parameters: current values, validation against the register map's ranges, persistence.
# Keys, Modbus and the sim all change settings through set()/set_index(), so one rule refuses bad input everywhere.
from array import array

from firmware import regmap

_RECORD = "config"


class Config:
    """The settings of manual 4.3 (the CONFIG block, README "Register map"): values (array('H'), one per
    regmap.CONFIG row, in its order), names, version (bumped on every change), dirty (a change not saved yet).
    Every change goes through set()/set_index(), which refuse (False, nothing changed) what the register map's
    range or a rule between settings forbids; the meter's service() applies changed settings (version) and
    save()s them (store record "config"). store: firmware.store.Store or None (defaults, never saved)."""

    def __init__(self, store=None):
        self.store = store
        n = len(regmap.CONFIG)
        self.values = array("H", [row[regmap.CF_DEFAULT] for row in regmap.CONFIG])
        self.names = tuple(row[regmap.CF_NAME] for row in regmap.CONFIG)
        self.version = 0  # bumped on every change: consumers (metering, serial port) re-read when it moves
        self.dirty = False  # a change waits to be saved outside the request that made it
        self.src = 0  # who is changing settings now (the event log's source: 0 panel, 1 Modbus), set by the meter
        self.by = bytearray(n)  # per row: src of its last change (logged by service() later, maybe after others)
        self._n = n
        self.panel_rows = ()  # the menu's panel-only rows this view serves: none (firmware/ledger.py Panel serves them)
        self._dm_p = regmap.config_index("DM_P")
        self._dm_s = regmap.config_index("DM_S")
        self._syss = regmap.config_index("SYSS")
        self._an = regmap.config_index("An")
        # analog output codes allowed per wiring (manual 4.3): bit 0 = 3Ln3CT, bit 1 = the 2LL modes
        self._an_ok = bytearray(len(regmap.AN_NAMES))
        for c in regmap.AN_3LN:
            self._an_ok[c] |= 1
        for c in regmap.AN_2LL:
            self._an_ok[c] |= 2
        if store is not None:
            self.load()

    def index(self, name):
        """Row of parameter `name` in regmap.CONFIG; KeyError for an unknown name. tuple.index compares in C:
        on the RP2040 ~5,000 cycles where a Python loop over the rows took up to 36,000, and service() asks for
        some thirty parameters by name after each change."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(name)

    def get(self, name):
        return self.values[self.index(name)]

    def set(self, name, value):
        """Validated change from the keys or tools. False = refused, nothing changed."""
        try:
            k = self.index(name)
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
        # analog output: the quantity must exist in the current wiring (set SYSS first, then An)
        if k == self._an:
            return self.an_allowed(self.values[self._syss], value)
        return True

    def an_allowed(self, syss, code):
        return 0 <= code < len(self._an_ok) and (self._an_ok[code] & (1 if syss == 0 else 2)) != 0

    def _fix_an(self):
        # A wiring change keeps the An rule true: a quantity the new wiring lacks falls back to its voltage
        # (Ua in 3Ln3CT, Uab in the 2LL modes), so the stored settings always pass valid_index.
        syss = self.values[self._syss]
        if not self.an_allowed(syss, self.values[self._an]):
            self.values[self._an] = 0 if syss == 0 else 6

    def set_index(self, k, value):
        # Allocation-free: called from the Modbus request handler.
        if not self.valid_index(k, value):
            return False
        if self.values[k] != value:
            self.values[k] = value
            self.by[k] = self.src
            if k == self._syss:
                self._fix_an()
            self.version += 1
            self.dirty = True
        return True

    def load(self):
        data = self.store.load(_RECORD)
        # a record from a build with fewer CONFIG rows (rows are only appended) loads; the new rows keep defaults
        if data is None or len(data) & 1 or len(data) > 2 * self._n or not data:
            return False
        m = len(data) // 2
        vals = [data[2 * k] | (data[2 * k + 1] << 8) for k in range(m)]
        for k in range(m):
            if not regmap.valid(k, vals[k]):
                return False  # a record from an incompatible build: keep the defaults
        for k in range(m):
            self.values[k] = vals[k]
        self._fix_an()
        self.version += 1
        return True

    def save(self):
        if self.store is not None:
            self.store.save(_RECORD, bytearray(self.values))  # array('H'): 2 bytes each, little-endian (every target)
        self.dirty = False
