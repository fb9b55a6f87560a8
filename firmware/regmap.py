# SPDX-License-Identifier: MIT
# The register map: the single declarative source for Modbus addresses, parameter ranges and value slots.
# Metering, the Modbus slave, the UI and tools/regmap.py all read it; nothing else defines an address. The rows
# live by concern in firmware/regmap_tables.py (measurements, configuration, bits, small blocks),
# firmware/regmap_blocks.py (the regular blocks made on demand) and firmware/regmap_events.py (alarms and events);
# this module re-exports them, lists the blocks with their addresses and looks names up.
from micropython import const

from firmware.regmap_blocks import (CALIBRATION, DEMAND, DEMAND_T, DMD_Q, ENERGY, HARMONICS,
                                    MAXMIN, MAXMIN_T, dmd_q)
from firmware.regmap_events import (ALARM_LIM, ALARM_N, ALARM_ST, ALARMS, DI_LOG, EV_HEAD, EV_REC,
                                    EV_SEL, PQ_N)
from firmware.regmap_tables import (AN_2LL, AN_3LN, AN_NAMES, B_SCALE, B_UNIT, BLOCK_END, CF_CHOICES, CF_DEFAULT,
                                    CF_DESC, CF_MAX, CF_MIN, CF_NAME, CF_SCALE, CLOCK, COILS, COMMANDS, CONFIG,
                                    CONFIG_BASE, DATA_NAMES, INFO, INPUTS, M_NAME, M_UNIT, MEAS_3W, MEAS_BASE,
                                    MEAS_END, MEASUREMENTS, N_CONFIG, N_MEAS, OVR_N, SIZES, STATUS, SYSS_NAMES)
from firmware.modbus.codes import READ_COILS, READ_DISCRETE_INPUTS, READ_HOLDING_REGISTERS
from firmware.rows import Rows

# (block name, first address, type, access, rows); access "r", "rw" or "w" (write-only: reads 0); the lookups
# below read an entry's fields through _BK_* (unpacking every entry costs more on the device)
_BK_NAME = const(0)
_BK_BASE = const(1)
_BK_TYPE = const(2)
_BK_ACCESS = const(3)
_BK_ROWS = const(4)
BLOCKS = (
    ("clock", 0x0020, "uint32", "rw", CLOCK),
    ("commands", 0x0030, "uint16", "w", COMMANDS),
    ("info", 0x0040, "uint32", "r", INFO),
    ("status", 0x0180, "uint16", "r", STATUS),
    ("ovr_n", 0x0190, "uint32", "r", OVR_N),
    ("harmonics", 0x0200, "float32", "r", HARMONICS),
    ("demand", 0x0400, "float32", "r", DEMAND),
    ("demand_t", 0x0440, "uint32", "r", DEMAND_T),
    ("maxmin", 0x0500, "float32", "r", MAXMIN),
    ("maxmin_t", 0x0580, "uint32", "r", MAXMIN_T),
    ("energy", 0x0800, "uint64", "r", ENERGY),
    ("calibration", 0x0A00, "float32", "rw", CALIBRATION),
    ("alarms", 0x0B00, "uint16", "rw", ALARMS),
    ("alarm_lim", 0x0B40, "float32", "rw", ALARM_LIM),
    ("alarm_st", 0x0B60, "uint16", "r", ALARM_ST),
    ("alarm_n", 0x0B70, "uint32", "r", ALARM_N),
    ("di_log", 0x0B80, "uint32", "r", DI_LOG),
    ("pq_n", 0x0B90, "uint32", "r", PQ_N),
    ("ev_head", 0x0C00, "uint32", "r", EV_HEAD),
    ("ev_sel", 0x0C08, "uint16", "rw", EV_SEL),
    ("ev_rec", 0x0C10, "uint32", "r", EV_REC),
)


def _find(rws, name):
    # row number of `name` in a table of rows (a tuple, or Rows made on demand), or -1
    if isinstance(rws, Rows):
        return rws.find(name)
    for k in range(len(rws)):
        if rws[k][0] == name:  # the name is field 0 of every table (M_NAME, CF_NAME, a block row's)
            return k
    return -1


def slot(name):
    """Index of a measurement in `vals` (not for hot paths: a linear search)."""
    k = _find(MEASUREMENTS, name)
    if k < 0:
        raise KeyError(name)
    return k


def config_index(name):
    k = _find(CONFIG, name)
    if k < 0:
        raise KeyError(name)
    return k


def valid(k, value):
    """True when `value` is allowed for configuration parameter k."""
    row = CONFIG[k]
    if value < row[CF_MIN] or value > row[CF_MAX]:
        return False
    allowed = row[CF_CHOICES]
    if allowed is not None:
        for a in allowed:
            if a == value:
                return True
        return False
    return True


def block(name):
    """(first address, type, access, rows) of a block, by name."""
    for b in BLOCKS:
        if b[_BK_NAME] == name:
            return b[_BK_BASE], b[_BK_TYPE], b[_BK_ACCESS], b[_BK_ROWS]
    raise KeyError(name)


def address(name):
    """The first register (int) of the row `name`: a row of a block (the first of that name, as locate()), a
    configuration parameter or a measurement (names are unique over the map). For modules that keep an address
    for speed: they take it from here at import or set-up, so the map stays its only source. Set-up only: a
    linear search, the blocks first (those kept are there; about 1 ms on the RP2040, 2 ms for an energy row).
    KeyError for a name no row has."""
    for b in BLOCKS:
        k = _find(b[_BK_ROWS], name)
        if k >= 0:
            return b[_BK_BASE] + SIZES[b[_BK_TYPE]] * k
    k = _find(CONFIG, name)
    if k >= 0:
        return CONFIG_BASE + k
    k = _find(MEASUREMENTS, name)
    if k >= 0:
        return MEAS_BASE + 2 * k
    raise KeyError(name)


def locate(names):
    """{name: (type, address, scale, unit)} for those of `names` (a set) that name a row of a block: one pass
    over the blocks (set-up only: it allocates, and makes each row's name)."""
    out = {}
    for bname, base, typ, access, rws in BLOCKS:
        size = SIZES[typ]
        lazy = isinstance(rws, Rows)
        for k in range(len(rws)):
            n = rws.name(k) if lazy else rws[k][0]
            if n in names and n not in out:  # the first row of a name wins, as in a search
                r = rws[k]
                out[n] = (typ, base + size * k, r[B_SCALE], r[B_UNIT])
    return out


def block_end():
    """One past the highest register of any block (the size of the register image)."""
    end = BLOCK_END
    for name, base, typ, access, rws in BLOCKS:
        end = max(end, base + SIZES[typ] * len(rws))
    return end


def rows():
    """Every register as a dict, for tools and docs (allocates: never on a hot path)."""
    out = []
    for k in range(len(CONFIG)):
        name, default, lo, hi, allowed, scale, unit, desc = CONFIG[k]
        rng = "allowed " + " ".join(str(a) for a in allowed) if allowed else "range %d..%d" % (lo, hi)
        out.append({"name": name, "address": CONFIG_BASE + k, "function": READ_HOLDING_REGISTERS, "type": "uint16",
                    "scale": scale, "unit": unit, "access": "rw",
                    "description": "%s; %s; default %d" % (desc, rng, default)})
    for k in range(len(MEASUREMENTS)):
        name, unit, desc = MEASUREMENTS[k]
        out.append({"name": name, "address": MEAS_BASE + 2 * k, "function": READ_HOLDING_REGISTERS, "type": "float32",
                    "scale": 1, "unit": unit, "access": "r", "description": desc})
    for bname, base, typ, access, rws in BLOCKS:
        size = SIZES[typ]
        for k in range(len(rws)):
            name, unit, scale, desc = rws[k]
            out.append({"name": name, "address": base + size * k, "function": READ_HOLDING_REGISTERS, "type": typ,
                        "scale": scale, "unit": unit, "access": access, "description": desc})
    out.sort(key=lambda r: (r["function"], r["address"]))
    for name, addr, desc in COILS:
        out.append({"name": name, "address": addr, "function": READ_COILS, "type": "uint16", "scale": 1, "unit": "",
                    "access": "rw", "description": desc})
    for name, addr, desc in INPUTS:
        out.append({"name": name, "address": addr, "function": READ_DISCRETE_INPUTS, "type": "uint16", "scale": 1,
                    "unit": "", "access": "r", "description": desc})
    return out
