# SPDX-License-Identifier: MIT
# Every address a module keeps for speed (a module int, an offset into the register image, a write handler's
# range) against the published register table: the README's, whose rows carry the name and the address. The
# modules take them from firmware/regmap.py by name; this keeps a moved or renamed register from leaving one
# behind. regmap.address() itself is checked against every row of the table.
import os
import re

import pytest

from firmware import calib, energy, ledger, protect, regmap
from firmware.meter import Meter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ROW = re.compile(r"^\| (\S+) \| (\d+) \(0x([0-9A-F]{4})\) \| 3 \|")


def _table():
    """{name: address} of the README's holding-register rows (FC03), each checked decimal == hexadecimal."""
    out = {}
    with open(os.path.join(ROOT, "README.md")) as f:
        for line in f:
            m = _ROW.match(line)
            if m:
                assert int(m.group(2)) == int(m.group(3), 16), line
                assert m.group(1) not in out, "two rows named " + m.group(1)
                out[m.group(1)] = int(m.group(2))
    return out


TABLE = _table()


def test_the_table_has_the_rows_this_file_names():
    assert len(TABLE) > 600
    for name in ("Key", "cLr_Eny", "cLr_MaxMin", "cLr_DM", "CAL_Pass", "CAL_Cmd", "cLr_OVR", "Ver", "Ver_D",
                 "Writes", "Gaps", "SEQ", "NOV", "EP_imp", "EP_imp_TMon", "RTime", "LTime", "ES", "AH", "Ref_U",
                 "Cal_State", "G_Ua", "Lag_Ua", "Off_Ua", "Off_In", "dATE", "tinE", "EV_Total", "EV_Kept", "EV_From"):
        assert name in TABLE, name


def test_address_is_every_rows_address():
    for name, addr in TABLE.items():
        assert regmap.address(name) == addr, name
    with pytest.raises(KeyError):
        regmap.address("no such register")


def test_module_addresses_are_the_rows_of_their_names():
    assert protect.KEY == TABLE["Key"]
    assert ledger._CLR == TABLE["cLr_Eny"]
    assert calib.CMD_BASE == TABLE["CAL_Pass"]
    assert calib.CMD_BASE + 1 == TABLE["CAL_Cmd"]  # cmd_write takes any other register of its pair as CAL_Cmd
    assert calib.CAL_BASE == TABLE["Ref_U"]


def test_row_numbers_kept_as_constants_are_the_rows_of_their_names():
    # calibration rows (float32: 2 registers a row)
    cal = {"R_REF": "Ref_U", "R_STATE": "Cal_State", "R_GAIN": "G_Ua", "R_LAG": "Lag_Ua", "R_OFF": "Off_Ua"}
    for const, name in cal.items():
        assert calib.CAL_BASE + 2 * getattr(calib, const) == TABLE[name], const
    assert calib.CAL_BASE + 2 * (calib.N_ROWS - 1) == TABLE["Off_In"]
    assert "Off_In" == regmap.CALIBRATION.name(len(regmap.CALIBRATION) - 1)  # the last row
    # energy's apparent energy and ampere-hours rows (uint64: 4 registers a row)
    assert TABLE["EP_imp"] + 4 * energy._ES_ROW == TABLE["ES"]
    assert TABLE["EP_imp"] + 4 * (energy._ES_ROW + 1) == TABLE["AH"]


def _owner(regs, addr, count):
    # the write handler the bank gives a write of count registers at addr (RegisterBank.write's search)
    for j in range(len(regs._fn)):
        if regs._first[j] <= addr and addr + count <= regs._end[j]:
            return regs._fn[j]
    return None


def test_the_meters_offsets_and_handlers_are_at_the_rows_of_their_names():
    m = Meter(None)
    lg = m.ledger
    assert lg._off == 2 * TABLE["EP_imp"]
    assert lg._off_p == 2 * TABLE["EP_imp_TMon"]
    assert lg._off_t == 2 * TABLE["RTime"]
    assert lg._off_l == 2 * TABLE["LTime"]
    assert m.flags._st_off == 2 * TABLE["SEQ"]
    assert m.flags._st_off + 2 * 3 == 2 * TABLE["NOV"]  # the four rows InputFlags publishes: SEQ .. NOV
    assert m.journal._head == 2 * TABLE["EV_Total"]
    assert m.journal._head + 4 == 2 * TABLE["EV_Kept"]  # the uint32 after it
    assert m.journal._sel_reg == TABLE["EV_From"]
    assert m._writes_reg == TABLE["Writes"]
    assert m._gaps_reg == TABLE["Gaps"]
    # each command register is written through its owner, one register each; the clock as its two uint32
    regs = m.regs
    for name, fn in (("Key", m.protect.key_write), ("cLr_Eny", lg.clear_write), ("cLr_MaxMin", m.maxmin.cmd_write),
                     ("cLr_DM", m.demand.cmd_write), ("cLr_OVR", m.flags.cmd_write),
                     ("CAL_Pass", m.calib.cmd_write), ("CAL_Cmd", m.calib.cmd_write),
                     ("EV_From", m.journal.sel_write)):
        assert _owner(regs, TABLE[name], 1) == fn, name
    assert _owner(regs, TABLE["CAL_Pass"], 2) == m.calib.cmd_write  # one FC16 may carry both
    assert _owner(regs, TABLE["dATE"], 4) == lg.clock_write
    assert _owner(regs, TABLE["tinE"] + 2, 1) != lg.clock_write
    # INFO as the meter publishes it: Ver, Ver_D uint32 high word first
    from firmware import version

    img = regs.image
    for name, v in (("Ver", version.VERSION), ("Ver_D", version.DATE)):
        a = 2 * TABLE[name]
        assert int.from_bytes(img[a:a + 4], "big") == v, name
