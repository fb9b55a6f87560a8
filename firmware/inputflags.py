# What is wrong with the meter's inputs, per metering window: a channel beyond the ADC's range (over range),
# current flowing in an element without its voltage (a blown voltage fuse), a reversed phase sequence.
# Registers (STATUS rows SEQ OVR OVR_L NOV, block ovr_n), the LCD's mark and the events (docs/metering.md).
from array import array

import micropython
from micropython import const

from firmware import regmap
from firmware.kernel import D_SAT
from firmware.words import SIGN_BIT, put_u32

NCH = const(7)  # Ua Ub Uc Ia Ib Ic In: the bits of OVR, OVR_L and done[D_SAT]
SEQ = const(0)  # st rows (regmap STATUS rows 5..8)
OVR = const(1)
OVR_L = const(2)
NOV = const(3)
SEQ_NONE = const(0)  # unknown: no voltage, a single phase, no analysis yet
SEQ_ABC = const(1)
SEQ_ACB = const(2)
QUIET = const(5)  # windows (1 s) a state must hold before it is left (OVR, NOV) or entered (NOV)
CAP = const(0x3FFFFFFF)  # counters stop here (6.8 years of 200 ms windows): every value stays a small int
# changed bits for the journal: 0-6 over range of a channel, 8-10 current without voltage of a phase, 16 sequence
CH_NOV = const(8)
CH_SEQ = const(16)
_REFUSED = const(3)


@micropython.viper
def _bare(v: ptr32, i: int, u: int) -> int:
    """1 when the float32 v[i] is nonzero and v[u] is zero (+-0: both signs), as raw bits: no float object."""
    h = int(SIGN_BIT)
    x = v[i]
    y = v[u]
    if (x ^ (x & h)) != 0 and (y ^ (y & h)) == 0:
        return 1
    return 0


class InputFlags:
    """window(done, vals, syss, complete, seq) after each metered window (allocation-free): updates `st`
    (array('H'): SEQ OVR OVR_L NOV) and the counters, and publishes the counters to the image (block ovr_n,
    uint32 high word first) when they change. `on` / `nov` are the states the LCD and the event log follow
    (over range: entered at once, left after QUIET clean windows; current without voltage: QUIET windows
    either way); `changed` collects their transitions for firmware/journal.py, which clears it."""

    def __init__(self, image=None, config=None):
        self.image = image
        self.config = config
        self.st = array("H", bytes(2 * 4))
        self.cnt = array("i", bytes(4 * NCH))  # windows with the channel over range
        self.quiet = bytearray(NCH + 3)  # windows in a row against the state: channels, then phases a b c
        self.on = 0  # channels in the over-range state
        self.nov = 0  # phases in the current-without-voltage state
        self.seq = SEQ_ABC  # the last known sequence the log was told (abc is what a meter expects)
        self.changed = 0
        self.cleared = 0  # cLr_OVR count (the journal logs a CLEAR)
        self._dirty = 1
        self._ovr_n = 2 * regmap.block("ovr_n")[0]
        self._st_off = 2 * (regmap.block("status")[0] + len(regmap.STATUS) - 4)  # SEQ OVR OVR_L NOV: the last rows
        self._pass = regmap.config_index("PASS")
        s = regmap.slot
        self._ia = s("Ia")
        self._ua = s("Ua")
        self._uab = s("Uab")
        self._ubc = s("Ubc")
        self.publish()

    def window(self, dn, vals, syss, complete, seq):
        """dn: the sampler's done buffer (D_SAT); vals: the window's values (thresholds applied: a current below
        IST and a voltage below U_TH read 0); syss the wiring; complete: metering's verdict on the window (only
        complete windows decide current-without-voltage); seq: the phase sequence of the last harmonic analysis
        (firmware/harmonics.py)."""
        st = self.st
        sat = dn[D_SAT] & 0x7F
        st[OVR] = sat
        st[OVR_L] |= sat
        q = self.quiet
        on = self.on
        for k in range(NCH):
            b = 1 << k
            if sat & b:
                c = self.cnt[k]
                if c < CAP:
                    self.cnt[k] = c + 1
                    self._dirty = 1
                q[k] = 0
                if not on & b:
                    on |= b
                    self.changed |= b
            elif on & b:
                q[k] += 1
                if q[k] >= QUIET:
                    q[k] = 0
                    on ^= b
                    self.changed |= b
        self.on = on
        if complete:
            if syss == 0:
                raw = _bare(vals, self._ia, self._ua) | (_bare(vals, self._ia + 1, self._ua + 1) << 1)
                raw |= _bare(vals, self._ia + 2, self._ua + 2) << 2
            else:  # the two elements: Uab with Ia, Ucb (read as Ubc) with Ic
                raw = _bare(vals, self._ia, self._uab) | (_bare(vals, self._ia + 2, self._ubc) << 2)
            nov = self.nov
            for p in range(3):
                b = 1 << p
                if (raw ^ nov) & b:
                    q[NCH + p] += 1
                    if q[NCH + p] >= QUIET:
                        q[NCH + p] = 0
                        nov ^= b
                        self.changed |= b << CH_NOV
                else:
                    q[NCH + p] = 0
            self.nov = nov
            st[NOV] = nov
        st[SEQ] = seq
        if seq != SEQ_NONE and seq != self.seq:
            self.seq = seq
            self.changed |= 1 << CH_SEQ
        if self._dirty:
            self.publish()

    def publish(self):
        """The counters into the image (uint32 each, high word first); allocation-free."""
        self._dirty = 0
        img = self.image
        if img is None:
            return
        o = self._ovr_n
        for k in range(NCH):
            put_u32(img, o + 4 * k, self.cnt[k])

    def put_status(self):
        """SEQ OVR OVR_L NOV into the image's STATUS rows (uint16, high byte first), with the registers of the
        window (Meter._publish_status); allocation-free."""
        img = self.image
        if img is None:
            return
        st = self.st
        a = self._st_off
        for k in range(4):
            img[a + 2 * k] = st[k] >> 8
            img[a + 2 * k + 1] = st[k] & 0xFF

    def clear(self):
        """cLr_OVR: the latched bits and the counters start again (the states follow the next windows)."""
        self.st[OVR_L] = 0
        for k in range(NCH):
            self.cnt[k] = 0
        self.cleared += 1
        self.publish()
        self.put_status()

    def cmd_write(self, addr, count, src, off):
        """cLr_OVR: the password clears; anything else gets exception 03. Allocation-free."""
        if count != 1 or self.config is None:
            return _REFUSED
        if ((src[off] << 8) | src[off + 1]) != self.config.values[self._pass]:
            return _REFUSED
        self.clear()
        return 0

    def mark(self):
        """The LCD's mark (firmware/ui, capitals: the glass's annunciator font has no others): "OVR" while a
        channel is over range, else "NO U" while a phase carries current without voltage, else "ACB" for a
        reversed sequence; "" when the inputs look right."""
        if self.on:
            return "OVR"
        if self.nov:
            return "NO U"
        if self.st[SEQ] == SEQ_ACB:
            return "ACB"
        return ""

    def words(self):
        """The LCD text view's words for every active flag: "OVR Ia Ib", "noU B", "acb" (allocates)."""
        out = []
        if self.on:
            out.append("OVR " + " ".join(CHANNELS[k] for k in range(NCH) if self.on >> k & 1))
        if self.nov:
            out.append("noU " + "".join("ABC"[p] for p in range(3) if self.nov >> p & 1))
        if self.st[SEQ] == SEQ_ACB:
            out.append("acb")
        return " ".join(out)


CHANNELS = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "In")
