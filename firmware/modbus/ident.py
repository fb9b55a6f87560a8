# SPDX-License-Identifier: MIT
# FC17 report server ID and FC43/14 read device identification (basic and regular objects, stream and
# individual access) for the RTU slave. The replies are built from one preallocated table; no allocation.
from array import array

from micropython import const

from firmware.modbus.slave import ILLEGAL_ADDRESS, ILLEGAL_FUNCTION, ILLEGAL_VALUE
from firmware.version import TEXT as VERSION

_MEI_DEVICE_ID = const(0x0E)
_CONFORMITY = const(0x82)  # regular identification, stream and individual access
_LAST_BASIC = const(2)
_MAX_PDU_END = const(254)  # reply bytes before the CRC: a 256-byte ADU at most
_RUN_ON = const(0xFF)

# Object ids 0..5: VendorName, ProductCode, MajorMinorRevision (basic); VendorUrl, ProductName, ModelName
# (regular). The URL is a placeholder: set the real one for a product build.
OBJECTS = ("KPM53-MPY", "KPM53", VERSION, "https://example.com/kpm53", "KPM53 multifunction power meter",
           "KPM53-clone")
SERVER_ID = 53  # FC17 server id byte (device specific)


class Ident:
    """Serves FC17 and FC43/14 on `slave`. objects: 6 strings (ids 0..5); extra: FC17's additional data."""

    def __init__(self, slave, objects=OBJECTS, server_id=SERVER_ID, extra=None):
        self.slave = slave
        n = len(objects)
        self.n = n
        blob = bytearray()
        self.off = array("H", bytes(2 * n + 2))  # object k is blob[off[k]:off[k+1]], stored as id, length, value
        for k in range(n):
            b = objects[k].encode()
            self.off[k] = len(blob)
            blob.append(k)
            blob.append(len(b))
            blob.extend(b)
        self.off[n] = len(blob)
        self.blob = blob
        if extra is None:
            extra = "KPM53 " + VERSION
        self.sid = bytearray([server_id, _RUN_ON]) + extra.encode()
        slave.on(17, self._fc17)
        slave.on(43, self._fc43)

    def _fc17(self, frame, n):
        # addr 11 crc -> addr 11 count, server id, run indicator (FF = running), additional data
        if n != 4:
            return -ILLEGAL_VALUE
        tx = self.slave.tx
        sid = self.sid
        k = len(sid)
        tx[2] = k
        for i in range(k):
            tx[3 + i] = sid[i]
        return 3 + k

    def _fc43(self, frame, n):
        # addr 2B 0E code object crc
        if n < 5:
            return -ILLEGAL_VALUE
        if frame[2] != _MEI_DEVICE_ID:
            return -ILLEGAL_FUNCTION  # other MEI types (0x0D CANopen) are not served
        if n != 7:
            return -ILLEGAL_VALUE
        code = frame[3]
        obj = frame[4]
        if code < 1 or code > 4:
            return -ILLEGAL_VALUE
        last = self.n - 1
        if code == 4:  # individual access: exactly that object
            if obj > last:
                return -ILLEGAL_ADDRESS
            last = obj
        else:
            if code == 1:
                last = _LAST_BASIC
            if obj > last:
                obj = 0  # stream access from an unknown object restarts at object 0 (spec 6.21)
        tx = self.slave.tx
        tx[2] = _MEI_DEVICE_ID
        tx[3] = code
        tx[4] = _CONFORMITY
        tx[5] = 0  # more follows
        tx[6] = 0  # next object id
        k = 8
        count = 0
        off = self.off
        blob = self.blob
        while obj <= last:
            a = off[obj]
            b = off[obj + 1]
            if k + b - a > _MAX_PDU_END:
                tx[5] = 0xFF  # does not fit: the master asks again from tx[6]
                tx[6] = obj
                break
            for i in range(b - a):
                tx[k + i] = blob[a + i]
            k += b - a
            count += 1
            obj += 1
        tx[7] = count
        return k
