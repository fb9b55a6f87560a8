# SPDX-License-Identifier: MIT
# Independent truth for RTU frames in tests: the bitwise CRC exactly as Modbus Serial Line v1.02 6.2.2 gives it.


def crc_ref(data):
    c = 0xFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ 0xA001 if c & 1 else c >> 1
    return c


def frame(data):
    """data (address + PDU) followed by its CRC, low byte first."""
    c = crc_ref(data)
    return bytes(data) + bytes([c & 0xFF, c >> 8])
