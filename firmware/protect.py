# SPDX-License-Identifier: MIT
# Modbus write protection (Wp): while Wp = 1, register writes other than Key (and EV_From, a read cursor that
# changes nothing in the meter) are refused with exception 03 unless the panel password (PASS) was written to Key
# within the last 5 minutes. Off by default, as shipped.
from micropython import const

from firmware import regmap
from firmware.modbus.codes import ILLEGAL_DATA_VALUE

KEY = regmap.address("Key")  # the Key command register, from the map at import
EV_FROM = regmap.address("EV_From")  # the event log's window selector: reading the log needs no password
UNLOCK_S = const(300)  # seconds a correct Key write keeps writes open


class Protect:
    """allowed(addr, count) decides a Modbus register write; key_write is the bank handler for Key.

    tick() once per second (Meter.each_second) runs the unlock timer down. Panel changes never come here.
    """

    def __init__(self, config):
        self.config = config
        self._wp = regmap.config_index("Wp")
        self._pass = regmap.config_index("PASS")
        self.left = 0  # seconds of unlock left
        self.refused = 0  # writes refused (a diagnostic for the sim's state)

    def on(self):
        return self.config.values[self._wp] != 0

    def tick(self):
        if self.left > 0:
            self.left -= 1

    def allowed(self, addr, count):
        if self.config.values[self._wp] == 0 or self.left > 0 or (count == 1 and (addr == KEY or addr == EV_FROM)):
            return True
        self.refused += 1
        return False

    def key_write(self, addr, count, src, off):
        """Key (COMMANDS row Key): the password opens writes for 5 minutes; anything else closes them and gets 03."""
        if count != 1:
            return -ILLEGAL_DATA_VALUE
        v = (src[off] << 8) | src[off + 1]
        if v == self.config.values[self._pass]:
            self.left = UNLOCK_S
            return 0
        self.left = 0
        return -ILLEGAL_DATA_VALUE

    def keep_pass(self, k, v):
        """True when a write of v to setting k must leave it alone: PASS reads 0 while Wp = 1, so a master
        that writes back what it read (the whole settings block) must not set the password to 0."""
        return k == self._pass and v == 0 and self.config.values[self._wp] != 0

    def mask(self, image):
        """Hide the password in the register image while Wp = 1 (refresh_config calls it)."""
        if self.config.values[self._wp] != 0:
            off = 2 * (regmap.CONFIG_BASE + self._pass)
            image[off] = 0
            image[off + 1] = 0
