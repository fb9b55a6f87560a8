# SPDX-License-Identifier: MIT
# Modbus RTU slave: checks one complete frame (size, CRC, address), dispatches its PDU by function code over
# the register banks and builds the reply in self.tx. Allocates nothing per request; see docs/modbus.md.
import micropython
from micropython import const
from array import array

from firmware.bufs import copy8
from firmware.modbus.codes import (
    ADU_FIXED,
    ADU_MAX,
    ADU_MIN,
    ADU_MULTIPLE,
    CRC_LEN,
    DIAGNOSTICS,
    EXCEPTION_BIT,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    READ_COILS,
    READ_DISCRETE_INPUTS,
    READ_HOLDING_REGISTERS,
    READ_INPUT_REGISTERS,
    REPLY_ECHO,
    REPLY_HEAD,
    SERVER_DEVICE_FAILURE,
    WRITE_MULTIPLE_COILS,
    WRITE_MULTIPLE_REGISTERS,
    WRITE_SINGLE_COIL,
    WRITE_SINGLE_REGISTER,
)
from firmware.modbus.crc import crc16

# Indexes into Slave.counters = FC08 diagnostic sub-function - 0x0B (Serial Line v1.02 sec. 6.1.1).
BUS_MESSAGES = const(0)  # 0x0B every frame seen on the bus (any address, good CRC or not)
BUS_ERRORS = const(1)  # 0x0C CRC errors (and frames too short or too long to carry one)
EXCEPTIONS = const(2)  # 0x0D exception replies sent
SLAVE_MESSAGES = const(3)  # 0x0E frames for this address or broadcast, processed
NO_RESPONSE = const(4)  # 0x0F frames for this address or broadcast that got no reply
NAKS = const(5)  # 0x10 always 0 (no FC with NAK here)
BUSY = const(6)  # 0x11 always 0 (never busy)
OVERRUNS = const(7)  # 0x12 character overruns: the UART driver / rtu.Assembler adds them
N_COUNTERS = const(8)

_KIND_RO = const(1)  # regs.kind values: 0 absent, 1 read-only, 2 read/write
_KIND_RW = const(2)
_MAX_READ_REGS = const(125)
_MAX_WRITE_REGS = const(123)
_MAX_READ_BITS = const(2000)
_MAX_WRITE_BITS = const(1968)
_FN_SLOTS = const(128)  # function codes 1..127; 0x80 and up are exception replies, never requests
_RESTART = const(1)  # FC08 sub-function "restart communications": the one request served in listen-only mode
_MULTIPLE_DATA = const(7)  # FC15/FC16 requests: where their data bytes start (ADU_MULTIPLE less the CRC)


@micropython.viper
def _kinds_ok(kind: ptr8, start: int, q: int, need: int) -> int:
    # 1 when every register start..start+q-1 has kind >= need (1: readable, 2: writable)
    i = start
    end = start + q
    while i < end:
        if kind[i] < need:
            return 0
        i += 1
    return 1


@micropython.viper
def _pack(dst: ptr8, doff: int, src: ptr8, start: int, q: int):
    # q bytes (0/1) from src[start:] into bits, LSB first, unused high bits of the last byte zero
    nb = (q + 7) >> 3
    i = 0
    while i < nb:
        dst[doff + i] = 0
        i += 1
    i = 0
    while i < q:
        if src[start + i]:
            k = doff + (i >> 3)
            dst[k] = dst[k] | (1 << (i & 7))
        i += 1


class Slave:
    """handle(frame, n) -> length of the reply in self.tx (0: send nothing).

    regs / inregs: .image (bytearray, register r at 2r high, 2r+1 low), .kind (bytearray per register: 0 none,
    1 read-only, 2 read/write), .find(start, q) -> the index in image/kind of register `start` for a run of q
    registers, or -1 when the run is not in the bank (a bank that is one block from 0 returns start when
    start + q <= its size; a sparse one maps pages of addresses onto its image), .write(addr, count, src, off)
    -> 0 done, or -ILLEGAL_DATA_ADDRESS (range not writable as one piece), -ILLEGAL_DATA_VALUE (value refused),
    -SERVER_DEVICE_FAILURE (could not be carried out); addr is the Modbus address.
    bits: .coils, .inputs (bytearray, one 0/1 byte per bit), .write_coil(i, v) -> 0 or -SERVER_DEVICE_FAILURE.
    Writers' results are the handlers' (firmware/modbus/codes.py): passed on as they come.
    """

    def __init__(self, regs, bits, address=1, inregs=None):
        self.regs = regs
        self.bits = bits
        self.inregs = inregs
        self.address = address
        self.listen_only = False  # FC08 sub 04 sets it: nothing is run or answered except FC08 sub 01
        self.tx = bytearray(ADU_MAX)
        self.counters = array("H", bytes(2 * N_COUNTERS))
        self._old = bytearray((_MAX_WRITE_BITS + 7) >> 3)  # FC15 snapshot for the roll-back
        # Bound methods made once here: looking one up per request would allocate.
        self._write_regs = regs.write
        self._write_coil = bits.write_coil
        self._fn = [None] * _FN_SLOTS
        self._bcast = bytearray(_FN_SLOTS)  # 1: executed when broadcast (writes only)
        self.on(READ_COILS, self._fc01)
        self.on(READ_DISCRETE_INPUTS, self._fc02)
        self.on(READ_HOLDING_REGISTERS, self._fc03)
        if inregs is not None:
            self.on(READ_INPUT_REGISTERS, self._fc04)
        self.on(WRITE_SINGLE_COIL, self._fc05, True)
        self.on(WRITE_SINGLE_REGISTER, self._fc06, True)
        self.on(WRITE_MULTIPLE_COILS, self._fc15, True)
        self.on(WRITE_MULTIPLE_REGISTERS, self._fc16, True)

    def on(self, fc, handler, broadcast=False):
        """Serve function code fc with handler(frame, n) -> int (the extension point for FC08, FC17, FC43).

        The handler finds tx[0] = address and tx[1] = fc already set, writes the rest of the PDU from tx[2]
        and returns the length so far (the CRC is appended here), or -code for an exception reply, or 0 for no
        reply at all. broadcast=True: also executed for address 0 (never answered). handler=None removes fc.
        """
        self._fn[fc] = handler
        self._bcast[fc] = 1 if broadcast and handler is not None else 0

    def serve(self, regs):
        """Answer FC03/06/16 from the bank `regs` from now on (the meter's protocol profile, Prot). Allocates a
        bound method: call it between requests, never from a handler."""
        self.regs = regs
        self._write_regs = regs.write

    def clear_counters(self):
        c = self.counters
        for i in range(N_COUNTERS):
            c[i] = 0

    def _count(self, i):
        c = self.counters
        c[i] = (c[i] + 1) & 0xFFFF

    def handle(self, frame, n):
        self._count(BUS_MESSAGES)
        if n < ADU_MIN or n > ADU_MAX:
            self._count(BUS_ERRORS)
            return 0
        c = crc16(frame, 0, n - CRC_LEN)
        if frame[n - CRC_LEN] != (c & 0xFF) or frame[n - 1] != (c >> 8):
            self._count(BUS_ERRORS)
            return 0
        a = frame[0]
        if a != 0 and a != self.address:
            return 0
        self._count(SLAVE_MESSAGES)
        fc = frame[1]
        if self.listen_only and not (a != 0 and fc == DIAGNOSTICS and n == ADU_FIXED and frame[2] == 0
                                     and frame[3] == _RESTART):
            # Listen-only mode (Serial Line 6.1.1, sub 04): count, run nothing, answer nothing. Only
            # "restart communications" addressed to us brings the port back.
            self._count(NO_RESPONSE)
            return 0
        h = self._fn[fc] if fc < _FN_SLOTS else None
        tx = self.tx
        tx[0] = a
        tx[1] = fc
        if a == 0:
            # Broadcast: writes are executed, reads and unknown functions ignored, nothing is ever sent.
            if h is not None and self._bcast[fc]:
                h(frame, n)
            self._count(NO_RESPONSE)
            return 0
        r = -ILLEGAL_FUNCTION if h is None else h(frame, n)
        if r > 0:
            return self._seal(r)
        if r == 0:
            self._count(NO_RESPONSE)
            return 0
        return self.exception(fc, -r)

    def exception(self, fc, code):
        """The one builder of exception replies: address, fc | 0x80, code, CRC. Returns its length (5)."""
        tx = self.tx
        tx[0] = self.address
        tx[1] = (fc | EXCEPTION_BIT) & 0xFF
        tx[2] = code
        self._count(EXCEPTIONS)
        return self._seal(REPLY_HEAD)

    def _seal(self, k):
        tx = self.tx
        c = crc16(tx, 0, k)
        tx[k] = c & 0xFF
        tx[k + 1] = c >> 8
        return k + CRC_LEN

    # -- function handlers: return the reply length without CRC, or -exception code (codes.py) ---------

    def _fc01(self, frame, n):
        return self._read_bits(frame, n, self.bits.coils)

    def _fc02(self, frame, n):
        return self._read_bits(frame, n, self.bits.inputs)

    def _fc03(self, frame, n):
        return self._read_regs(frame, n, self.regs)

    def _fc04(self, frame, n):
        return self._read_regs(frame, n, self.inregs)

    def _read_bits(self, frame, n, bank):
        if n != ADU_FIXED:
            return -ILLEGAL_DATA_VALUE
        q = (frame[4] << 8) | frame[5]
        if q < 1 or q > _MAX_READ_BITS:
            return -ILLEGAL_DATA_VALUE
        start = (frame[2] << 8) | frame[3]
        if start + q > len(bank):
            return -ILLEGAL_DATA_ADDRESS
        nb = (q + 7) >> 3
        tx = self.tx
        tx[2] = nb
        _pack(tx, REPLY_HEAD, bank, start, q)
        return REPLY_HEAD + nb

    def _read_regs(self, frame, n, bank):
        if n != ADU_FIXED:
            return -ILLEGAL_DATA_VALUE
        q = (frame[4] << 8) | frame[5]
        if q < 1 or q > _MAX_READ_REGS:
            return -ILLEGAL_DATA_VALUE
        i = bank.find((frame[2] << 8) | frame[3], q)
        if i < 0 or not _kinds_ok(bank.kind, i, q, _KIND_RO):
            return -ILLEGAL_DATA_ADDRESS
        tx = self.tx
        tx[2] = q << 1
        copy8(tx, REPLY_HEAD, bank.image, i << 1, q << 1)
        return REPLY_HEAD + (q << 1)

    def _fc05(self, frame, n):
        if n != ADU_FIXED:
            return -ILLEGAL_DATA_VALUE
        v = (frame[4] << 8) | frame[5]
        if v != 0xFF00 and v != 0:
            return -ILLEGAL_DATA_VALUE
        i = (frame[2] << 8) | frame[3]
        if i >= len(self.bits.coils):
            return -ILLEGAL_DATA_ADDRESS
        r = self._write_coil(i, 1 if v else 0)
        return r if r else self._echo(frame)

    def _fc06(self, frame, n):
        if n != ADU_FIXED:
            return -ILLEGAL_DATA_VALUE
        a = (frame[2] << 8) | frame[3]
        i = self.regs.find(a, 1)
        if i < 0 or self.regs.kind[i] != _KIND_RW:
            return -ILLEGAL_DATA_ADDRESS
        r = self._write_regs(a, 1, frame, 4)
        return r if r else self._echo(frame)

    def _fc15(self, frame, n):
        if n < ADU_MULTIPLE:
            return -ILLEGAL_DATA_VALUE
        q = (frame[4] << 8) | frame[5]
        bc = frame[6]
        if q < 1 or q > _MAX_WRITE_BITS or bc != (q + 7) >> 3 or n != ADU_MULTIPLE + bc:
            return -ILLEGAL_DATA_VALUE
        start = (frame[2] << 8) | frame[3]
        coils = self.bits.coils
        if start + q > len(coils):
            return -ILLEGAL_DATA_ADDRESS
        old = self._old
        _pack(old, 0, coils, start, q)
        wc = self._write_coil
        for i in range(q):
            r = wc(start + i, (frame[_MULTIPLE_DATA + (i >> 3)] >> (i & 7)) & 1)
            if r:
                # Refused: put back the coils already changed, so the request is all-or-nothing.
                for j in range(i):
                    o = (old[j >> 3] >> (j & 7)) & 1
                    if o != (frame[_MULTIPLE_DATA + (j >> 3)] >> (j & 7)) & 1:
                        wc(start + j, o)
                return r
        return self._echo(frame)

    def _fc16(self, frame, n):
        if n < ADU_MULTIPLE:
            return -ILLEGAL_DATA_VALUE
        q = (frame[4] << 8) | frame[5]
        bc = frame[6]
        if q < 1 or q > _MAX_WRITE_REGS or bc != q << 1 or n != ADU_MULTIPLE + bc:
            return -ILLEGAL_DATA_VALUE
        start = (frame[2] << 8) | frame[3]
        i = self.regs.find(start, q)
        if i < 0 or not _kinds_ok(self.regs.kind, i, q, _KIND_RW):
            return -ILLEGAL_DATA_ADDRESS
        r = self._write_regs(start, q, frame, _MULTIPLE_DATA)
        return r if r else self._echo(frame)

    def _echo(self, frame):
        # FC05/06 echo the request; FC15/16 answer with start and quantity: both are bytes 2..5.
        copy8(self.tx, 2, frame, 2, 4)
        return REPLY_ECHO
