# SPDX-License-Identifier: MIT
# Cases for firmware/sampler.py: the viper kernel against a plain-Python reference of the same sums (exact
# integers, no word tricks), window lengths against the signal's frequency, and allocation-free feeding.
import math
from array import array

import micropython

from firmware import sampler
from firmware.sampler import D_CYC, D_FE, D_FS, D_N, D_READY, D_W, NP, Q15, Sampler
from signals import front_end

FS = 8000
CODE_U = 8388608 / 1000.0  # codes per volt (24-bit)
CODE_I = 8388608 / 25.0


def signal(n, f, u=(230.0, 230.0, 230.0), i=(5.0, 5.0, 5.0), phi=(30.0, 30.0, 30.0), h3=0.0, dc=0, t0=0.0,
           front=False):
    """Interleaved int32 codes: balanced-angle voltages (+ 3rd harmonic ratio h3), currents lagging phi degrees;
    front: through the front end (signals.front_end: metering divides its gain out), else the ideal sines."""
    out = array("i", bytes(32 * n))
    w = 2 * math.pi * f / FS
    g1, d1 = front_end(f) if front else (1.0, 0.0)
    g3, d3 = front_end(3 * f) if front else (1.0, 0.0)
    for k in range(n):
        t = k + t0
        for p in range(3):
            a = w * t - 2 * math.pi * p / 3
            x = math.sqrt(2) * u[p] * (g1 * math.sin(a + d1) + h3 * g3 * math.sin(3 * a + d3)) * CODE_U
            out[8 * k + p] = int(round(x)) + dc
            y = math.sqrt(2) * i[p] * g1 * math.sin(a + d1 - math.radians(phi[p])) * CODE_I
            out[8 * k + 3 + p] = int(round(y)) - dc
        out[8 * k + 6] = out[8 * k + 3] + out[8 * k + 4] + out[8 * k + 5]
        out[8 * k + 7] = 2500
    return out


def _clamp(v):
    return max(-32767, min(32767, v))


_LIN = (3, 4, 5, 6, 14, 15, 16, 23, 24, 25, 29, 30, 31)  # products linear in a current
_QUAD = (10, 11, 12, 13, 32)  # and quadratic


def _currents(blk, i, ish, derive):
    """ia ib ic in at shift ish (ib derived in 2LL2CT), and whether they and ia + ib + ic fit +-32767."""
    x = [(blk[8 * i + c] + (1 << (ish - 1))) >> ish for c in range(3, 7)]
    if derive:
        x[1] = -x[0] - x[2]
    return x, all(-32767 <= v <= 32767 for v in x + [x[0] + x[1] + x[2]])


def reference(blk, n, tab, ra=0, rb=-1, ish=8, derive=False):
    """The kernel's sums, written straight from the definitions with unbounded integers. Windows as tuples
    (weighted Q15 sums, N, fs, fe, cycles, plain sums, shift). Currents: below shift 8 a sample that does not fit
    16 bits moves its window to the narrowest wider shift that holds it, the sums so far divided by 2**d (x) or
    4**d (x * x), rounding down; at shift 8 the derived current and the vector sum are clamped."""
    wins = []
    sums = [0] * NP
    es = [0] * NP
    fs = 0
    ns = 0
    phase = 26843546 * 0
    step = 26843546
    cyc = 0
    target = 10
    armed = 0
    sync = 0
    prev = 0
    cur = ish
    filt = [0] * 7  # the band-pass's stages and its output
    for i in range(n):
        x = [(blk[8 * i + c] + 128) >> 8 for c in range(3)]
        xi, ok = _currents(blk, i, cur, derive)
        if not ok and cur < 8:
            w = cur + 1
            while w < 8 and not _currents(blk, i, w, derive)[1]:
                w += 1
            d = w - cur
            for k in _LIN:
                sums[k] >>= d
                es[k] >>= d
            for k in _QUAD:
                sums[k] >>= 2 * d
                es[k] >>= 2 * d
            cur = w
            xi = _currents(blk, i, cur, derive)[0]
        if derive:
            xi[1] = _clamp(xi[1])
        x += xi
        k = (phase >> 22) & 1023
        sn, cs = tab[k], tab[(k + 256) & 1023]

        def products(x):
            p = x[:7] + [v * v for v in x[:7]] + [x[0] * x[3], x[1] * x[4], x[2] * x[5]]
            p += [x[0] * x[1], x[1] * x[2], x[2] * x[0]] + [v * cs for v in x[:6]] + [v * sn for v in x[:6]]
            return p + [_clamp(x[3] + x[4] + x[5]) ** 2]

        p = products(x)
        phase = (phase + step) % (1 << 32)
        # the crossing is judged on the band-passed reference through the previous sample (firmware/refilter.py:
        # x << 10, two high-pass stages with shift 6, four low-pass stages with shift 4), then this sample goes in
        r = filt[6]
        ref = (x[ra] - (x[rb] if rb >= 0 else 0)) << 10
        for j in range(2):
            filt[j] += (ref - filt[j]) >> 6
            ref -= filt[j]
        for j in range(2, 6):
            filt[j] += (ref - filt[j]) >> 4
            ref = filt[j]
        filt[6] = ref
        close = 0
        fe = 0
        if armed:
            if r >= 0:
                armed = 0
                num, den = -prev, r - prev
                while den > 0xFFFF:
                    num, den = num >> 1, den >> 1
                fe = (num << 15) // den
                cyc += 1
                if sync:
                    close = 1 if cyc >= target else 0
                elif cyc >= 5:  # an unsynchronised window closes at its 5th crossing (the band-pass settled)
                    close = 2
        elif r < -150000:
            armed = 1
        prev = r
        if not close:
            fe = 0
            if sync and ns >= 2400:
                close = 3
            elif not sync and ns >= 1600:
                close = 4
        if close:
            wq = [(a << 15) - fs * b + fe * c for a, b, c in zip(sums, es, p)]
            wins.append((wq, ns, fs, fe, cyc if close == 1 else 0, sums, cur))
            if close == 1:
                step = (cyc << 47) // ((ns << 15) - fs + fe)
                target = 12 if ns * 11 < cyc * 1600 else 10
            elif close == 2:
                sync = 1
            elif close == 3:
                sync = 0
            nxt = ish
            while nxt < 8 and not _currents(blk, i, nxt, derive)[1]:
                nxt += 1
            if nxt != cur:  # the closing sample opens the new window at its shift
                cur = nxt
                xi = _currents(blk, i, cur, derive)[0]
                if derive:
                    xi[1] = _clamp(xi[1])
                p = products(x[:3] + xi)
            sums, es, fs, ns, cyc = [0] * NP, p, fe, 0, 0
        sums = [a + b for a, b in zip(sums, p)]
        ns += 1
    return wins


def _i64(buf, k):
    lo = buf[k] & 0xFFFFFFFF
    return lo + (buf[k + 1] << 32)


class _Collect:
    def __init__(self, s):
        self.s = s
        self.wins = []
        self.fn = self.take  # bound once: calling it under heap_lock allocates nothing

    def take(self, sampler):
        d = self.s.done
        self.wins.append(([_i64(d, D_W + 2 * k) for k in range(NP)], d[D_N], d[D_FS], d[D_FE], d[D_CYC]))
        d[D_READY] = 0


def _run(blk, n, size, syss=0, ish=8):
    s = Sampler()
    s.configure(syss, ish)
    s.reset()  # the shift applies from the next window: start afresh with it
    c = _Collect(s)
    s.on_window = c.fn
    for a in range(0, n, size):
        m = min(size, n - a)
        s.feed(memoryview(blk)[8 * a:8 * (a + m)], m)
    return s, c.wins


def _length(w):
    return w[1] + (w[3] - w[2]) / Q15


def test_kernel_matches_reference_bit_exact():
    n = 6000
    blk = signal(n, 49.8, u=(230.0, 180.0, 300.0), i=(5.0, 1.0, 9.0), phi=(30.0, -60.0, 170.0), h3=0.05, dc=3000)
    s, wins = _run(blk, n, 400)
    ref = reference(blk, n, s.table)
    assert len(wins) == len(ref) == 4, (len(wins), len(ref))
    for w, r in zip(wins, ref):
        assert w == r[:5], (w[1:], r[1:5])
    # sums beyond 32 bits and negative sums are both exercised (and more than 2**51 once weighted)
    assert max(ref[2][5]) > 1 << 36 and min(ref[2][5]) < -(1 << 33) and max(wins[2][0]) > 1 << 51


def test_full_scale_extremes_bit_exact():
    # clipped full-scale waves, opposite-sign products everywhere
    n = 4200
    top = 8388607
    blk = array("i", bytes(32 * n))
    for k in range(n):
        for c in range(7):
            x = int(3 * top * math.sin(2 * math.pi * (k - 3 * c) / 160))
            x = max(-top, min(top, x))
            blk[8 * k + c] = -x if c >= 3 else x
    s, wins = _run(blk, n, 400)
    ref = reference(blk, n, s.table)
    assert len(wins) == len(ref) == 3
    for w, r in zip(wins, ref):
        assert w == r[:5], (w[1:], r[1:5])
    assert max(ref[1][5]) > 1 << 40 and min(ref[1][5]) < -(1 << 40)


def test_line_voltage_reference_2ll():
    # 2LL wirings: terminal B is the common reference, channel a carries Uab: it is the zero-crossing reference
    n = 4400
    blk = signal(n, 49.8, u=(560.0, 560.0, 560.0), t0=7.0)
    s, wins = _run(blk, n, 400, syss=1)
    ref = reference(blk, n, s.table, 0, -1)
    assert [w[1:] for w in wins] == [r[1:5] for r in ref] and [w[0] for w in wins] == [r[0] for r in ref]
    assert wins[-1][4] == 10 and abs(_length(wins[-1]) - 10 * FS / 49.8) < 0.01


def test_2ll2ct_derives_ib_bit_exact():
    # 2LL2CT: no CT on phase B; the kernel sums ib = -(ia + ic) whatever the Ib channel carries
    n = 4400
    blk = signal(n, 50.3, i=(4.0, 1.0, 3.0), phi=(30.0, 0.0, -10.0), t0=3.0)
    s, wins = _run(blk, n, 400, syss=2)
    ref = reference(blk, n, s.table, 0, -1, derive=True)
    assert len(wins) == len(ref) == 3
    for w, r in zip(wins, ref):
        assert w == r[:5], (w[1:], r[1:5])
    plain = reference(blk, n, s.table, 0, -1)
    assert ref[1][0][4] != plain[1][0][4]  # the derivation really changed the Ib sums


def test_current_range_for_1a_meters_bit_exact():
    # shift 6: 2**15 codes = 6.25 A peak; 5 A rms (7.07 A peak) on phase c does not fit it: each window widens
    # to shift 7 at the first sample beyond 32767 codes, and every current reads true (none is clipped)
    n = 4400
    blk = signal(n, 49.8, i=(1.0, 0.01, 5.0), phi=(30.0, 60.0, -20.0), t0=2.0)
    s, wins = _run(blk, n, 400, ish=6)
    ref = reference(blk, n, s.table, ish=6)
    assert len(wins) == len(ref) == 3
    for w, r in zip(wins, ref):
        assert w == r[:5], (w[1:], r[1:5])
    assert [r[6] for r in ref] == [7, 7, 7] and s.done[sampler.D_ISH] == 7
    for k, rms in ((3, 1.0), (5, 5.0)):  # Ia, Ic
        amp = math.sqrt(2) * rms * CODE_I / 128
        ms = ref[1][0][7 + k] / Q15 / _length(wins[1])
        assert abs(ms / (amp * amp / 2) - 1) < 5e-5, (k, ms / (amp * amp / 2))


def test_a_load_step_widens_the_range_and_loses_nothing():
    # 20 mA at the finest shift (2: 0.39 A peak full scale), then 6 A from the middle of a window: the window
    # widens at the step's first big sample; its current and power sums equal those of the same signal fed at
    # shift 8 from the start (within the rounding of the rescale: the bits below the new resolution)
    n = 4400
    lo = signal(n, 50.0, i=(0.02, 0.02, 0.02), phi=(30.0, 30.0, 30.0))
    hi = signal(n, 50.0, i=(6.0, 6.0, 6.0), phi=(30.0, 30.0, 30.0))
    blk = array("i", lo)
    for k in range(8 * 2500, 8 * n):
        blk[k] = hi[k]
    s, wins = _run(blk, n, 80, ish=2)
    ref = reference(blk, n, s.table, ish=2)
    assert [w[:5] for w in wins] == [r[:5] for r in ref]
    step = next(k for k, r in enumerate(ref) if r[6] > 2)  # the window in which the step came
    w = ref[step][6]
    assert w == 7 and ref[step - 1][6] == 2  # 8.5 A peak needs shift 7 (12.5 A peak); before it the finest
    fixed = reference(blk, n, s.table, ish=w)  # the same window summed at shift 7 from its start
    got, exact = ref[step][0], fixed[step][0]
    # they differ only in the 20 mA part before the step, rounded per sample at shift 7 in `fixed`, at shift 2
    # then divided by 32 in the widened window: a few parts in a million of the window's sums
    for k in (3, 10, 11, 12, 14, 15, 16):  # ia, ia * ia .. ic * ic, ua * ia .. uc * ic
        assert abs(got[k] - exact[k]) <= abs(exact[k]) * 1e-5 + 2 ** 20, (k, got[k], exact[k])
    # Ia really is 6 A in it (22,250 codes peak at shift 7 after the step; clamped at 32767 codes of shift 2, the
    # window's sum would be over 500 times smaller)
    after = sum(r[1] for r in ref[:step + 1]) - 2500  # the window's samples from the step on
    mean_sq = (math.sqrt(2) * 6.0 * CODE_I / 128) ** 2 / 2
    # (5 % allows for a partial cycle at the window's end)
    assert abs(got[10] / Q15 / (after * mean_sq) - 1) < 0.05, (after, got[10] / Q15 / (after * mean_sq))


def test_block_size_does_not_matter():
    n = 4400
    blk = signal(n, 61.3, h3=0.1)
    a = _run(blk, n, 400)[1]
    b = _run(blk, n, 137)[1]
    c = _run(blk, n, n)[1]
    assert a == b == c and len(a) == 3, len(a)


def test_windows_follow_zero_crossings_4980():
    blk = signal(5200, 49.8, t0=37.3)
    wins = _run(blk, 5200, 400)[1]
    assert wins[0][4] == 0  # free-running start, closed at the first crossing
    for w in wins[1:]:
        assert w[4] == 10
        assert abs(_length(w) - 10 * FS / 49.8) < 0.01, _length(w)


def test_60hz_windows_have_12_cycles():
    f = 60.0
    blk = signal(6000, f)
    wins = _run(blk, 6000, 400)[1]
    assert [w[4] for w in wins[:4]] == [0, 10, 12, 12], [w[4] for w in wins]
    assert abs(_length(wins[3]) - 12 * FS / f) < 0.01


def test_weighted_sums_integrate_whole_cycles():
    # with the edge samples weighted, sum x^2 / length is the mean square to a few ppm at any phase
    f = 49.8
    blk = signal(4200, f, t0=11.77)
    s, wins = _run(blk, 4200, 400)
    w = wins[1]
    raw = reference(blk, 4200, s.table)[1][5]
    length = _length(w)
    for c, amp in ((0, math.sqrt(2) * 230 * CODE_U / 256), (4, math.sqrt(2) * 5 * CODE_I / 256)):
        k = 7 + c
        ms = amp * amp / 2
        assert abs(w[0][k] / Q15 / length / ms - 1) < 2e-5, w[0][k] / Q15 / length / ms
        assert abs(raw[k] / w[1] / ms - 1) > 5e-5  # unweighted: the error the edge weights remove


def test_no_voltage_gives_fixed_windows():
    blk = signal(3300, 50.0, u=(0.0, 0.0, 0.0))
    wins = _run(blk, 3300, 400)[1]
    assert [w[1:] for w in wins] == [(1600, 0, 0, 0), (1600, 0, 0, 0)]


def test_reference_falls_back_to_ub():
    blk = signal(6000, 50.0, u=(0.0, 230.0, 230.0))
    s, wins = _run(blk, 6000, 400)
    assert wins[0][1] == 1600 and wins[0][4] == 0  # Ua absent: free-running, then Ub is chosen
    assert wins[-1][4] == 10 and abs(_length(wins[-1]) - 1600) < 0.01


def test_sync_lost_and_regained():
    # 0.35 s of voltage, 0.6 s without (no crossing: one 300 ms window, then free-running 200 ms ones), voltage back
    a, b, c = 2800, 4800, 4800
    blk = signal(a, 50.0) + signal(b, 50.0, u=(0.0, 0.0, 0.0), i=(0.0, 0.0, 0.0)) + signal(c, 50.0, t0=40.0)
    wins = _run(blk, a + b + c, 400)[1]
    got = [(w[1], w[4]) for w in wins]
    # free-running until the 5th crossing (the band-pass settled), one synchronised window, sync lost, free-running
    assert got[0][0] < 1600 and got[0][1] == 0 and got[1:4] == [(1600, 10), (2400, 0), (1600, 0)], got
    # voltage back: free-running windows (the last closed at the 5th crossing after the return), then synced
    assert all(cy == 0 for _, cy in got[4:-2]) and got[-3][0] < 1600 and got[-2:] == [(1600, 10), (1600, 10)], got


def test_feed_allocates_nothing():
    blk = signal(2800, 50.0)
    s = Sampler()
    c = [0]

    def cb(sampler):
        c[0] += 1
        s.done[D_READY] = 0

    s.on_window = cb
    blocks = [blk[8 * a:8 * a + 3200] for a in range(0, 2800, 400)]
    closed = 0
    micropython.heap_lock()
    try:
        for b in blocks:
            closed += s.feed(b, 400)
    finally:
        micropython.heap_unlock()
    assert c[0] == closed == 2, (c[0], closed)


def test_tables_and_constants():
    s = Sampler()
    assert len(s.table) == 1024 and max(s.table) == 32767 and min(s.table) == -32767
    assert sampler.NP == 33 and s.done[D_READY] == 0


def test_full_scale_codes_are_flagged_per_channel():
    # 20 A rms on Ia (28.3 A peak) clips at the ADC's 25 A full scale: every window says so in D_SAT (bit 3), and
    # no other channel; 5 A everywhere says nothing
    from firmware.kernel import D_SAT

    n = 4000
    for amps, want in (((20.0, 5.0, 5.0), 8), ((5.0, 5.0, 5.0), 0)):
        blk = signal(n, 50.0, i=amps)
        for k in range(8 * n):
            blk[k] = max(-8388608, min(8388607, blk[k]))
        s = Sampler()
        s.configure(0, 8)
        seen = []
        for a in range(0, n, 80):
            if s.feed(blk[8 * a:8 * (a + 80)], 80):
                seen.append(s.done[D_SAT])
        assert len(seen) >= 2 and all(b == want for b in seen[1:]), (amps, seen)
