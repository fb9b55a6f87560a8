# SPDX-License-Identifier: MIT
# What goes into the event log and how it is read: Meter.service() calls watch(), which turns changes of the alarms,
# relays, inputs, settings, clears and the clock into events; the Modbus window (ev_*) and the LCD's event pages.
from array import array

import micropython
from micropython import const

from firmware import events as ev
from firmware import inputflags as flags
from firmware import regmap
from firmware.clock import hms_text, ymd_text
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
from firmware.words import put_u32

PANEL = const(0)
MODBUS = const(1)
_WIN = const(8)  # records in the Modbus window (block ev_rec)
_FIELDS = const(6)  # uint32 per record: Seq, D, T, Code, Val (float32 bits), Aux
_RULE_ARG = const(64)  # SETTING arg of alarm rule k: 64 + k
_SETTINGS_PER_CALL = const(8)  # setting changes watch() logs a call (service(); power_down logs them all)


class Journal:
    def __init__(self, log, meter):
        self.log = log
        self.m = meter
        self.src = PANEL  # who is acting (clears, clock, alarm rules; settings keep theirs: Config.by): per request / key
        cfg = meter.config
        self._cfg = array("H", cfg.values)  # the settings last seen
        self._ver = cfg.version
        self._clk = meter.clock.version
        self._hms = meter.clock.hms
        self._ymd = meter.clock.ymd
        self._clr = [meter.ledger.cleared, meter.maxmin.cleared, meter.demand.cleared, meter.flags.cleared]
        self.sel = 0  # EV_From: age of the first record in the window (0 = newest)
        self._shown_total = -1
        self._shown_sel = -1
        self._head = 2 * regmap.address("EV_Total")  # byte offset in the register image; EV_Kept the next uint32
        self._rec = 2 * regmap.block("ev_rec")[0]
        self._sel_reg = regmap.block("ev_sel")[0]
        self._ch = bytes(regmap.slot(n) for n in flags.CHANNELS[:6]) + bytes((regmap.slot("I_N_m"),))
        self._seq = meter.flags.seq  # the sequence the log last told (a-b-c until it says otherwise)

    def now(self):
        c = self.m.clock
        return c.ymd, c.hms

    def add(self, kind, arg=0, value=0.0, aux=0, src=0, at=None):
        ymd, hms = self.now() if at is None else at
        self.log.log(kind, arg, ymd, hms, value, aux, src)

    def power_up(self, new=False):
        """What the log knows of the last power-down, then the power-up. Its newest event not an orderly
        power-down: the meter went down in a cut; logged as such, stamped with the clock the meter restarts from
        (the energy record's: the last time it saved). An empty log: the first power-up of new flash (new: the
        record store was empty too, so nothing was ever saved) or a log that was lost (a RAM-only log, a new
        record layout, an erased partition) while the store was not: how the meter went down is not known."""
        last = self.log.last_kind()
        cut = last != 0 and last != ev.POWER_DOWN
        if cut:
            self.add(ev.POWER_CUT)
        if last == 0:
            aux = ev.UP_NEW if new else ev.UP_UNKNOWN
        else:
            aux = ev.UP_CUT if cut else ev.UP_ORDERLY
        self.add(ev.POWER_UP, aux=aux)

    def power_down(self):
        self.watch(ev.KEEP, True)
        self.add(ev.POWER_DOWN)

    def watch(self, most=_SETTINGS_PER_CALL, final=False):
        """Log what changed since the last call (outside the hot paths: allocates). At most `most` setting changes
        a call (~1.4 ms each on the RP2040): a master writing every setting in one FC16 gets them logged over the
        next service() calls, 100 ms apart on the Pico, not in one long call. final (power-down): voltage events
        still waiting for their verdict go out with what is known (VoltageEvents.take)."""
        m = self.m
        al = m.alarms
        p = al.pend
        if p:
            al.pend = 0
            for k in range(len(al.st)):
                if (p >> k) & 1:
                    self.add(ev.ALARM_ON if al.st[k] >= 2 else ev.ALARM_OFF, k, al.ev_val[k])
        io = m.io
        c = io.changed
        if c:
            io.changed = 0
            for i in range(len(io.coils)):
                if (c >> i) & 1:
                    self.add(ev.RELAY, i, aux=io.coils[i] | (io.cause << 1))
            for i in range(len(io.inputs)):
                if (c >> (8 + i)) & 1:
                    self.add(ev.INPUT, i, aux=io.inputs[i], at=(io.di_at[2 * i], io.di_at[2 * i + 1]))
        cfg = m.config
        if cfg.version != self._ver:
            for k in range(len(self._cfg)):
                if cfg.values[k] != self._cfg[k]:
                    if most <= 0:
                        break  # the rest at the next call (the version stays unseen)
                    most -= 1
                    self._cfg[k] = cfg.values[k]
                    self.add(ev.SETTING, k, cfg.values[k], src=cfg.by[k])
            else:
                self._ver = cfg.version
        t = al.touched
        if t:
            al.touched = 0
            for k in range(len(al.st)):
                if (t >> k) & 1:
                    self.add(ev.SETTING, _RULE_ARG + k, src=self.src)
        if m.pq.queued:  # dips, swells, interruptions, stamped with their start
            for p, kind, ext, dur, ymd, hms in m.pq.take(final):
                self.add(ev.DIP + kind, p, ext, aux=dur * 1000 // 8000, at=(ymd, hms))
        if m.flags.changed:
            self._inputs(m.flags)
        c = self._clr
        fl = m.flags.cleared
        if m.ledger.cleared != c[0] or m.maxmin.cleared != c[1] or m.demand.cleared != c[2] or fl != c[3]:
            n = (m.ledger.cleared, m.maxmin.cleared, m.demand.cleared, fl)
            for k in range(4):
                if n[k] != c[k]:
                    c[k] = n[k]
                    self.add(ev.CLEAR, k, src=self.src)
        clk = m.clock
        if clk.version != self._clk:
            self._clk = clk.version
            moved = 0 if clk.ymd != self._ymd else _secs(clk.hms) - _secs(self._hms)
            self.add(ev.TIME_SET, 0, moved, src=self.src)
        self._hms = clk.hms
        self._ymd = clk.ymd
        self.publish()

    def _inputs(self, f):
        """Over range per channel, current without voltage per phase, the phase sequence: the transitions the
        flags collected (firmware/inputflags.py), each with the reading it is about."""
        c = f.changed
        f.changed = 0
        vals = self.m.vals
        for k in range(flags.NCH):
            if (c >> k) & 1:
                on = (f.on >> k) & 1
                v = vals[self._ch[k]]
                self.add(ev.OVER_RANGE, k, v, aux=on)
        for p in range(3):
            if (c >> (flags.CH_NOV + p)) & 1:
                self.add(ev.NO_VOLTAGE, p, vals[self._ch[3 + p]], aux=(f.nov >> p) & 1)
        if (c >> flags.CH_SEQ) & 1:
            self.add(ev.PHASE_SEQ, f.seq, aux=self._seq)
            self._seq = f.seq

    # --- Modbus: EV_Total, EV_Kept; EV_From selects the window; ev_rec the records --------------------------
    def sel_write(self, addr, count, src, off):
        """EV_From (allocation-free): 0..127; the window is refilled by service() after the reply."""
        v = (src[off] << 8) | src[off + 1]
        if count != 1 or v >= ev.KEEP:
            return -ILLEGAL_DATA_VALUE
        self.sel = v
        self.m.regs.put_u16(self._sel_reg, v)
        return 0

    def publish(self):
        log = self.log
        if log.total == self._shown_total and self.sel == self._shown_sel:
            return  # the usual case, every service(): nothing allocated
        self._shown_total = log.total
        self._shown_sel = self.sel
        img = self.m.regs.image
        put_u32(img, self._head, log.total)
        put_u32(img, self._head + 4, log.kept)  # EV_Kept
        for i in range(_WIN):
            r = log.raw(self.sel + i)
            _window_rec(img, self._rec + 4 * _FIELDS * i, log.rec if r is None else r, 0 if r is None else 1)

    # --- LCD: page k of History's event group shows the k-th newest ----------------------------------------
    def source(self, name):
        if not name.startswith("EV_"):
            return None
        k = int(name[3:-2])
        f = name[-1]
        log = self.log
        if f == "K":
            return lambda: _lcd_kind(log.get(k))
        if f == "D":
            return lambda: ymd_text(log.get(k)[1]) if log.get(k) else "----"
        if f == "T":
            return lambda: hms_text(log.get(k)[2]) if log.get(k) else "----"
        return lambda: _lcd_value(log.get(k))


def _lcd_kind(e):
    if e is None:
        return "----"
    kind, arg = e[3], e[4]
    t = ev.LCD_KINDS[kind] if kind < len(ev.LCD_KINDS) else "?"
    if kind in (ev.ALARM_ON, ev.ALARM_OFF, ev.RELAY, ev.INPUT):
        return "%s %d" % (t, arg + 1)
    if kind in (ev.DIP, ev.SWELL, ev.INTERRUPTION, ev.NO_VOLTAGE):
        return "%s %s" % (t, "ABC"[arg])
    if kind == ev.OVER_RANGE:
        return "%s %s" % (t, flags.CHANNELS[arg] if arg < flags.NCH else "?")
    if kind == ev.PHASE_SEQ:
        return "%s %s" % (t, "abc" if arg == 1 else "acb")
    if kind == ev.SETTING:
        return "%s %s" % (t, regmap.CONFIG[arg][regmap.CF_NAME] if arg < len(regmap.CONFIG) else "AL%d" % (arg - 63))
    return t


def _lcd_value(e):
    if e is None:
        return ""
    kind = e[3]
    if kind in (ev.RELAY, ev.INPUT):
        return "on" if e[7] & 1 else "off"
    if kind in (ev.DIP, ev.SWELL, ev.INTERRUPTION):
        return "%.1f %dms" % (e[6], e[7])
    if kind in (ev.OVER_RANGE, ev.NO_VOLTAGE):
        return ("on %.5g" if e[7] else "off %.5g") % e[6]
    if kind in (ev.ALARM_ON, ev.ALARM_OFF, ev.SETTING, ev.TIME_SET):
        return "%.6g" % e[6]
    return ""


def _secs(hms):
    return hms // 10000 * 3600 + hms // 100 % 100 * 60 + hms % 100


@micropython.viper
def _window_rec(img, o: int, r, full: int):
    # One record of the Modbus window from the log's stored bytes (firmware/events.py: little-endian seq, date,
    # time u32, kind, arg, src u8, a pad byte, value f32, aux u32) to six big-endian uint32 at img[o]: Seq D T,
    # Code (kind << 16 | arg << 8 | src), Val (the float32's bits as stored), Aux; zeros when not full. A viper
    # byte shuffle: the Python fields and struct.pack(">f") it replaces cost ~2 ms a record on the RP2040.
    d = ptr8(img)
    s = ptr8(r)
    for k in range(24):
        d[o + k] = 0
    if not full:
        return
    for w in range(6):
        if w == 3:
            d[o + 13] = s[12]
            d[o + 14] = s[13]
            d[o + 15] = s[14]
        else:
            for b in range(4):
                d[o + 4 * w + b] = s[4 * w + 3 - b]
