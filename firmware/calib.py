# SPDX-License-Identifier: MIT
# Calibration: per-channel gain, phase (lag) and offset corrections, their store record "calib", the
# CALIBRATION register block and the Modbus procedure (reference applied -> command -> corrections computed).
import math
import struct
from array import array

import micropython
from micropython import const

from firmware import regmap, sf32, sf32conv
from firmware import workspace as ws
from firmware.kernel import P_X
from firmware.metering_codes import MEAS
from firmware.modbus.codes import ILLEGAL_DATA_VALUE, SERVER_DEVICE_FAILURE

RECORD = "calib"
_MAGIC = b"CAL1"
CMD_BASE = regmap.address("CAL_Pass")  # CAL_Pass, then CAL_Cmd: from the map at import
CAL_BASE = regmap.block("calibration")[0]  # the CALIBRATION block (its rows: R_* below)
# block rows (float32): Ref_U Ref_I Ref_Phi Cal_State, then gains, lags, offsets of Ua Ub Uc Ia Ib Ic In
R_REF = const(0)
R_STATE = const(3)
R_GAIN = const(4)
R_LAG = const(11)
R_OFF = const(18)
N_ROWS = const(25)
CMD_CAL = const(1)  # measure the applied reference and compute gains, lags and offsets
CMD_RESET = const(2)  # back to gains 1, lags 0, offsets 0
# Cal_State values
IDLE = const(0)
MEASURING = const(1)
DONE = const(2)
FAILED = const(3)  # the reference was not there (a channel below 10 % of it) or the wiring is not 3Ln3CT
WINDOWS = const(10)  # windows averaged (about 2 s); the first window after the command is skipped
_WAIT = const(50)  # windows (~10 s) that may pass without the reference measured before the calibration fails
_ACC = const(20)  # accumulators: U rms 3, I rms 3, P1 3, Q1 3, channel means 7 (reduced codes), scratch


@micropython.viper
def _from_be(f: ptr32, d: int, buf: ptr8, off: int):
    f[d] = (buf[off] << 24) | (buf[off + 1] << 16) | (buf[off + 2] << 8) | buf[off + 3]


class Calib:
    """Owns metering.cal (gains) and metering.lag (degrees); `offset` (V or A, secondary) is what the DC of each
    channel was at calibration: the window sums remove DC themselves, so it is reported, not subtracted.
    Hooks: cmd_write / block_write (bank handlers, allocation-free), window() after each metered window while
    `busy`, service() outside the hot paths (computes, saves; True when metering must be reconfigured).
    protect: firmware.protect.Protect (CAL_Pass, Wp) or None; image: the register image (RegisterBank.image) the
    CALIBRATION block is published into, or None (no registers: the accuracy tools)."""

    def __init__(self, metering, store, config, protect=None, image=None):
        self.metering = metering
        self.store = store
        self.config = config
        self.protect = protect
        self.offset = array("f", [0.0] * 7)
        self.rows = array("f", [0.0] * N_ROWS)
        self.acc = array("f", [0.0] * _ACC)
        self.busy = 0  # windows still to take (0: not measuring)
        self.waited = 0  # windows skipped: not measured (a transition, or an element below its thresholds)
        self._was = 0  # the window before was measured
        self._meas = bytearray(4)  # regmap slots of Pa Pb Pc F: a window is taken when all four were measured
        for k in range(4):
            self._meas[k] = regmap.slot(("Pa", "Pb", "Pc", "F")[k])
        self.pending = 0  # a command or a factor write waits for service()
        self.changed = 0  # the factors changed: save and reconfigure in service()
        self._pass = 0  # CAL_Pass latch, cleared by every command
        self._ipass = regmap.config_index("PASS")
        self._isyss = regmap.config_index("SYSS")
        self.image = image  # the register image (RegisterBank.image): the block is kept up to date in it
        self.load()

    # --- persistence ----------------------------------------------------------------------------------------
    def load(self):
        data = self.store.load(RECORD) if self.store is not None else None
        if data is not None and len(data) == 4 + 84 and bytes(data[:4]) == _MAGIC:
            v = struct.unpack("<21f", data[4:])
            for k in range(7):
                self.metering.cal[k] = v[k]
                self.metering.lag[k] = v[7 + k]
                self.offset[k] = v[14 + k]
        self._rows()
        return data is not None

    def save(self):
        m = self.metering
        v = [m.cal[k] for k in range(7)] + [m.lag[k] for k in range(7)] + [self.offset[k] for k in range(7)]
        if self.store is not None:
            self.store.save(RECORD, _MAGIC + struct.pack("<21f", *v))

    def _rows(self):
        m = self.metering
        for k in range(7):
            self.rows[R_GAIN + k] = m.cal[k]
            self.rows[R_LAG + k] = m.lag[k]
            self.rows[R_OFF + k] = self.offset[k]

    def publish(self, image=None):
        """The block into the register image (float32, high word first). Allocation-free."""
        if image is None:
            image = self.image
        if image is not None:
            sf32conv.copy_be(self.rows, 0, N_ROWS, image, 2 * CAL_BASE)

    # --- Modbus (allocation-free) ---------------------------------------------------------------------------
    def unlocked(self):
        p = self.protect
        return self._pass == self.config.values[self._ipass] or (p is not None and p.left > 0)

    def cmd_write(self, addr, count, src, off):
        """CAL_Pass (CMD_BASE), CAL_Cmd (CMD_BASE + 1); one FC16 may carry both. 03: not unlocked (neither Key within 5
        minutes nor the password in CAL_Pass) or an unknown code; 04: busy, or the wiring is not 3Ln3CT."""
        code = -1
        for i in range(count):
            v = (src[off + 2 * i] << 8) | src[off + 2 * i + 1]
            if addr + i == CMD_BASE:
                self._pass = v
            else:
                code = v
        if code < 0:
            return 0
        ok = self.unlocked()
        self._pass = 0
        if not ok or (code != CMD_CAL and code != CMD_RESET):
            return -ILLEGAL_DATA_VALUE
        if self.busy or self.pending:
            return -SERVER_DEVICE_FAILURE
        if code == CMD_CAL:
            if self.config.values[self._isyss] != 0:
                return -SERVER_DEVICE_FAILURE
            for k in range(_ACC):
                self.acc[k] = 0.0  # allocation-free: 0.0 is a constant object on both runtimes
            self.busy = WINDOWS + 1
            self.waited = 0
            self.rows[R_STATE] = MEASURING
        else:
            self.pending = CMD_RESET
        self.publish()
        return 0

    def block_write(self, addr, count, src, off):
        """Ref_U, Ref_I, Ref_Phi: always writable; the factors only when unlocked (03 otherwise); Cal_State
        never (03). Whole float32 values only (02 otherwise is the bank's answer for a partial one: here 03)."""
        a = addr - CAL_BASE
        if (a & 1) or (count & 1):
            return -ILLEGAL_DATA_VALUE
        first = a >> 1
        n = count >> 1
        if first + n > N_ROWS:
            return -ILLEGAL_DATA_VALUE
        if first <= R_STATE < first + n:
            return -ILLEGAL_DATA_VALUE
        if first + n > R_STATE and not self.unlocked():
            return -ILLEGAL_DATA_VALUE
        for k in range(n):
            _from_be(self.rows, first + k, src, off + 4 * k)
        if first + n > R_STATE:
            self.pending = -1  # factors written: copy them in service()
        self.publish()
        return 0

    # --- per window (allocation-free) ---------------------------------------------------------------------
    def window(self):
        """After each metered window while busy: the average takes only complete windows in which all three
        elements and F were measured (metering's mask), as in the window before (a reference switched on
        mid-window reads a partial rms). Allocation-free."""
        if not self.busy:
            return
        mk = self.metering.mask
        ok = MEAS
        for k in range(4):
            ok &= mk[self._meas[k]]
        was = self._was
        self._was = ok
        if self.busy == WINDOWS + 1:
            self.busy -= 1
            return  # the window the command arrived in
        if not (ok and was):
            self.waited += 1
            if self.waited >= _WAIT:
                self.busy = 0
                self.pending = CMD_CAL  # _compute fails: too few windows
            return
        self.busy -= 1
        w = self.metering.w
        acc = self.acc
        for p in range(3):
            _add(acc, p, w, ws.O_U + p)
            _add(acc, 3 + p, w, ws.O_I + p)
            _add(acc, 6 + p, w, ws.EP1 + p)
            _add(acc, 9 + p, w, ws.EQ1 + p)
        for c in range(7):
            _add(acc, 12 + c, w, ws.MEANS + P_X + c)
        if self.busy == 0:
            self.pending = CMD_CAL

    # --- outside the hot paths ------------------------------------------------------------------------------
    def service(self, pt, ct):
        """Finish a command or a factor write. Returns True when metering must be reconfigured."""
        what = self.pending
        if not what:
            return False
        self.pending = 0
        m = self.metering
        if what == CMD_RESET:
            for k in range(7):
                m.cal[k] = 1.0
                m.lag[k] = 0.0
                self.offset[k] = 0.0
            self.rows[R_STATE] = DONE
        elif what == CMD_CAL:
            self.rows[R_STATE] = DONE if self._compute(pt, ct) else FAILED
        else:
            for k in range(7):
                m.cal[k] = self.rows[R_GAIN + k]
                m.lag[k] = self.rows[R_LAG + k]
                self.offset[k] = self.rows[R_OFF + k]
        self._rows()
        self.save()
        self.publish()
        return True

    def _compute(self, pt, ct):
        m = self.metering
        acc = self.acc
        n = WINDOWS
        ref_u, ref_i, ref_phi = self.rows[R_REF], self.rows[R_REF + 1], self.rows[R_REF + 2]
        if not (ref_u > 0 and ref_i > 0) or self.waited >= _WAIT:
            return False
        gains = []
        lags = []
        for p in range(3):
            u = acc[p] / n / pt  # secondary, with the present gain applied
            i = acc[3 + p] / n / ct
            if u < 0.1 * ref_u or i < 0.1 * ref_i:
                return False
            gains.append(ref_u / u)
            gains.append(ref_i / i)
            phi = math.degrees(math.atan2(acc[9 + p], acc[6 + p]))  # measured U I* angle, present lag applied
            d = phi - ref_phi
            d = (d + 180.0) % 360.0 - 180.0
            lags.append(m.lag[3 + p] + d)
        for p in range(3):
            m.cal[p] *= gains[2 * p]
            m.cal[3 + p] *= gains[2 * p + 1]
            m.lag[3 + p] = lags[p]
        ish = m.ish  # the current range of the last window (the reference's range)
        for c in range(7):
            code = acc[12 + c] / n
            if c < 3:
                self.offset[c] = code * 1000.0 / 32768
            else:
                self.offset[c] = code * 25.0 / 32768 * 2 ** (ish - 8)
        return True


@micropython.viper
def _word(dst: ptr32, d: int, src: ptr32, a: int):
    dst[d] = src[a]


def _add(acc, a, w, b):
    # acc[a] += w[b] in float32 without a float object: copy the word beside the accumulators, add in place
    _word(acc, _ACC - 1, w, b)
    sf32.fadd(acc, a, a, _ACC - 1)
