# SPDX-License-Identifier: MIT
# Modbus RTU slave of the meter: CRC (crc), line framing (rtu), PDU dispatch over register banks (slave).
# Nothing here touches hardware; boards feed frames in and send self.tx out. See docs/modbus.md.
