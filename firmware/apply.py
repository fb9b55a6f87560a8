# SPDX-License-Identifier: MIT
# The configuration applied to the meter's parts: what Meter.service() runs once after settings changed (one change
# or a burst of them), between metering windows. Settings are read by row: a lookup by name costs ~11,000 cycles on
# the RP2040 (Config.get) and this reads some twenty-five.
from firmware import regmap

_row = regmap.config_index  # rows taken from the register map by name, at import
ADR = _row("Adr")
BAUD = _row("baud")
DATA = _row("dATA")
SYSS = _row("SYSS")
UN = _row("Un")
IN = _row("In")
PT_U = _row("Pt_U")
CT_I = _row("Ct_I")
IST = _row("IST")
AN = _row("An")
PROT = _row("Prot")
DM_P = _row("DM_P")
DM_S = _row("DM_S")
DO1_M = _row("DO1_M")
DO2_M = _row("DO2_M")
DIP = _row("dIP")
SWEL = _row("SWEL")
INT = _row("Int")
HYST = _row("HYSt")


def parts(m):
    """Configure the parts of Meter m from m.config: the configuration registers, metering, the calibration block,
    the analog output, energy and pulses, demand, the relay modes, the alarms' wiring and relays, the voltage
    events. About 6 ms on the RP2040 (the metering and energy constants in floats): once per change or burst."""
    v = m.config.values
    syss = v[SYSS]
    un = v[UN]
    rated = v[IN]
    pt = v[PT_U]
    ct = v[CT_I]
    m.regs.refresh_config()
    m.metering.configure(pt, ct, syss, un, rated, None, v[IST])
    m.calib.publish(m.regs.image)
    m.analog.configure(v[AN], syss, un, rated, pt, ct)
    m.ledger.configure(m.metering.cal)
    m.demand.configure(pt, ct, v[DM_P], v[DM_S])
    m.io.set_mode(0, v[DO1_M])
    m.io.set_mode(1, v[DO2_M])
    m.alarms.wiring(syss)
    m.pq.configure(syss, un, pt, v[DIP], v[SWEL], v[INT], v[HYST])
    m.alarms.drive()
