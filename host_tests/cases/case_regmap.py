# SPDX-License-Identifier: MIT
# Register map consistency: addresses unique and contiguous, defaults inside their own ranges.
from firmware import regmap


def test_measurement_addresses_contiguous():
    assert regmap.N_MEAS == len(regmap.MEASUREMENTS)
    assert regmap.MEAS_END == regmap.MEAS_BASE + 2 * regmap.N_MEAS
    names = [m[0] for m in regmap.MEASUREMENTS]
    assert len(set(names)) == len(names)
    assert regmap.slot("Ua") == 0 and regmap.slot("F") == 25 and regmap.slot("UNB_I") == 39
    assert regmap.slot("AO") == 40 and regmap.slot("Phi") == 44 and regmap.slot("THD_Uca") == regmap.N_MEAS - 1 == 47


def test_config_defaults_valid():
    assert regmap.N_CONFIG == len(regmap.CONFIG)
    for k in range(len(regmap.CONFIG)):
        assert regmap.valid(k, regmap.CONFIG[k][1]), regmap.CONFIG[k][0]


def test_config_ranges_refuse():
    k = regmap.config_index("Un")
    assert not regmap.valid(k, 230) and regmap.valid(k, 400)
    k = regmap.config_index("Adr")
    assert not regmap.valid(k, 0) and not regmap.valid(k, 248) and regmap.valid(k, 247)


def test_blocks_do_not_overlap():
    spans = [(regmap.CONFIG_BASE, regmap.CONFIG_BASE + regmap.N_CONFIG), (regmap.MEAS_BASE, regmap.BLOCK_END)]
    for name, base, typ, access, rows in regmap.BLOCKS:
        spans.append((base, base + regmap.SIZES[typ] * len(rows)))
    spans.sort()
    for k in range(1, len(spans)):
        assert spans[k - 1][1] <= spans[k][0], spans
    assert regmap.block_end() >= regmap.BLOCK_END


def test_lazy_blocks_behave_like_tuples():
    # the regular blocks are made row by row on demand (firmware/rows.py): the same rows a tuple would hold
    rows = regmap.HARMONICS
    assert len(rows) == 180 and rows[0][0] == "HR_Ua_2" and rows[-1][0] == "HR_Ic_31" and rows[179] == rows[-1]
    assert tuple(r[0] for r in rows[28:31]) == ("HR_Ua_30", "HR_Ua_31", "HR_Ub_2")
    assert [r[0] for r in regmap.ENERGY][-4:] == ["RTime", "LTime", "ES", "AH"] and len(list(regmap.MAXMIN_T)) == 104
    assert [r[0] for r in regmap.DEMAND][5:7] == ["Dmd_Ic", "MaxDmd_P"] and regmap.DEMAND[12][0] == "Dmd_P_imp"
    try:
        rows[180]
        raise AssertionError("no IndexError")
    except IndexError:
        pass


def test_find_by_name_in_every_lazy_block():
    for name, base, typ, access, rows in regmap.BLOCKS:
        if not isinstance(rows, regmap.Rows):
            continue
        for k in range(len(rows)):
            assert rows.find(rows[k][0]) == k, (name, k)
        for bad in ("", "X", "HR_", "HR_Ux_2", "HR_Ua_1", "HR_Ua_32", "HR_Ua_x", "Ua_max_X", "MaxDmd_", "Dmd_X",
                    "_max", "_D", "MaxDmd_P_X", "Ua"):
            assert rows.find(bad) == -1, (name, bad)
    got = regmap.locate({"Dmd_P", "EPa_exp", "HR_Ic_31", "Ua", "F_min_T"})
    assert got["Dmd_P"] == ("float32", 0x0400, 1, "W") and got["EPa_exp"][:2] == ("uint64", 0x0800 + 4 * 9)
    assert got["HR_Ic_31"][1] == 0x0200 + 2 * 179 and got["F_min_T"][1] == 0x0580 + 2 * 103 and "Ua" not in got


def test_names_kept_elsewhere_match_the_map():
    from firmware import energy, periods

    names = [r[0] for r in regmap.ENERGY]
    assert tuple(names[:20]) == energy.NAMES[:20] and tuple(names[20:44]) == periods.NAMES
    assert tuple(names[46:48]) == energy.NAMES[20:] == ("ES", "AH")  # after RTime, LTime
    from firmware import demand

    dq = [r[0][4:] for r in regmap.DEMAND if r[0].startswith("Dmd_")]
    assert tuple(dq) == demand.NAMES
