# SPDX-License-Identifier: MIT
# Modbus numbers by the spec's names: function codes (Modbus Application Protocol V1.1b3 sec. 6), exception codes
# (sec. 7) and RTU frame (ADU) lengths (Serial Line V1.02 sec. 2.5.1). One module of its own, not slave.py: the
# register owners that refuse writes (regbank, calib, ledger, alarms, io ...) and the tools and tests that build
# frames need the codes without the slave. Public const names: importable (one dict entry each on the chip).
#
# One sign convention for every result on the request path, so no layer translates another's:
#   function handlers (Slave.on): > 0 the reply's length so far (CRC not counted), 0 no reply, < 0 -exception code;
#   writers (bank.write, owners attached with RegisterBank.attach, bits.write_coil): 0 done, < 0 -exception code.
# The slave passes a writer's negative result on as the handler's: `return -ILLEGAL_DATA_VALUE` in a writer is
# the exception 03 on the wire.
from micropython import const

# Function codes (sec. 6); DIAGNOSTICS is serial line only (Serial Line V1.02 sec. 6.1).
READ_COILS = const(0x01)
READ_DISCRETE_INPUTS = const(0x02)
READ_HOLDING_REGISTERS = const(0x03)
READ_INPUT_REGISTERS = const(0x04)
WRITE_SINGLE_COIL = const(0x05)
WRITE_SINGLE_REGISTER = const(0x06)
DIAGNOSTICS = const(0x08)
WRITE_MULTIPLE_COILS = const(0x0F)
WRITE_MULTIPLE_REGISTERS = const(0x10)
REPORT_SERVER_ID = const(0x11)
ENCAPSULATED_INTERFACE = const(0x2B)  # MEI transport (sec. 6.19)
MEI_DEVICE_ID = const(0x0E)  # its MEI type "read device identification" (sec. 6.21)
EXCEPTION_BIT = const(0x80)  # an exception reply's function code: the request's | 0x80 (sec. 7)

# Exception codes (sec. 7)
ILLEGAL_FUNCTION = const(0x01)
ILLEGAL_DATA_ADDRESS = const(0x02)
ILLEGAL_DATA_VALUE = const(0x03)
SERVER_DEVICE_FAILURE = const(0x04)

# RTU ADU lengths in bytes: server address (1) + PDU (function code + data) + CRC (2).
ADU_MAX = const(256)  # the largest RTU frame
ADU_MIN = const(4)  # address, function code, CRC: a request without data (FC17)
CRC_LEN = const(2)
ADU_FIXED = const(8)  # requests of two 16-bit fields: FC01-06 (start/quantity, address/value), FC08 (sub, data)
ADU_MULTIPLE = const(9)  # FC15/FC16 without their data bytes: start, quantity, byte count
ADU_MEI_DEVICE_ID = const(7)  # FC43/14: MEI type, read device id code, object id
REPLY_HEAD = const(3)  # address, function code, byte count (or exception code): where a reply's data start
REPLY_ECHO = const(6)  # address, function code, two 16-bit fields: FC05/06 echo, FC15/16 start and quantity
