# SPDX-License-Identifier: MIT
# What is wrong with the meter's inputs, per metering window: a channel beyond the ADC's range (over range),
# current flowing in an element without its voltage (a blown voltage fuse), a reversed phase sequence.
# Registers (STATUS rows SEQ OVR OVR_L NOV, block ovr_n), the LCD's mark and the events (docs/metering.md).
from array import array

import micropython
from micropython import const

from firmware import regmap
from firmware.kernel import D_SAT
from firmware.modbus.codes import ILLEGAL_DATA_VALUE
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


@micropython.viper
def _over(sat: int, on: int, q: ptr8, cnt: ptr32, img: ptr8, o: int) -> int:
    """Over range per channel k < NCH: count a window with bit k of sat (publishing the counter to img[o + 4 k],
    uint32 big-endian), enter the state at once, leave it after QUIET windows without. Returns the state bits
    | the bits that changed << 8."""
    ch = 0
    k = 0
    while k < NCH:
        b = 1 << k
        if sat & b:
            c = cnt[k]
            if c < CAP:
                c += 1
                cnt[k] = c
                a = o + 4 * k
                img[a] = (c >> 24) & 0xFF
                img[a + 1] = (c >> 16) & 0xFF
                img[a + 2] = (c >> 8) & 0xFF
                img[a + 3] = c & 0xFF
            q[k] = 0
            if not (on & b):
                on |= b
                ch |= b
        elif on & b:
            n = int(q[k]) + 1
            if n >= QUIET:
                n = 0
                on ^= b
                ch |= b
            q[k] = n
        k += 1
    return on | (ch << 8)


@micropython.viper
def _nov(v: ptr32, sl: ptr8, nov: int, q: ptr8) -> int:
    """Current without voltage per phase p < 3: the float32 v[sl[2p]] (the current) nonzero and v[sl[2p + 1]]
    (the voltage) +-0, as raw bits (no float object); sl[2p] = 255: no such element. The state changes after
    QUIET windows in a row against it (q[p] counts them). Returns the state bits | the changed bits << 4."""
    h = int(SIGN_BIT)
    ch = 0
    p = 0
    while p < 3:
        raw = 0
        i = int(sl[2 * p])
        if i != 255:
            x = v[i]
            y = v[int(sl[2 * p + 1])]
            if (x ^ (x & h)) != 0 and (y ^ (y & h)) == 0:
                raw = 1 << p
        if (raw ^ nov) & (1 << p):
            n = int(q[p]) + 1
            if n >= QUIET:
                n = 0
                nov ^= 1 << p
                ch |= 1 << p
            q[p] = n
        else:
            q[p] = 0
        p += 1
    return nov | (ch << 4)


class InputFlags:
    """window(done, vals, syss, complete, seq) after each metered window (allocation-free): updates `st`
    (array('H'): SEQ OVR OVR_L NOV) and the counters, and publishes the counters to the image (block ovr_n,
    uint32 high word first) when they change. `on` / `nov` are the states the LCD and the event log follow
    (over range: entered at once, left after QUIET clean windows; current without voltage: QUIET windows
    either way); `changed` collects their transitions for firmware/journal.py, which clears it."""

    def __init__(self, image=None, config=None):
        """image: the register image (bytearray; None: one of its own, for tests); config: for cLr_OVR's
        password (None: cLr_OVR refused)."""
        if image is None:
            image = bytearray(2 * regmap.block_end())
        self.image = image
        self.config = config
        self.st = array("H", bytes(2 * 4))
        self.cnt = array("i", bytes(4 * NCH))  # windows with the channel over range
        self.quiet = bytearray(NCH)  # windows in a row without over range, per channel in the state
        self.pq = bytearray(3)  # windows in a row against the current-without-voltage state, per phase
        self.on = 0  # channels in the over-range state
        self.nov = 0  # phases in the current-without-voltage state
        self.seq = SEQ_ABC  # the last known sequence the log was told (abc is what a meter expects)
        self.changed = 0
        self.cleared = 0  # cLr_OVR count (the journal logs a CLEAR)
        self._ovr_n = 2 * regmap.block("ovr_n")[0]
        self._st_off = 2 * regmap.address("SEQ")  # then OVR OVR_L NOV: the last rows of STATUS
        self._pass = regmap.config_index("PASS")
        s = regmap.slot
        ia = s("Ia")
        ua = s("Ua")
        # (current, voltage) slots per element: 3Ln3CT phases; 2LL Uab with Ia, Ucb (the Ubc slot) with Ic
        self._sl3 = bytes((ia, ua, ia + 1, ua + 1, ia + 2, ua + 2))
        self._sl2 = bytes((ia, s("Uab"), 255, 255, ia + 2, s("Ubc")))
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
        if sat or self.on:
            r = _over(sat, self.on, self.quiet, self.cnt, self.image, self._ovr_n)
            self.on = r & 0x7F
            self.changed |= r >> 8
        if complete:
            r = _nov(vals, self._sl3 if syss == 0 else self._sl2, self.nov, self.pq)
            self.nov = r & 7
            self.changed |= (r >> 4) << CH_NOV
            st[NOV] = r & 7
        st[SEQ] = seq
        if seq != SEQ_NONE and seq != self.seq:
            self.seq = seq
            self.changed |= 1 << CH_SEQ

    def publish(self):
        """The counters into the image (uint32 each, high word first); allocation-free."""
        img = self.image
        o = self._ovr_n
        for k in range(NCH):
            put_u32(img, o + 4 * k, self.cnt[k])

    def put_status(self):
        """SEQ OVR OVR_L NOV into the image's STATUS rows (uint16, high byte first), with the registers of the
        window (Meter._publish_status); allocation-free."""
        img = self.image
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
            return -ILLEGAL_DATA_VALUE
        if ((src[off] << 8) | src[off + 1]) != self.config.values[self._pass]:
            return -ILLEGAL_DATA_VALUE
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
