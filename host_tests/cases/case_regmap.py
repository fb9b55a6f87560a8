# Register map consistency: addresses unique and contiguous, defaults inside their own ranges.
from firmware import regmap


def test_measurement_addresses_contiguous():
    assert regmap.N_MEAS == len(regmap.MEASUREMENTS)
    assert regmap.MEAS_END == regmap.MEAS_BASE + 2 * regmap.N_MEAS
    names = [m[0] for m in regmap.MEASUREMENTS]
    assert len(set(names)) == len(names)
    assert regmap.slot("Ua") == 0 and regmap.slot("F") == 25 and regmap.slot("UNB_I") == 39
    assert regmap.slot("AO") == regmap.N_MEAS - 1 == 40


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
