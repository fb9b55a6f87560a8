# SPDX-License-Identifier: MIT
# Wear of the save policy on the store's flash: a simulated day of saves at the policy's worst case and a typical
# one, counted erases per block, and the lifetime on 100k-cycle NOR flash (docs/storage.md quotes these figures).
from boards.sim.norflash import Flash, from_image
from firmware.store import SIM_BLOCKS, Store

CYCLES = 100000
# record sizes (bytes of data) as the firmware saves them; per day: how many saves
SIZES = {"config": 36, "calib": 88, "energy": 336, "periods": 388, "maxmin": 624, "demand": 144}
WORST = {"energy": 1440, "maxmin": 1440, "demand": 1440, "periods": 1}  # every record due every minute
TYPICAL = {"energy": 1440, "maxmin": 60, "demand": 12, "periods": 1}  # rated load; extremes rarely new


def day(per_day, blocks=SIM_BLOCKS, days=1):
    """(records written per day, erases per block per day at the most worn block)."""
    f = Flash(blocks)
    s = Store(f)
    for name, size in SIZES.items():
        s.save(name, bytes([1]) * size)
    events = []
    for name, n in per_day.items():
        events += [((k + 0.5) / n, name) for k in range(n)]
    events.sort()
    w0 = s.writes
    e0 = list(f.erase_counts)
    v = 2
    for _ in range(days):
        for _, name in events:
            v += 1
            b = bytearray(SIZES[name])
            b[0] = v & 0xFF
            b[1] = (v >> 8) & 0xFF
            s.save(name, b)
    worn = max(f.erase_counts[k] - e0[k] for k in range(blocks)) / days
    r = Store(from_image(f.image()))
    for name in SIZES:
        assert r.load(name) == s.load(name)
    return (s.writes - w0) / days, worn


def test_lifetime_at_least_20_years_worst_case():
    writes, worn = day(WORST)
    years = CYCLES / worn / 365
    print("worst case: %d records/day, %.1f erases/block/day, %.0f years" % (writes, worn, years))
    assert writes >= sum(WORST.values()) and years >= 20


def test_lifetime_typical():
    writes, worn = day(TYPICAL)
    years = CYCLES / worn / 365
    print("typical: %d records/day, %.1f erases/block/day, %.0f years" % (writes, worn, years))
    assert years >= 60
