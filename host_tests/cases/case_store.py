# SPDX-License-Identifier: MIT
# Store on the simulated NOR flash: records survive restarts, and a power cut at any byte of a save's programs and
# erases never leaves a corrupt or older-than-last-good state. sweep() is shared with the full run (make faults).
from firmware.config import Config
from boards.sim.norflash import Flash, PowerCut, from_image
from firmware.store import Store
from statedir import fresh

BLOCKS = 4  # a small ring: every scenario below reaches a rotation with live records to copy
SIZES = {"config": 32, "energy": 200, "periods": 240, "maxmin": 600}


_RECS = {}


def _rec(name, v):
    # a record whose first 4 bytes are a counter (energy: the register that must never go backwards)
    key = (name, v)
    if key not in _RECS:
        _RECS[key] = _make(name, v)
    return _RECS[key]


def _make(name, v):
    b = bytearray(SIZES[name])
    for i in range(4):
        b[i] = (v >> (8 * i)) & 0xFF
    for i in range(4, len(b)):
        b[i] = (v * 7 + i * 13 + len(name)) & 0xFF
    return bytes(b)


def _count(b):
    return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)


def _seeded(align=1):
    f = Flash(BLOCKS, align=align)
    s = Store(f)
    cur = {}
    for name in ("config", "maxmin", "periods", "energy"):
        cur[name] = 1
        s.save(name, _rec(name, 1))
    return f, s, cur


def scenario(kind, rotate, align=1):
    """Flash image and current counters just before a save of `kind`: rotate=False appends into room in the
    head sector; rotate=True is a save that must open a new sector, copy live records and erase the oldest."""
    f, s, cur = _seeded(align)
    t = 8 + len(kind) + SIZES[kind] + 4
    for _ in range(400):
        h = s.sectors[s.head]
        full = not s.fits(t)
        if rotate and full and s._live_in((s.head + 2) % s.n):
            return f.image(), cur
        if not rotate and not full and h[1] > 0:
            return f.image(), cur
        # fill with energy records; top the sector up with the saved kind when an energy record no longer fits
        filler = kind if not s.fits(8 + 6 + SIZES["energy"] + 4) and not full else "energy"
        cur[filler] += 1
        s.save(filler, _rec(filler, cur[filler]))
    raise AssertionError("scenario not reached")


def _check(s, cur, kind, allow):
    for name in cur:
        got = s.load(name)
        assert got is not None, name
        if name == kind:
            assert _count(got) in allow, (name, _count(got), allow)
            assert got == _rec(name, _count(got))  # intact, not a mix of two records
        else:
            assert got == _rec(name, cur[name]), name


def sweep(kind, rotate, step=1, align=1):
    """Cut the power after every step-th byte (step 1: every byte) of every program and erase of one save of kind,
    restart, check; at every 11th cut also save again and restart once more. Also cuts the restart's own repair at a few offsets.
    align 256: the store programs whole aligned pages padded with 0xFF (as on rp2). Returns (cuts tried, bytes in the save's operations, programs, erases)."""
    img, cur = scenario(kind, rotate, align)
    old = cur[kind]
    new = old + 1
    f = from_image(img, align=align)
    s = Store(f)
    f.op_bytes = 0
    p0 = f.programs
    s.save(kind, _rec(kind, new))
    total = f.op_bytes
    programs = f.programs - p0
    erases = f.erases
    cuts = 0
    ks = list(range(0, total, step))
    ks.append(total)
    for k in ks:
        f = from_image(img, align=align)
        s = Store(f)
        assert f.op_bytes == 0  # mounting a clean image writes nothing
        f.cut_after(k)
        try:
            s.save(kind, _rec(kind, new))
            assert k == total, "the save finished with power cut at byte %d of %d" % (k, total)
            after = f.image()
        except PowerCut:
            assert k < total
            after = f.image()
        cuts += 1
        r = from_image(after, align=align)
        s2 = Store(r)  # restart: mount repairs what the cut left
        _check(s2, cur, kind, (new,) if k == total else (old, new))
        assert r.overwrites == 0 and f.overwrites == 0
        if r.op_bytes and k % 61 == 0:
            # the repair itself cut at its first, middle and last byte: still old or new
            for c in (0, r.op_bytes // 2, r.op_bytes - 1):
                r2 = from_image(after, align=align)
                r2.cut_after(c)
                try:
                    Store(r2)
                except PowerCut:
                    pass
                _check(Store(from_image(r2.image(), align=align)), cur, kind, (old, new))
        if k % 11 == 0 or k == total:
            got = _count(s2.load(kind))
            s2.save(kind, _rec(kind, got + 1))  # the store keeps working after the cut
            c2 = dict(cur)
            c2[kind] = got + 1
            _check(Store(from_image(r.image(), align=align)), c2, kind, (got + 1,))
    return cuts, total, programs, erases


def test_save_load_restart_and_rotation():
    f = Flash(BLOCKS)
    s = Store(f)
    assert s.load("config") is None and s.writes == 0
    for i in range(300):
        s.save("energy", _rec("energy", i))
        if i % 25 == 0:
            s.save("config", _rec("config", i))
    r = Store(from_image(f.image()))
    assert r.load("energy") == _rec("energy", 299) and r.load("config") == _rec("config", 275)
    assert f.erases > BLOCKS and f.overwrites == 0  # the ring went round more than once, never in place
    assert r.writes == s.writes and s.writes >= 300 + 12  # persisted: the sequence number counts every record
    w = s.writes
    s.save("energy", _rec("energy", 299))  # identical data: no write, no wear
    assert s.writes == w


def test_store_file_backed_survives_restart():
    d = fresh("/tmp/kpm53_case_store_flash")
    s = Store(d)
    s.save("cfg", b"one")
    s.save("cfg", b"two")
    s.dev.close()
    assert Store(d).load("cfg") == b"two" and Store(d).writes == 2


def test_config_roundtrip_on_flash():
    f = Flash(BLOCKS)
    cfg = Config(Store(f))
    assert cfg.set("Adr", 17) and cfg.set("Ct_I", 400)
    cfg.save()
    again = Config(Store(from_image(f.image())))
    assert again.get("Adr") == 17 and again.get("Ct_I") == 400 and again.get("Un") == 220


def test_torn_record_is_skipped_and_sector_abandoned():
    f = Flash(BLOCKS)
    s = Store(f)
    s.save("config", b"A" * 32)
    f.cut_after(20)  # the second record lands 20 bytes, then the supply fails
    try:
        s.save("config", b"B" * 32)
        assert False
    except PowerCut:
        pass
    r = from_image(f.image())
    s2 = Store(r)
    assert s2.load("config") == b"A" * 32
    s2.save("config", b"C" * 32)  # never written after the torn bytes: a new sector
    assert s2.head != 0 and Store(from_image(r.image())).load("config") == b"C" * 32


def test_every_byte_config_append():
    cuts, total, p, e = sweep("config", False)
    assert cuts == total + 1 and e == 0


def test_every_byte_energy_append():
    cuts, total, p, e = sweep("energy", False)
    assert cuts == total + 1 and total == 8 + 6 + 200 + 4


def test_power_fail_save_uses_the_reserve_without_erasing():
    img, cur = scenario("energy", True)  # the next ordinary energy save would rotate (and erase)
    f = from_image(img)
    s = Store(f)
    w = s.writes
    s.power_fail()
    s.save("energy", _rec("energy", cur["energy"] + 1))
    s.save("config", _rec("config", cur["config"] + 1))
    assert f.erases == 0 and s.writes == w + 2 and f.programs <= 4  # two records (pages), no erase: fast
    r = Store(from_image(f.image()))
    assert _count(r.load("energy")) == cur["energy"] + 1 and _count(r.load("config")) == cur["config"] + 1


def test_page_aligned_programs_sample():
    # rp2.Flash programs whole 256-byte pages: the store pads with 0xFF; every 5th byte of an append, every 53rd
    # of a rotation (the full sweep: host_tests/test_store_faults.py)
    assert sweep("energy", False, 5, 256)[1] == 512  # the 218-byte record spans two pages
    assert sweep("config", True, 53, 256)[3] == 1


def test_rotation_sample_every_37th_byte():
    # the full every-byte sweep of rotating saves is host_tests/test_store_faults.py (and make faults)
    cuts, total, p, e = sweep("energy", True, 37)
    assert e == 1 and total > 4096 and cuts >= total // 37


def test_meter_publishes_writes_register_and_saves_at_power_down():
    from firmware.meter import Meter

    d = fresh("/tmp/kpm53_case_store_meter")
    m = Meter(d)
    w0 = m.store.writes
    assert m.set("Ct_I", 40)  # a setting change is saved: one more record
    img = m.regs.image
    reg = 2 * 0x0044  # INFO Writes, uint32 high word first
    w = (img[reg] << 24) | (img[reg + 1] << 16) | (img[reg + 2] << 8) | img[reg + 3]
    assert w == m.store.writes == w0 + 1
    m.power_down()  # the early save: energy and the other records, from the reserve (no erase)
    assert m.store.failing and m.store.erases == 0
    again = Meter(d)
    assert again.config.get("Ct_I") == 40 and again.store.writes == m.store.writes
    m.store.dev.close()
    again.store.dev.close()


def test_power_down_with_every_record_changed_never_erases():
    # The worst power-down: every record the meter keeps has changed since its last save, and ordinary saves have
    # left the head sector with as little room as they may (the reserve, plus less than one more record). All of
    # them go into the reserve: no sector erase while the supply fails (an erase takes 45 ms or more).
    from firmware import store
    from firmware.meter import Meter

    d = fresh("/tmp/kpm53_case_store_worst")
    m = Meter(d)
    st = m.store
    k = 0
    fill = bytearray(200)
    while st.fits(8 + 4 + len(fill) + 4):  # the record format: 8-byte header, name "fill", data, CRC-32
        fill[0] = k & 0xFF
        fill[1] = k >> 8
        st.save("fill", fill)  # ordinary saves, as a year of them would leave the head sector
        k += 1
    e0 = st.erases
    seq0 = st.seq
    for part in (m.config, m.maxmin, m.demand, m.iolog):
        part.dirty = True
    m.power_down()
    wrote = [name for name in st.index if st.index[name][0] >= seq0]
    size = sum(st.index[name][3] for name in wrote)
    assert sorted(wrote) == [b"config", b"demand", b"di", b"energy", b"maxmin", b"periods"], wrote
    assert size <= store.RESERVE, (size, store.RESERVE)
    assert st.erases == e0
    again = Meter(d)
    assert again.store.index[b"maxmin"][0] == st.index[b"maxmin"][0]  # the last record saved is readable
    m.store.dev.close()
    again.store.dev.close()
