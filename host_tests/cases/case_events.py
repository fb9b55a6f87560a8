# SPDX-License-Identifier: MIT
# The event log: records kept across restarts in order, the oldest sector recycled, a cut at every
# byte of one append leaves the log intact (the torn record absent, the sequence contiguous).
from firmware import events as ev
from boards.sim import norflash
from firmware.events import EventLog
from statedir import fresh


def _fill(log, a, b):
    for s in range(a, b):
        log.log(ev.INPUT, s % 2, 20260101, s % 240000, float(s), s)  # noqa: G002  (EventLog.log, not logging)


def _seqs(log):
    return [log.get(k)[0] for k in range(log.kept)]


def test_newest_first_across_restarts_and_recycling():
    dev = norflash.Flash(ev.BLOCKS)
    log = EventLog(dev)
    assert log.kept == 0 and log.get(0) is None and log.last_kind() == 0
    _fill(log, 1, 11)
    log2 = EventLog(norflash.from_image(dev.image()))
    assert log2.total == 10 and _seqs(log2) == list(range(10, 0, -1))
    e = log2.get(3)
    assert e == (7, 20260101, 7, ev.INPUT, 1, 0, 7.0, 7)
    _fill(log2, 11, 1001)  # over 584 slots: the ring recycled its oldest sectors several times
    assert log2.total == 1000 and log2.kept == ev.KEEP and _seqs(log2) == list(range(1000, 1000 - ev.KEEP, -1))
    log3 = EventLog(norflash.from_image(log2.dev.image()))
    assert _seqs(log3) == _seqs(log2) and log3.get(0) == log2.get(0)


def test_cut_at_every_byte_of_an_append():
    dev = norflash.Flash(ev.BLOCKS)
    log = EventLog(dev)
    _fill(log, 1, 146)  # the sector is full: the next append erases the next one first (4,096 + 28 bytes)
    img = dev.image()
    n = 0
    for cut in list(range(40)) + list(range(40, 4200, 97)):
        d = norflash.from_image(img)
        log = EventLog(d)
        d.cut_after(cut)
        try:
            log.log(ev.SETTING, 3, 20260102, 10203, 5.0, 0, 1)
            done = True
        except norflash.PowerCut:
            done = False
        n += 1
        back = EventLog(norflash.from_image(d.image()))
        assert back.total in (145, 146) and (back.total == 146) >= done
        assert _seqs(back) == list(range(back.total, back.total - back.kept, -1))
        back.log(ev.POWER_UP, 0, 20260102, 10204)  # the log goes on after the cut, numbers contiguous
        again = EventLog(norflash.from_image(back.dev.image()))
        assert again.get(0)[0] == back.total and again.get(0)[3] == ev.POWER_UP
        assert _seqs(again) == list(range(again.total, again.total - again.kept, -1))
    assert n > 40


def test_ram_log_without_a_device():
    log = EventLog(None)
    _fill(log, 1, 200)
    assert log.kept == ev.KEEP and log.get(0)[0] == 199 and log.get(ev.KEEP - 1)[0] == 199 - ev.KEEP + 1


def test_journal_watch_allocates_nothing_when_nothing_changed():
    import micropython

    from firmware.meter import Meter

    m = Meter(None)
    m.service()
    micropython.heap_lock()
    try:
        m.journal.watch()  # every Meter.service() on the device: no garbage while nothing happens
    finally:
        micropython.heap_unlock()
    assert m.journal.log.get(0)[3] == ev.POWER_UP


def test_a_burst_of_settings_is_logged_over_service_calls():
    # a master writing many settings at once: each service() logs at most 8 of them (~1.4 ms each on the RP2040),
    # the next call the rest, in row order, each once
    from firmware import regmap
    from firmware.meter import Meter

    m = Meter(None)
    log = m.journal.log
    total = log.total
    names = ("BLt", "IST", "Pulse", "DM_P", "dIP", "SWEL", "Int", "HYSt", "Pt_U", "Ct_I")
    for name, v in zip(names, (5, 20, 1000, 30, 80, 120, 10, 5, 10, 20)):
        assert m.set(name, v, now=False)
    m.service()
    assert log.total == total + 8
    m.service()
    assert log.total == total + 10
    m.service()
    assert log.total == total + 10
    rows = [log.get(k)[4] for k in range(9, -1, -1)]
    assert rows == sorted(regmap.config_index(n) for n in names)
    assert [log.get(k)[3] for k in range(10)] == [ev.SETTING] * 10


def test_power_up_says_what_the_log_knows_of_the_power_down():
    # A new meter (store and log empty) says "first power-up"; after an orderly power-down, after a cut (the cut
    # logged before it), and with the log lost while the store kept its records ("not known"): each truthfully.
    import os

    from firmware.meter import Meter

    d = fresh("/tmp/kpm53_case_events_power_up")

    def boot():
        m = Meter(d)
        log = m.journal.log
        return m, [(log.get(k)[3], log.get(k)[7]) for k in range(log.kept)]  # (kind, aux), newest first

    def off(m, orderly):
        if orderly:
            m.power_down()
        m.store.dev.close()
        m.journal.log.dev.close()

    m, got = boot()
    assert got == [(ev.POWER_UP, ev.UP_NEW)], got
    off(m, True)
    m, got = boot()
    assert got[:2] == [(ev.POWER_UP, ev.UP_ORDERLY), (ev.POWER_DOWN, 0)], got
    off(m, False)  # a cut
    m, got = boot()
    assert got[:3] == [(ev.POWER_UP, ev.UP_CUT), (ev.POWER_CUT, 0), (ev.POWER_UP, ev.UP_ORDERLY)], got
    off(m, True)
    os.remove(d + "/events.bin")  # the log lost, the store kept
    m, got = boot()
    assert got == [(ev.POWER_UP, ev.UP_UNKNOWN)] and m.store.writes > 0, got
    off(m, True)
    assert Meter(None).journal.log.get(0)[7] == ev.UP_NEW  # a RAM meter starts new every time
