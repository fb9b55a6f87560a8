# SPDX-License-Identifier: MIT
# Analog front end and ADC constants (ADS131M08-like, 24-bit, simultaneous sampling).
# The same full scale for every Un/In setting: range settings act on percentages, not on the hardware.
from micropython import const

SAMPLE_RATE = const(8000)  # samples/s per channel, from the ADC's own crystal
CHANNELS = const(8)  # Ua Ub Uc Ia Ib Ic In T
CH_UA = const(0)
CH_UB = const(1)
CH_UC = const(2)
CH_IA = const(3)
CH_IB = const(4)
CH_IC = const(5)
CH_IN = const(6)
CH_T = const(7)
CODE_FULL = const(8388608)  # 2**23: code at full scale
U_FULL_SCALE = 1000.0  # volts (peak) at code 2**23, secondary side
I_FULL_SCALE = 25.0  # amperes (peak) at code 2**23, secondary side
# The ADC's decimation filter and the anti-alias RC (docs/metering.md, "The ADC as it really is"): the firmware
# divides their response out (firmware/droop.py, table DROOP in firmware/tables.py made from these numbers).
F_MOD = const(4096000)  # modulator clock, Hz: fCLKIN 8.192 MHz / 2 (ADS131M08 high-resolution mode)
OSR = const(512)  # sinc3 decimation: F_MOD / OSR = SAMPLE_RATE
RC_CORNER = 10000.0  # Hz: nominal corner of the first-order anti-alias RC, voltage and current inputs alike
