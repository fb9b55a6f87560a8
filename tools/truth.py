# SPDX-License-Identifier: MIT
# Analytic truth of a scenario: what an ideal meter reads (no sampling, no board imperfections), primary side.
# Phasors are complex RMS values in the generator's sine reference: x(t) = sqrt(2)*Im(X*exp(j*h*w*t)).
# Notches have no short closed form: their periodic waveform is integrated numerically over one cycle (exact to
# ~1e-15 between its edges, tools/waveform.py); interharmonics add analytically (long-run values).
import cmath
import json
import math
import sys

from tools import scenario as scn
from tools import waveform as wf
from tools.truth_backends import Numeric, Spectral
from firmware import regmap
from firmware.metering_config import U_TH  # volts (secondary): below it a voltage reads 0

A = cmath.exp(2j * math.pi / 3)  # the 120-degree operator of the symmetrical components
HD_ORDERS = range(2, 32)  # orders reported in "hd" (the meter's harmonic range); more if the scenario has more


def _rect(rms, deg):
    return cmath.rect(rms, math.radians(deg))


def spectrum(s, name):
    """Secondary-side phasors {order: complex RMS} of channel `name` (Ua Ub Uc Ia Ib Ic In), orders with amplitude.

    Term of order h: ratio*X1 * sin(h*(w*t + theta1) + phi_h), theta1 the fundamental's phase angle, so the
    phasor of order h has the angle h*theta1 + phi_h.
    """
    s = scn.parse(s)
    if name == "In":
        total = {}
        for p in scn.PHASES:
            for h, x in spectrum(s, "I" + p).items():
                total[h] = total.get(h, 0j) + x
        return total
    kind, p = name[0], name[1]
    ph = s.phases[p]
    if kind == "U":
        x1, theta, harm = ph["voltage"], ph["voltage_angle"], ph["voltage_harmonics"]
    else:
        x1, theta, harm = ph["current"], ph["voltage_angle"] - ph["angle"], ph["current_harmonics"]
    out = {1: _rect(x1, theta)}
    for h, (ratio, phi) in harm.items():
        out[h] = _rect(ratio * x1, h * theta + phi)
    return out


def interharmonic_spectrum(s, name):
    """Secondary-side phasors {hz: complex RMS} of channel `name`'s interharmonics (terminal, like spectrum()):
    ratio x the fundamental's RMS, the phase at the scenario's start (t = 0): sqrt(2) Im(X exp(j 2 pi hz t))."""
    s = scn.parse(s)
    if name == "In":
        total = {}
        for p in scn.PHASES:
            for hz, x in interharmonic_spectrum(s, "I" + p).items():
                total[hz] = total.get(hz, 0j) + x
        return total
    return dict(wf.interharmonics(s.phases[name[1]], name[0]))


def dc(s, name):
    """Secondary-side DC component of channel `name` (terminal; In: the sum of the phase currents')."""
    s = scn.parse(s)
    if name == "In":
        return sum(dc(s, "I" + p) for p in scn.PHASES)
    return s.phases[name[1]]["voltage_dc" if name[0] == "U" else "current_dc"]


def _sub(x, y, sign=1.0):
    return {h: x.get(h, 0j) - sign * y.get(h, 0j) for h in set(x) | set(y)}


def _wired(s, name, terminal):
    """What channel `name` carries for the wiring, from terminal(s, channel) (phasor dicts or numbers)."""
    s = scn.parse(s)
    syss = s.settings["SYSS"]
    x = terminal(s, name)
    if syss == 0 or (name[0] == "I" and not (syss == 2 and name == "Ib")):
        return x
    if name == "Ib" or name == "Ub":
        return {} if isinstance(x, dict) else 0.0
    y = terminal(s, "Ub")
    return _sub(x, y) if isinstance(x, dict) else x - y


def channel_interharmonics(s, name):
    """{hz: complex RMS} that channel `name` carries for the wiring (as channel_spectrum)."""
    return _wired(s, name, interharmonic_spectrum)


def channel_dc(s, name):
    """The DC that channel `name` carries for the wiring (as channel_spectrum)."""
    return _wired(s, name, dc)


def channel_notches(s, name):
    """[(start in cycles of the scenario's fundamental, width s, signed height V)] on channel `name` for the
    wiring: a voltage channel's own phase's notches (three-wire: channel a carries ua - ub, so phase B's notches
    with the opposite sign), each start within [0, 1); nothing on current channels."""
    s = scn.parse(s)
    if name[0] != "U" or (name == "Ub" and s.settings["SYSS"]):
        return []
    parts = [(name[1], 1.0)] + ([("b", -1.0)] if s.settings["SYSS"] else [])
    return [(c0 % 1.0, w, sign * height) for p, sign in parts for c0, w, height in wf.notch_train(s.phases[p])]


def channel_spectrum(s, name):
    """Secondary-side phasors {order: complex RMS} that channel `name` carries for the scenario's wiring.

    3Ln3CT: the phase-to-neutral voltages and the three CTs. Three-wire (2LL3CT, 2LL2CT): terminal B is the
    common (reference) voltage terminal, so channel Ua carries Uab = ua - ub, Ub carries nothing, Uc carries
    Ucb = uc - ub; in 2LL2CT phase B has no CT (channel Ib carries nothing). In: the neutral CT, i_a + i_b + i_c.
    """
    s = scn.parse(s)
    syss = s.settings["SYSS"]
    if syss == 0 or (name[0] == "I" and not (syss == 2 and name == "Ib")):
        return spectrum(s, name)
    if name == "Ib" or name == "Ub":
        return {}
    return _sub(spectrum(s, name), spectrum(s, "Ub"))


def phasors(s, order=1):
    """Secondary-side complex RMS phasors of order `order` for Ua Ub Uc Ia Ib Ic In (0 where absent)."""
    return {ch: spectrum(s, ch).get(order, 0j) for ch in scn.CHANNELS}


def _rms(spec):
    return math.sqrt(sum(abs(x) ** 2 for x in spec.values()))


def _sequences(xa, xb, xc):
    zero = (xa + xb + xc) / 3
    pos = (xa + A * xb + A * A * xc) / 3
    neg = (xa + A * A * xb + A * xc) / 3
    return abs(pos), abs(neg), abs(zero)


def unbalance(pos, neg):
    """Negative-sequence share in %: 100 |X2| / |X1| (IEC 61000-4-30 u2) up to 100, where the negative sequence is
    at least as large as the positive one (a reversed rotation is 100 %, never 0); 0 without a system."""
    if neg <= 0:
        return 0.0
    return 100.0 if neg >= pos else 100.0 * neg / pos


def sequence(pos, neg):
    """Phase sequence of a three-phase set from its symmetrical components: 1 a-b-c (positive dominates),
    2 a-c-b (reversed: negative dominates), 0 undetermined (no system, or both equal within 1e-9)."""
    if max(pos, neg) <= 0 or abs(pos - neg) <= 1e-9 * max(pos, neg):
        return 0
    return 1 if pos > neg else 2


def frequency_at(s, t):
    """Line frequency t seconds after the scenario started (frequency_drift is linear)."""
    s = scn.parse(s)
    return s.frequency + s.frequency_drift * t


def neutral_and_averages(s, be, ct, out):
    """I_N (the vector sum of the phase currents: 0 in three-wire modes), I_N_m (what a CT on the neutral
    measures), U_avg, UL_avg, I_avg and T into out, after powers() filled the rms values."""
    ist = s.settings["IST"] / 1000.0
    n = math.sqrt(be.ms(be.sig("In")))
    out["I_N"] = n * ct if n >= ist and s.settings["SYSS"] == 0 else 0.0
    out["I_N_m"] = n * ct if n >= ist else 0.0
    out["U_avg"] = (out["Ua"] + out["Ub"] + out["Uc"]) / 3
    out["UL_avg"] = (out["Uab"] + out["Ubc"] + out["Uca"]) / 3
    out["I_avg"] = (out["Ia"] + out["Ib"] + out["Ic"]) / 3
    out["T"] = float(s.temperature)


def powers(s, be, pt, ct, out):
    """U I P Q S PF per phase and total as the meter defines them for the wiring (docs/metering.md), with the
    starting current IST (a phase below it reads 0 A and no power) and the voltage threshold U_TH, from a backend
    `be` (Spectral: long-run, analytic; Numeric: a window, or the periodic part of a notched waveform)."""
    syss = s.settings["SYSS"]
    ist = s.settings["IST"] / 1000.0
    sig = {ch: be.sig(ch) for ch in scn.CHANNELS}
    if syss == 2:  # no CT on B: the meter derives ib = -(ia + ic)
        sig["Ib"] = be.lin([(-1.0, sig["Ia"]), (-1.0, sig["Ic"])])

    def rms(x):
        return math.sqrt(be.ms(x))

    def diff(a, b):
        return be.lin([(1.0, sig[a]), (-1.0, sig[b])])

    for a, b in (("a", "b"), ("b", "c"), ("c", "a")):
        urms = rms(diff("U" + a, "U" + b))
        out["U" + a + b] = urms * pt if urms >= U_TH else 0.0
    live = {}
    for p in scn.PHASES:
        irms = rms(sig["I" + p])
        out["I" + p] = irms * ct if irms >= ist else 0.0
        urms = rms(sig["U" + p])
        out["U" + p] = urms * pt if urms >= U_TH and syss == 0 else 0.0
        for q in ("P", "Q", "S", "PF", "Phi_"):
            out[q + p] = 0.0
        live[p] = irms >= ist
    s1 = 0j  # the total fundamental complex power U1 I1* over the elements that count (secondary side)
    if syss == 0:
        for p in scn.PHASES:
            u, i = sig["U" + p], sig["I" + p]
            if not (live[p] and out["U" + p] > 0):
                continue
            x1 = be.fund(u) * be.fund(i).conjugate()
            s1 += x1
            out["Phi_" + p] = math.degrees(cmath.phase(x1)) if x1 else 0.0  # current behind voltage: +
            pw = be.pw(u, i)
            sa = rms(u) * rms(i)
            out["P" + p] = pw * pt * ct
            out["Q" + p] = x1.imag * pt * ct
            out["S" + p] = sa * pt * ct
            out["PF" + p] = pw / sa if sa > 0 else 0.0
        for q in ("P", "Q", "S"):
            out[q] = out[q + "a"] + out[q + "b"] + out[q + "c"]
    else:
        # two elements: P = Uab Ia + Ucb Ic (B is the common terminal), Q from the fundamentals; S effective
        # apparent power (IEEE 1459, three wires): sqrt((Uab^2 + Ubc^2 + Uca^2)(Ia^2 + Ib^2 + Ic^2) / 3)
        out["P"] = out["Q"] = 0.0
        for p in ("a", "c"):
            ul = diff("U" + p, "Ub")
            if live[p] and rms(ul) >= U_TH:
                x1 = be.fund(ul) * be.fund(sig["I" + p]).conjugate()
                s1 += x1
                out["P"] += be.pw(ul, sig["I" + p]) * pt * ct
                out["Q"] += x1.imag * pt * ct
        su = sum(out[k] ** 2 for k in ("Uab", "Ubc", "Uca"))
        si = sum(out[k] ** 2 for k in ("Ia", "Ib", "Ic"))
        out["S"] = math.sqrt(su * si / 3) if (live["a"] or live["c"]) else 0.0
    out["PF"] = out["P"] / out["S"] if out["S"] > 0 else 0.0
    out["Phi"] = math.degrees(cmath.phase(s1)) if s1 else 0.0


def analog_ma(out, st):
    """The 4-20 mA output for the quantity An, from manual 3.6 and docs/analog.md (a second implementation:
    Pe = 3 Un In for totals, Un In per phase; U to Un (phase) or sqrt(3) Un (line, 3Ln3CT); I to In; F 45..65 Hz;
    PF -1..1; linear to 120 % of the range). A wiring without the stored quantity transmits its voltage."""
    syss, code = st["SYSS"], st["An"]
    allowed = range(25) if syss == 0 else (3, 4, 5, 6, 7, 8, 12, 16, 20, 25)
    if code not in allowed:
        code = 0 if syss == 0 else 6
    name = regmap.AN_NAMES[code]
    x, un, rated, pt, ct = out[name], st["Un"], st["In"], st["Pt_U"], st["Ct_I"]
    if name[0] in "PQS" and not name.startswith("PF"):
        pe = (un * rated if len(name) == 2 else 3 * un * rated) * pt * ct
        return 12.0 + 8.0 * max(-1.2, min(1.2, x / pe))  # P = (Px - 12) x Pe x CT x PT / 8
    if name.startswith("PF"):
        return 12.0 + 8.0 * x
    if name == "F":
        lo, hi = 45.0, 65.0
    elif name[0] == "I":
        lo, hi = 0.0, rated * ct
    else:
        lo, hi = 0.0, un * pt * (math.sqrt(3) if syss == 0 and len(name) == 3 else 1.0)
    return 4.0 + 16.0 * max(0.0, min(1.2, (x - lo) / (hi - lo)))


def truth(s):
    """Every regmap measurement by name (primary side) plus extras:
    thd_Ua..thd_Ic (THD relative to the fundamental, all orders present), hd {channel: {order: ratio}},
    U1 U2 U0 u2 and I1 I2 I0 i2 (symmetrical components of the fundamentals, primary side), In (neutral RMS),
    phasors {channel: complex RMS fundamental, primary side}."""
    s = scn.parse(s)
    pt, ct = float(s.pt), float(s.ct)
    spec = {ch: spectrum(s, ch) for ch in scn.CHANNELS}
    out = {}
    if any(s.phases[p]["voltage_notches"] for p in scn.PHASES):
        # the periodic part over one cycle, numerically (notch edges are breakpoints); interharmonics analytic
        be = Numeric(s, 0.0, 1.0 / s.frequency, steady=True,
                     ih={ch: interharmonic_spectrum(s, ch) for ch in scn.CHANNELS})
        for ch in scn.CHANNELS:  # harmonic orders of the notched waveform (hd, THD, fundamentals)
            top = max([HD_ORDERS[-1]] + list(spec[ch]))
            spec[ch] = {h: x for h, x in be.spectrum(ch, range(1, top + 1)).items() if abs(x) > 1e-12 or h == 1}
    else:
        be = Spectral({ch: (spectrum(s, ch), interharmonic_spectrum(s, ch)) for ch in scn.CHANNELS})
    powers(s, be, pt, ct, out)
    out["F"] = s.frequency
    hd = {}
    for ch in scn.CHANNELS:
        x1 = abs(spec[ch].get(1, 0j))
        orders = sorted(set(HD_ORDERS) | {h for h in spec[ch] if h > 1})
        hd[ch] = {h: (abs(spec[ch].get(h, 0j)) / x1 if x1 > 0 else 0.0) for h in orders}
        if ch != "In":  # the meter's THD: orders 2..31 (docs/quality.md); interharmonics are not harmonics
            out["thd_" + ch] = math.sqrt(sum(hd[ch][h] ** 2 for h in HD_ORDERS))
            out["THD_" + ch] = 100.0 * out["thd_" + ch]
    for a, b in (("a", "b"), ("b", "c"), ("c", "a")):  # the line voltages (physical: the same in every wiring)
        ul = _sub(spec["U" + a], spec["U" + b])
        x1 = abs(ul.get(1, 0j))
        out["THD_U" + a + b] = (100.0 * math.sqrt(sum(abs(ul.get(h, 0j)) ** 2 for h in HD_ORDERS)) / x1
                                if x1 else 0.0)
    fund = {ch: spec[ch].get(1, 0j) for ch in scn.CHANNELS}
    u_seq = [x * pt for x in _sequences(fund["Ua"], fund["Ub"], fund["Uc"])]
    i_seq = [x * ct for x in _sequences(fund["Ia"], fund["Ib"], fund["Ic"])]
    neutral_and_averages(s, be, ct, out)
    out["UNB_U"] = unbalance(u_seq[0], u_seq[1])
    out["UNB_I"] = unbalance(i_seq[0], i_seq[1])
    out["AO"] = analog_ma(out, s.settings)
    missing = [m[regmap.M_NAME] for m in regmap.MEASUREMENTS if m[regmap.M_NAME] not in out]
    if missing:  # a quantity appended to the register map needs a truth here
        raise KeyError("truth has no value for %s" % ", ".join(missing))
    extras = {k: v for k, v in out.items() if k.startswith("thd_")}
    out = {m[0]: out[m[0]] for m in regmap.MEASUREMENTS}  # register-map order, then the extras
    out.update(extras)
    out["hd"] = hd
    out["U1"], out["U2"], out["U0"] = u_seq
    out["I1"], out["I2"], out["I0"] = i_seq
    out["u2"] = out["U2"] / out["U1"] if out["U1"] > 0 else 0.0
    out["i2"] = out["I2"] / out["I1"] if out["I1"] > 0 else 0.0
    out["sequence"] = sequence(out["U1"], out["U2"])
    out["sequence_I"] = sequence(out["I1"], out["I2"])
    out["dc"] = {ch: dc(s, ch) * (pt if ch[0] == "U" else ct) for ch in scn.CHANNELS}  # not in U, I, P (removed)
    out["phasors"] = {ch: x * (pt if ch[0] == "U" else ct) for ch, x in fund.items()}
    return out


def main(argv=None):
    """python -m tools.truth SCENARIO: print the truth as JSON (phasors as [re, im])."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m tools.truth SCENARIO(.json or name in tools/scenarios)", file=sys.stderr)
        return 2
    t = truth(scn.load(argv[0]))
    t["phasors"] = {k: [v.real, v.imag] for k, v in t["phasors"].items()}
    print(json.dumps(t, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
