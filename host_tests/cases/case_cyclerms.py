# SPDX-License-Identifier: MIT
# The one-cycle RMS refreshed every half cycle (firmware/cyclerms.py, fed by Sampler.feed) against the formula:
# a steady signal's DC-free mean square over any whole cycle is sum(A_h^2) / 2 (reduced codes); the same samples
# fed in any block sizes give the same ring entries, bit for bit, and leave the kernel's window sums as they are
# without it; 2LL's Uca with the channel gains; a step's residual; the feed heap-locked.
import math
from array import array

import micropython

from firmware.bufs import copy8
from firmware.cyclerms import C_BAD, C_COUNT, C_HEAD, C_LOST, C_RING, C_STEP0, RING, UNIT, V_OFF, CycleRms
from firmware.kernel import D_CYC, D_ISH, D_N, D_READY, D_SIZE
from firmware.sampler import Sampler

FS = 8000


def _sig(k0, n, f, pick, cur=0):
    """n samples from index k0; pick(k): per voltage channel (amplitude, phase deg, 3rd harmonic amplitude, dc)
    at sample k, in reduced codes (x 256: the 24-bit codes the ADC gives); cur: Ia's amplitude (24-bit codes)."""
    b = array("i", [0] * (8 * n))
    w = 2 * math.pi * f / FS
    for k in range(n):
        t = (k0 + k) * w
        chans = pick(k0 + k)
        for c in range(len(chans)):
            a, ph, a3, dc = chans[c]
            x = a * math.sin(t + math.radians(ph)) + a3 * math.sin(3 * (t + math.radians(ph))) + dc
            b[8 * k + c] = int(round(256 * x))
        b[8 * k + 3] = int(cur * math.sin(t - 0.5))
        b[8 * k + 7] = 2500
    return b


def _steady(chans):
    return lambda k: chans


class _Windows:
    # every closed window's done buffer, copied allocation-free (feed runs heap-locked)
    def __init__(self):
        self.a = array("i", bytes(4 * D_SIZE * 64))
        self.n = 0

    def take(self, sm):
        copy8(self.a, 4 * D_SIZE * self.n, sm.done, 0, 4 * D_SIZE)
        self.n += 1
        sm.done[D_READY] = 0

    def list(self):
        return [list(self.a[D_SIZE * k:D_SIZE * (k + 1)]) for k in range(self.n)]


def _play(f, pick, seconds, sizes, syss=0, gains=(1.0, 1.0), ishift=8, cur=0):
    """Feeds a sampler with a CycleRms the signal in blocks cycling through `sizes`, heap-locked; returns (ring
    entries (ms a, ms b, ms c, samples), window records, sampler)."""
    cyc = CycleRms()
    cyc.configure(syss, gains[0] ** 2, gains[1] ** 2, 2 * gains[0] * gains[1])
    s = Sampler(cycle=cyc)
    s.configure(syss, ishift)
    rec = _Windows()
    s.on_window = rec.take
    cs = cyc.cs
    got = []
    k0 = 0
    z = 0
    total = int(seconds * FS)
    while k0 < total:
        n = min(sizes[z % len(sizes)], total - k0)
        z += 1
        b = _sig(k0, n, f, pick, cur)
        micropython.heap_lock()
        try:
            s.feed(b, n)
        finally:
            micropython.heap_unlock()
        k0 += n
        c = cs[C_COUNT]
        for j in range(c):
            e = C_RING + 4 * ((cs[C_HEAD] - c + j) & (RING - 1))
            got.append((cs[e], cs[e + 1], cs[e + 2], cs[e + 3]))
        cs[C_COUNT] = 0
        assert cs[C_LOST] == 0
    return got, rec.list(), s


def _near(x, want, tol):
    return abs(x - want) <= tol * want


def test_steady_signal_reads_its_mean_square_every_half_cycle():
    # 49.8 Hz (160.64 samples a cycle), unequal phases, DC offsets and a 3rd harmonic; the NCO follows the
    # measured frequency from the second window on, so entries from 0.5 s on are compared
    chans = ((9000.0, 0.0, 600.0, 40.0), (7000.0, -120.0, 0.0, -25.0), (11000.0, 120.0, 1500.0, 0.0))
    got, wins, s = _play(49.8, _steady(chans), 1.2, (80,))
    half = FS / 49.8 / 2
    k = 0
    n = 0
    for e in got:
        n += e[3]
        if n < FS // 2:
            continue
        k += 1
        assert abs(e[3] - half) < 1, e  # 80 or 81 samples: the half cycle at the NCO
        for c in range(3):
            a, ph, a3, dc = chans[c]
            want = (a * a + a3 * a3) / 2 / UNIT  # DC removed; quantization adds 1/12 code^2
            assert _near(e[c], want, 2e-4), (c, e[c], want)
    assert k > 60, k  # two entries a cycle


def test_any_block_sizes_give_the_same_entries_and_windows():
    chans = ((9000.0, 10.0, 0.0, 0.0), (8000.0, -110.0, 900.0, 300.0), (8500.0, 130.0, 0.0, -90.0))
    ref, wref, _ = _play(50.3, _steady(chans), 1.0, (400,))
    for sizes in ((80,), (1, 7, 137, 250, 33), (1000,)):
        got, w, _ = _play(50.3, _steady(chans), 1.0, sizes)
        assert got == ref, sizes
        assert w == wref, sizes
    # and the kernel's window sums are those of a sampler without the one-cycle RMS
    s = Sampler()
    rec = _Windows()
    s.on_window = rec.take
    for k0 in range(0, FS, 400):
        s.feed(_sig(k0, 400, 50.3, _steady(chans)), 400)
    assert rec.list() == wref and rec.n >= 4
    assert sum(e[3] for e in ref) <= FS and len(ref) >= 95
    # a current beyond the window's fine range stops the span inside the half cycle (the kernel widens the range
    # for it: no window closes there): the voltages' entries stay the same
    for sizes in ((80,), (1, 7, 137, 250, 33)):
        got, w, s = _play(50.3, _steady(chans), 1.0, sizes, ishift=2, cur=1 << 21)
        assert got == ref, sizes
        assert min(x[D_ISH] for x in w) > 2  # every window widened from shift 2


def test_2ll_line_voltages_with_gains():
    # channel a carries Uab, channel c Ucb; Uca = gc Ucb - ga Uab in phasors: |.|^2 / 2 with the gains
    ga, gc = 1.02, 0.97
    chans = ((10000.0, 30.0, 0.0, 20.0), (0.0, 0.0, 0.0, 0.0), (9000.0, 90.0, 0.0, -30.0))
    got, _, _ = _play(50.0, _steady(chans), 0.8, (80,), syss=1, gains=(ga, gc))
    ra = ga * chans[0][0]
    rc = gc * chans[2][0]
    d = math.radians(chans[2][1] - chans[0][1])
    uca = (ra * ra + rc * rc - 2 * ra * rc * math.cos(d)) / 2 / UNIT
    for e in got[-40:]:
        assert _near(e[0], chans[0][0] ** 2 / 2 / UNIT, 2e-4), e
        assert _near(e[1], chans[2][0] ** 2 / 2 / UNIT, 2e-4), e
        assert _near(e[2], uca, 3e-4), (e, uca)


def test_a_step_reads_its_new_level_once_a_whole_cycle_follows_it():
    a1 = ((9000.0, 0.0, 0.0, 0.0), (9000.0, -120.0, 0.0, 0.0), (9000.0, 120.0, 0.0, 0.0))
    a2 = ((9000.0, 0.0, 0.0, 0.0), (6300.0, -120.0, 0.0, 0.0), (9000.0, 120.0, 0.0, 0.0))  # B to 70 %
    at = 4813  # not on a boundary
    got, _, _ = _play(50.0, lambda k: a1 if k < at else a2, 1.0, (80,))
    hi = 9000.0 ** 2 / 2 / UNIT
    lo = 6300.0 ** 2 / 2 / UNIT
    end = 80  # the first entry's cycle began at the second boundary after the reset: sample 80 at 50 Hz
    prev = 0
    seen = 0
    for e in got:
        start = end - prev
        end += e[3]
        prev = e[3]
        if end <= at:
            assert _near(e[1], hi, 2e-4), e
        elif start >= at:
            assert _near(e[1], lo, 2e-4), e
            seen += 1
        else:
            assert lo * (1 - 2e-4) < e[1] < hi * (1 + 2e-4), e  # the cycles that hold the step: in between
        assert _near(e[0], hi, 2e-4) and _near(e[2], hi, 2e-4)
    assert seen > 30, seen


def test_windows_off_the_line_frequency_are_judged():
    # Every close judges the window: off frequency when the NCO that cut its half cycles ran more than 1/16 off
    # the line (then its one-cycle RMS is not the line's: a 60 -> 50 Hz step swings it 88-107 %), or when it was
    # not synchronised and nothing has confirmed the NCO since a reset. The truth: the line's frequency as played
    # against the step the window ran at (C_STEP0), for the windows that lie wholly at one frequency.
    cyc = CycleRms()
    s = Sampler(cycle=cyc)
    s.configure(0)
    cs = cyc.cs
    log = array("i", bytes(4 * 5 * 64))  # per close: first sample, last sample (bounds), NCO step, synchronised,
    pos = array("i", [0, 0])  # verdict; the block's end sample, closes seen (heap-locked: no tuples)

    def close(sm):
        o = 5 * pos[1]
        log[o] = pos[0] - 400 - sm.done[D_N]  # the close lies somewhere in the block: bounds that hold
        log[o + 1] = pos[0]
        log[o + 2] = cs[C_STEP0]
        log[o + 3] = 1 if sm.done[D_CYC] > 0 else 0
        log[o + 4] = cs[C_BAD] & 1
        pos[1] += 1
        sm.done[D_READY] = 0

    s.on_window = close
    plan = [(60.0, 16000), (50.0, 16000), (50.0, 0), (60.0, 16000)]  # (Hz, samples); 0: a gap (Sampler.reset)
    ph = 0.0
    freq_at = []  # (first sample, Hz)
    for f, n in plan:
        if n == 0:
            s.reset()
            freq_at.append((pos[0], -1.0))  # the NCO restarts at 50 Hz: unconfirmed
            continue
        freq_at.append((pos[0], f))
        w = 2 * math.pi * f / FS
        for k0 in range(0, n, 400):
            b = array("i", [0] * (8 * 400))
            for k in range(400):
                for c in range(3):
                    b[8 * k + c] = int(round(256 * 9000.0 * math.sin(ph + w * k - 2.0944 * c)))
                b[8 * k + 7] = 2500
            ph = (ph + w * 400) % (2 * math.pi)
            pos[0] += 400
            micropython.heap_lock()
            try:
                s.feed(b, 400)
            finally:
                micropython.heap_unlock()
    seen = [tuple(log[5 * k:5 * k + 5]) for k in range(pos[1])]
    judged = 0
    for a, b, step, sync, bad in seen:
        fs = [f for at, f in freq_at if at <= a]
        inside = [f for at, f in freq_at if a < at <= b]
        if not fs or inside:
            continue  # the window holds a change (or began before the first block): no single truth
        f = fs[-1]
        if f < 0 or not sync:
            continue  # judged below
        line = f * 2 ** 32 / FS
        judged += 1
        assert bad == (abs(step - line) > line / 2 ** V_OFF), (a, b, step, line, bad)
    assert judged > 20, judged
    # after the step, and after the gap on a 60 Hz line: off-frequency windows, then none from the third close on
    changes = (16000, 32000, pos[0])
    for i in range(2):
        after = [x for x in seen if changes[i] < x[1] <= changes[i + 1]]
        assert any(x[4] for x in after[:3]) and len(after) > 6, (changes[i], after)
        assert not any(x[4] for x in after[3:]), (changes[i], after)
    # the unsynchronised window right after the gap is off frequency (the NCO not confirmed since)
    assert [x[4] for x in seen if x[1] > 32000 and not x[3]][:1] == [1]
