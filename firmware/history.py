# SPDX-License-Identifier: MIT
# What the Demand and MaxMin histories share: the password-guarded clear (cLr_DM / cLr_MaxMin) and a store
# record saved at most once a minute and at power-down.
from micropython import const

from firmware import regmap
from firmware.clock import hms_text, ymd_text  # LCD rows: 2026.11.26, 09:35:20 (manual 4.3)
from firmware.modbus.codes import ILLEGAL_DATA_VALUE

SAVE_S = const(60)  # a changed record is saved at most once a minute (and at power-down)


class History:
    """Base of Demand and MaxMin. The subclass sets RECORD (its store record and regmap block name: values in
    block RECORD, their dates and times in RECORD + "_t"), calls History.__init__ first, and defines clear()
    and record()."""

    RECORD = ""

    def __init__(self, vals, clock, store, image, config):
        self.vals = vals
        self.clock = clock
        self.store = store
        self.image = image
        self.config = config
        self.dirty = False
        self.cleared = 0  # clears since power-up, by Modbus or the panel (the event log watches it)
        self.saved_s = -SAVE_S  # sample time of the last save
        self._v = 2 * regmap.block(self.RECORD)[0]  # byte offsets in the register image
        self._t = 2 * regmap.block(self.RECORD + "_t")[0]
        self._pass = regmap.config_index("PASS")

    def cmd_write(self, addr, count, src, off):
        """The password clears the history; anything else gets exception 03. Allocation-free."""
        if count != 1 or self.config is None:
            return -ILLEGAL_DATA_VALUE
        if ((src[off] << 8) | src[off + 1]) != self.config.values[self._pass]:
            return -ILLEGAL_DATA_VALUE
        self.clear()
        self.cleared += 1
        return 0

    def stamp_source(self, stamps, name):
        """A callable for LCD row `name` when it is a date (_D) or time (_T) row of the stamps table `stamps`
        (regmap.MAXMIN_T, regmap.DEMAND_T: one date and one time name per stamp, the layout of self.ts), else
        None. A time shows ---- until its date is set."""
        t = stamps.find(name)
        if t < 0:
            return None
        a = t - t % 2
        ts = self.ts
        if t % 2 == 0:
            return lambda: ymd_text(ts[a])
        return lambda: hms_text(ts[a + 1]) if ts[a] else "----"

    # --- persistence (allocates: outside the hot paths) --------------------------------------------------------
    def service(self, now_s):
        if self.dirty and now_s - self.saved_s >= SAVE_S:
            self.save(now_s)

    def save(self, now_s=0):
        if self.store is not None:
            self.store.save(self.RECORD, self.record())
        self.saved_s = now_s
        self.dirty = False

    def power_down(self):
        if self.dirty:
            self.save(self.saved_s)
