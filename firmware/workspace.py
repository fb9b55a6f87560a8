# SPDX-License-Identifier: MIT
# Slots of the metering workspace (one array('f')): window means, outputs in metering_config.OUT order,
# temporaries and the constants metering_config.precompute() writes. Shared by firmware/metering.py, powers.py,
# metering_config.py and metering_codes.py.
from micropython import const

MEANS = const(0)  # NP (33): window sums with the edges weighted, then divided by the window length
OUTPUTS = const(40)  # 32 outputs in metering_config.OUT order; O_x: where each quantity starts
O_U = const(40)  # Ua Ub Uc
O_UL = const(43)  # Uab Ubc Uca
O_I = const(46)  # Ia Ib Ic
O_P = const(49)  # Pa Pb Pc P
O_Q = const(53)
O_S = const(57)
O_PF = const(61)
O_F = const(65)
O_IN = const(66)  # I_N (vector sum), I_N_m (neutral channel)
O_AVG = const(68)  # U_avg UL_avg I_avg
O_T = const(71)
N_OUT = const(32)
MS = const(72)  # 8: mean squares with DC removed (reduced codes^2): 7 channels, then ia+ib+ic
TMP = const(80)  # 6 temporaries, TMP .. TMP + 5: each function names the ones it uses
LEN = const(86)  # window length (samples)
INVL = const(87)
ZERO = const(88)
THIRD = const(89)
UCH = const(90)  # 3: rms of the voltage channels (Ua Ub Uc in 3Ln3CT; Uab, ~0, Ucb in 2LL)
EP1 = const(93)  # 3: fundamental P per element, phase-corrected (calibration reads them)
EQ1 = const(96)  # 3: fundamental Q per element, phase-corrected (kept while the DFT is not locked)
EP = const(99)  # 3: active power per element
# constants set by metering_config.precompute()
KU = const(104)  # 3: volts per reduced code, with calibration and Pt
KI = const(107)  # 3: amperes per reduced code, with calibration and Ct
KP = const(110)  # 3: KU * KI
KQ = const(113)  # 3: KP * 2 / 32767**2 (DFT scale: Q15 table, rms = sqrt(2) * |X| / L)
G2 = const(116)  # 3: voltage gain calibration squared (line voltages)
GX = const(119)  # 3: 2 * ga * gb for the pairs ab bc ca
KUL = const(122)  # volts per reduced code of a line voltage (Pt, gains already applied)
KIN = const(123)  # amperes per reduced code of the neutral channel (I_N_m)
KIS = const(124)  # amperes per reduced code of the vector sum (mean gain of the phase CTs)
COS = const(125)  # 3: phase correction per element: true U I* = measured U I* x (COS + j SIN)
SIN = const(128)
IST = const(131)  # starting current, primary amperes
UTH = const(132)  # voltage threshold, primary volts
CG = const(136)  # 3: gain x cos(lag) of the current channels (the vector sum In from corrected phasors)
SG = const(139)  # 3: gain x sin(lag)
KIU = const(142)  # amperes per reduced code without gain (Ct only)
K2 = const(143)  # 2 / 32767**2: mean square of a fundamental from its DFT phasor
GAV2 = const(144)  # mean gain of the phase CTs, squared
EDP = const(145)  # 3: P correction of the window per element (corrected P1 - measured P1, W primary; energy)
EC = const(148)  # 3: P of the element minus its raw u*i part (EDP - DC product, W primary): energy adds it
GG = const(151)  # G_1^2: the front end's power gain divided out at the window's fundamental (firmware/droop.py)
GGM = const(152)  # G_1^2 - 1
FK = const(153)  # 10: G_1^2 x the harmonic rms factors (Harmonics.kap): Ua Ub Uc, Uab Ubc Uca, Ia Ib Ic, neutral
PX = const(163)  # 3: harmonic P excess per element relative to |U1 I1| (Harmonics.kap[10..12])
DB = const(166)  # 4: direction dead band of the window per element a b c and total: K_ON x S (firmware/deadband.py)
DBK = const(170)  # deadband.K_ON
DBF = const(171)  # deadband.FLOOR x Pt_U x Ct_I: the dead band's floor, W and var primary
UREF = const(172)  # a voltage that can be the zero-crossing reference (10 V rms secondary x Pt_U)
SIZE = const(173)
