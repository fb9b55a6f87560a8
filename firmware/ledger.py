# SPDX-License-Identifier: MIT
# The energy side of the meter in one place: clock, energy accumulators, periods, pulses, their registers,
# LCD sources, the clock/cLr_Eny register writes and the save policy. Meter calls it at a few marked points.
import struct

from micropython import const

from firmware import energy as _e
from firmware import periods as _p
from firmware import regmap
from firmware.clock import Clock, valid_hms, valid_ymd
from firmware.energy import Energy
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from firmware.periods import Periods
from firmware.pulse import Pulse
from firmware.words import put_u32

_REC_E = "energy"
_REC_P = "periods"
_SAVE_S = const(3600)  # run/load time and the clock are saved at least hourly even without energy
_MIN_S = const(30)  # energy saves at least 30 s apart: wear stays <= 2880 records/day at any overload
_CLR = regmap.address("cLr_Eny")  # from the map at import
_OVER_TENTHS = const(999999999)  # 99999999.9 kWh: beyond it the LCD shows the float32 in hexadecimal


def lcd_energy(wh):
    """Wh as the LCD shows kWh: one decimal up to 99999999.9, then the hexadecimal of the float32 (manual 5)."""
    t = wh // 100
    if t <= _OVER_TENTHS:
        return "%d.%d" % (t // 10, t % 10)
    return "%08X" % struct.unpack(">I", struct.pack(">f", wh / 1000))[0]


def lcd_hours(s):
    return "%d.%02d" % (s // 3600, (s % 3600) * 100 // 3600)


class Ledger:
    """Energy, clock, periods and pulse outputs for the meter (docs/energy.md). store: firmware.store.Store
    (records "energy", "periods"); regs: the RegisterBank (it publishes the ENERGY and CLOCK blocks into its
    image and takes the clock and cLr_Eny writes); config: Config; vals: the measurement slots; slot: regmap.slot;
    pulse_out(channel, level): the board's pulse pins or None. The meter calls window() per metered window,
    advance(n) per block, second() per second (all allocation-free), configure() when settings change, service()
    outside the hot paths (the save policy) and power_down() when the supply fails."""

    def __init__(self, store, regs, config, vals, slot, pulse_out=None):
        self.store = store
        self.regs = regs
        self.config = config
        self.clock = Clock()
        self.energy = Energy()
        self.energy.slots(slot)
        self.periods = Periods(self.energy, self.clock.ymd)
        self.pulse = Pulse(self.energy.gen, pulse_out)
        self.saves = 0  # records this module wrote (energy + periods)
        self.cleared = 0
        self._dirty_p = False
        self._since = 0  # seconds since the last energy save
        self._off = 2 * regmap.block("energy")[0]  # byte offsets in the register image: the totals and phases,
        self._off_p = 2 * regmap.address("EP_imp_TMon")  # the calendar periods (Periods.publish's order)
        self._off_t = 2 * regmap.address("RTime")
        self._off_l = 2 * regmap.address("LTime")
        self._clk = regmap.block("clock")[0]
        # the settings configure() reads, by row (a lookup by name costs ~11,000 cycles on the RP2040)
        self._ix = tuple(config.index(n) for n in ("Pt_U", "Ct_I", "Un", "In", "Pulse", "SYSS", "IST", "Pulse_Q"))
        self.load()
        regs.attach(self._clk, self._clk + 2 * len(regmap.CLOCK), self.clock_write)
        regs.attach(_CLR, _CLR + 1, self.clear_write)
        self.publish()

    def configure(self, cal):
        v = self.config.values
        ix = self._ix
        pt, ct, un, rated, pulse, syss = v[ix[0]], v[ix[1]], v[ix[2]], v[ix[3]], v[ix[4]], v[ix[5]]
        self.energy.configure(pt, ct, cal, syss, pulse, v[ix[6]], un, rated)
        # highest pulse rate: rated load x 1.2 on the secondary side (3 Un In, or sqrt(3) Un In in 2LL)
        full = 3 * un * rated if syss == 0 else 1.732 * un * rated
        self.pulse.configure(int(1.2 * full * pulse / 3600000) + 1, v[ix[7]])

    # --- hot paths (allocation-free) ---------------------------------------------------------------------------
    def window(self, dn, vals):
        self.energy.window(dn, vals)

    def advance(self, n):
        self.pulse.advance(n)

    def second(self):
        self.clock.tick()
        self.energy.second()
        self._since += 1
        if self.periods.check(self.clock.ymd):
            self._dirty_p = True
        self.publish()

    def publish(self):
        img = self.regs.image
        self.energy.publish(img, self._off)
        self.periods.publish(img, self._off_p)
        _put_u64(img, self._off_t, self.energy.rtime)
        _put_u64(img, self._off_l, self.energy.ltime)
        put_u32(img, 2 * self._clk, self.clock.ymd)
        put_u32(img, 2 * self._clk + 4, self.clock.hms)

    # --- register writes (allocation-free) ---------------------------------------------------------------------
    def clock_write(self, addr, count, src, off):
        k = addr - self._clk
        if (k | count) & 1 or src[off] > 1 or (count == 4 and src[off + 4] > 1):
            return -ILLEGAL_DATA_VALUE  # half a uint32, or a value far out of range
        v0 = (src[off] << 24) | (src[off + 1] << 16) | (src[off + 2] << 8) | src[off + 3]
        clk = self.clock
        if count == 4:
            v1 = (src[off + 4] << 24) | (src[off + 5] << 16) | (src[off + 6] << 8) | src[off + 7]
            if not (valid_ymd(v0) and valid_hms(v1)):
                return -ILLEGAL_DATA_VALUE
            clk.set_ymd(v0)
            clk.set_hms(v1)
        elif k == 0:
            if not clk.set_ymd(v0):
                return -ILLEGAL_DATA_VALUE
        elif not clk.set_hms(v0):
            return -ILLEGAL_DATA_VALUE
        put_u32(self.regs.image, 2 * self._clk, clk.ymd)
        put_u32(self.regs.image, 2 * self._clk + 4, clk.hms)
        return 0

    def clear_write(self, addr, count, src, off):
        v = (src[off] << 8) | src[off + 1]
        if count != 1 or v != self.config.get("PASS"):
            return -ILLEGAL_DATA_VALUE
        self.clear()
        return 0

    def clear(self):
        """cLr_Eny: all energy, periods, RTime and LTime to zero (pulse counts since start-up stay)."""
        self.energy.clear()
        self.periods.restart()
        self.cleared += 1
        self._dirty_p = True
        self._since = _SAVE_S  # save at the next service
        self.publish()

    # --- save policy (allocates: outside the hot paths) --------------------------------------------------------
    def service(self):
        """Save when unsaved energy reached max(0.01 kWh, 60 s of rated load) (but not within 30 s of the last
        save), hourly, after a rollover or a clear."""
        if self._dirty_p or self._since >= _SAVE_S or (self._since >= _MIN_S and self.energy.save_due()):
            self.save()

    def save(self):
        self.store.save(_REC_E, self.energy_record())
        self.energy.saved()
        self._since = 0
        self.saves += 1
        if self._dirty_p:
            self.store.save(_REC_P, self.periods.to_bytes())
            self._dirty_p = False
            self.saves += 1

    def energy_record(self):
        b = self.energy.to_bytes()
        c = bytearray(8)
        _le32(c, 0, self.clock.ymd)
        _le32(c, 4, self.clock.hms)
        return b + c

    def load(self):
        b = self.store.load(_REC_E)
        if b is not None and len(b) > 8 and self.energy.from_bytes(b[:-8]):
            ymd = _get_le32(b, len(b) - 8)
            hms = _get_le32(b, len(b) - 4)
            # the sim resumes its clock where it stopped; a device's RTC sets it again after this
            self.clock.set_ymd(ymd)
            self.clock.set_hms(hms)
        if not self.periods.from_bytes(self.store.load(_REC_P)):
            self.periods.ymd = self.clock.ymd
            self.periods.restart()

    def power_down(self):
        self._dirty_p = True
        self.save()

    # --- LCD and state ----------------------------------------------------------------------------------------
    def source(self, name):
        """A callable giving the LCD text of page row `name` (pages.ENERGY_PAGES), or None when it is not ours."""
        e = self.energy
        p = self.periods
        if name in _e.NAMES:
            return lambda: lcd_energy(e.wh(name))
        if name in _p.NAMES:
            k = _p.NAMES.index(name)
            return lambda: lcd_energy(p.wh(k // 4, k % 4))
        if name == "RTime":
            return lambda: lcd_hours(e.rtime)
        if name == "LTime":
            return lambda: lcd_hours(e.ltime)
        if name == "dATE":
            return self.clock.text_date
        if name == "tinE":
            return self.clock.text_time
        return None

    def panel(self, config, maxmin=None, demand=None, alarms=None):
        return Panel(config, self, maxmin, demand, alarms)

    def state(self):
        return {"pulses": list(self.energy.gen), "pulses_out": list(self.pulse.emitted),
                "date": self.clock.ymd, "time": self.clock.hms, "energy_saves": self.saves,
                "EP_imp_Wh": self.energy.wh("EP_imp"), "EP_exp_Wh": self.energy.wh("EP_exp"),
                "RTime": self.energy.rtime, "LTime": self.energy.ltime}


class Panel:
    """The settings list's view of the configuration plus the panel-only rows it serves (panel_rows, menu
    PANEL_ROWS): dATE, tinE (validated by the clock), cLr_Eny and, when handed in, cLr_MaxMin (maxmin.clear)
    and cLr_DM (demand.clear). A clear takes 1 (0 does nothing); the panel password already guards the list,
    so no password is asked again as over Modbus."""

    def __init__(self, config, ledger, maxmin=None, demand=None, alarms=None):
        self._cfg = config
        self._al = alarms  # firmware/alarms.py: the rule rows AL_n .. AL_r (panel_get / panel_set)
        self._led = ledger
        self._mm = maxmin
        self._dm = demand
        rows = ["dATE", "tinE", "cLr_Eny"]
        if maxmin is not None:
            rows.append("cLr_MaxMin")
        if demand is not None:
            rows.append("cLr_DM")
        if alarms is not None:
            rows.extend(("AL_n", "AL_Q", "AL_M", "AL_t", "AL_h", "AL_on", "AL_oF", "AL_r"))
        self.panel_rows = tuple(rows)

    def get(self, name):
        if name.startswith("AL_") and self._al is not None:
            return self._al.panel_get(name)
        if name == "dATE":
            return self._led.clock.ymd
        if name == "tinE":
            return self._led.clock.hms
        if name in self.panel_rows:
            return 0  # a clear: nothing to read back
        return self._cfg.get(name)

    def set(self, name, value):
        if name.startswith("AL_") and self._al is not None:
            return self._al.panel_set(name, value)
        if name == "dATE":
            return self._led.clock.set_ymd(value)
        if name == "tinE":
            return self._led.clock.set_hms(value)
        if name in self.panel_rows:
            if value == 1:
                if name == "cLr_Eny":
                    self._led.clear()
                elif name == "cLr_MaxMin":
                    self._mm.clear()
                    self._mm.cleared += 1
                else:
                    self._dm.clear()
                    self._dm.cleared += 1
            return value == 0 or value == 1
        return self._cfg.set(name, value)

    def __getattr__(self, name):
        return getattr(self._cfg, name)


def _put_u64(img, o, v):
    img[o] = 0
    img[o + 1] = 0
    img[o + 2] = 0
    img[o + 3] = 0
    put_u32(img, o + 4, v)


def _le32(b, o, v):
    for i in range(4):
        b[o + i] = (v >> (8 * i)) & 0xFF


def _get_le32(b, o):
    return b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)
