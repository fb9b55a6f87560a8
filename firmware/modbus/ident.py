# SPDX-License-Identifier: MIT
# FC17 report server ID and FC43/14 read device identification (basic and regular objects, stream and
# individual access) for the RTU slave. The replies are built from one preallocated table; no allocation.
from array import array

from micropython import const

from firmware.modbus.codes import (
    ADU_MAX,
    ADU_MEI_DEVICE_ID,
    ADU_MIN,
    CRC_LEN,
    ENCAPSULATED_INTERFACE,
    ILLEGAL_DATA_ADDRESS,
    ILLEGAL_DATA_VALUE,
    ILLEGAL_FUNCTION,
    MEI_DEVICE_ID,
    REPLY_HEAD,
    REPORT_SERVER_ID,
)
from firmware.version import TEXT as VERSION

_CONFORMITY = const(0x82)  # regular identification, stream and individual access
_LAST_BASIC = const(2)
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
        slave.on(REPORT_SERVER_ID, self._fc17)
        slave.on(ENCAPSULATED_INTERFACE, self._fc43)

    def _fc17(self, frame, n):
        # addr 11 crc -> addr 11 count, server id, run indicator (FF = running), additional data
        if n != ADU_MIN:
            return -ILLEGAL_DATA_VALUE
        tx = self.slave.tx
        sid = self.sid
        k = len(sid)
        tx[2] = k
        for i in range(k):
            tx[REPLY_HEAD + i] = sid[i]
        return REPLY_HEAD + k

    def _fc43(self, frame, n):
        # addr 2B 0E code object crc
        if n < ADU_MIN + 1:
            return -ILLEGAL_DATA_VALUE  # no MEI type
        if frame[2] != MEI_DEVICE_ID:
            return -ILLEGAL_FUNCTION  # other MEI types (0x0D CANopen) are not served
        if n != ADU_MEI_DEVICE_ID:
            return -ILLEGAL_DATA_VALUE
        code = frame[3]
        obj = frame[4]
        if code < 1 or code > 4:
            return -ILLEGAL_DATA_VALUE
        last = self.n - 1
        if code == 4:  # individual access: exactly that object
            if obj > last:
                return -ILLEGAL_DATA_ADDRESS
            last = obj
        else:
            if code == 1:
                last = _LAST_BASIC
            if obj > last:
                obj = 0  # stream access from an unknown object restarts at object 0 (spec 6.21)
        tx = self.slave.tx
        tx[2] = MEI_DEVICE_ID
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
            if k + b - a > ADU_MAX - CRC_LEN:
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
