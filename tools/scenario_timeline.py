# SPDX-License-Identifier: MIT
# Scenario timelines: the JSON forms (a step at a time, a step repeated, random levels from a seed) expanded into
# plain steps [(seconds, {phase: fields})] in time order. tools/scenario.py applies them; docs/scenarios.md.
import math
import random

MAX_STEPS = 100000  # expanded steps per timeline (60 s at one step per millisecond is 60,000)
RANDOM_FIELDS = ("voltage", "current", "angle", "voltage_angle", "voltage_dc", "current_dc")
PHASES = ("a", "b", "c")
_STEP = ("at", "every", "from", "until", "phases", "random", "seed")


def _num(value, field, lo=None, lo_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("%s: expected a finite number, got %r" % (field, value))
    value = float(value)
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ValueError("%s: must be %s %g, got %g" % (field, ">" if lo_open else ">=", lo, value))
    return value


def _obj(value, field, allowed):
    if not isinstance(value, dict):
        raise ValueError("%s: expected an object, got %r" % (field, value))
    for key in value:
        if key not in allowed:
            raise ValueError("%s.%s: unknown field (allowed in %s: %s)" % (field, key, field, ", ".join(allowed)))
    return value


def _phases(value, field):
    out = {}
    for p, fields in _obj(value, field, PHASES).items():
        if not isinstance(fields, dict):
            raise ValueError("%s.%s: expected an object" % (field, p))
        out[p] = fields
    return out


def _ranges(value, field):
    """{"a": {"current": [lo, hi]}} -> [(phases, field, lo, hi)] in a fixed order (keys, then fields sorted). A key
    of several phases ("abc") draws one value for all of them (a three-phase load), one phase its own."""
    if not isinstance(value, dict):
        raise ValueError("%s: expected an object, got %r" % (field, value))
    out = []
    for p, fields in sorted(value.items()):
        if not p or any(c not in PHASES for c in p) or len(set(p)) != len(p):
            raise ValueError("%s.%s: expected phases a, b, c or a group of them such as abc" % (field, p))
        if not isinstance(fields, dict):
            raise ValueError("%s.%s: expected an object" % (field, p))
        for name, rng in sorted(fields.items()):
            f = "%s.%s.%s" % (field, p, name)
            if name not in RANDOM_FIELDS:
                raise ValueError("%s: only %s can be random" % (f, ", ".join(RANDOM_FIELDS)))
            if not isinstance(rng, list) or len(rng) != 2:
                raise ValueError("%s: expected [low, high], got %r" % (f, rng))
            lo, hi = _num(rng[0], f + "[0]"), _num(rng[1], f + "[1]")
            if hi < lo:
                raise ValueError("%s: high %g below low %g" % (f, hi, lo))
            out.append((p, name, lo, hi))
    return out


def expand(raw):
    """timeline (JSON list) -> [(at_seconds, entry index, {phase: {field: value}})] by time, times distinct.

    Entries: {"at": t, "phases": {...}} a step at t seconds after the scenario starts (t > 0; such steps in
    increasing order); {"every": T, "from": t0, "until": t1, "phases": {...}} the same step at t0, t0 + T, ...
    below t1 (t0 defaults to T); the repeated form may add "random": {phases: {field: [low, high]}} with "seed":
    each step draws each such field uniformly in [low, high] (Python's random.Random(seed), reproducible), one
    draw per key ("abc": the same value on the three phases; "a", "b", "c": one each).
    Steps from several entries interleave by time; two at the same time are an error."""
    if not isinstance(raw, list):
        raise ValueError("timeline: expected a list of steps, got %r" % (raw,))
    steps = []  # (at, entry index, fields)
    last_at = 0.0
    for i, entry in enumerate(raw):
        field = "timeline[%d]" % i
        _obj(entry, field, _STEP)
        fixed = _phases(entry.get("phases", {}), field + ".phases")
        if "every" not in entry:
            for key in ("from", "until", "random", "seed"):
                if key in entry:
                    raise ValueError("%s.%s: only with \"every\" (a repeated step)" % (field, key))
            at = _num(entry.get("at"), field + ".at", last_at, lo_open=True)
            last_at = at
            steps.append((at, i, fixed))
            continue
        if "at" in entry:
            raise ValueError("%s.at: a repeated step has \"every\", \"from\" and \"until\" instead" % field)
        every = _num(entry["every"], field + ".every", 0.0, lo_open=True)
        first = _num(entry.get("from", every), field + ".from", 0.0, lo_open=True)
        if "until" not in entry:
            raise ValueError("%s.until: missing (the end of the repetition, seconds)" % field)
        until = _num(entry["until"], field + ".until", first, lo_open=True)
        ranges = _ranges(entry.get("random", {}), field + ".random")
        if ranges and "seed" not in entry:
            raise ValueError("%s.seed: missing (random levels need a seed)" % field)
        if "seed" in entry and not ranges:
            raise ValueError("%s.seed: only with \"random\"" % field)
        seed = entry.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError("%s.seed: expected an integer, got %r" % (field, seed))
        n = int(math.ceil((until - first) / every - 1e-9))
        if n > MAX_STEPS:
            raise ValueError("%s: %d steps, more than %d" % (field, n, MAX_STEPS))
        rng = random.Random(seed)
        for k in range(n):
            fields = {p: dict(v) for p, v in fixed.items()}
            for group, name, lo, hi in ranges:
                x = lo + (hi - lo) * rng.random()
                for p in group:
                    fields.setdefault(p, {})[name] = x
            steps.append((round(first + k * every, 9), i, fields))
    if len(steps) > MAX_STEPS:
        raise ValueError("timeline: %d steps, more than %d" % (len(steps), MAX_STEPS))
    steps.sort(key=lambda x: (x[0], x[1]))
    for a, b in zip(steps, steps[1:]):
        if a[0] == b[0]:
            raise ValueError("timeline[%d]: a step at %g s, as timeline[%d] has" % (b[1], b[0], a[1]))
    return steps
