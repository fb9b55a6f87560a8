# SPDX-License-Identifier: MIT
# Scenario files (JSON, version 1): what the grid and the board look like, for the generator and the truth.
# load()/parse() validate and normalise; errors are ValueError naming the field. Format: docs/scenarios.md.
import copy
import json
import math
import os
import sys

try:  # firmware/ imports `micropython`: under CPython the stand-in must come first on sys.path
    import micropython
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "upy_compat"))
    import micropython

from firmware import regmap
from tools import scenario_timeline as _tl

VERSION = 1
PHASES = ("a", "b", "c")
CHANNELS = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "In")  # channels that take imperfections (T does not)
DEFAULT_VOLTAGE_ANGLE = {"a": 0.0, "b": -120.0, "c": 120.0}
MAX_ORDER = 63  # highest harmonic order accepted (the generator also checks Nyquist)
DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios")

_TOP = ("version", "name", "description", "frequency", "frequency_drift", "phases", "settings", "imperfections",
        "temperature", "adc_filter", "rc_corner_hz", "timeline")
KINDS = ("U", "I")  # channel kinds with their own anti-alias RC corner
RC_CORNER = 10000.0  # Hz, the default corner (firmware/frontend.py RC_CORNER is what the firmware assumes)
RC_MIN = 1000.0  # Hz: below, the 31st harmonic at 65 Hz (2015 Hz) would lose more than 70 % (no front end does)
RC_MAX = 1e7
ADC_FILTER = True  # "adc_filter" when a scenario does not say (host_tests/test_generator.py tests the ideal source)
_PHASE = ("voltage", "current", "angle", "voltage_angle", "voltage_harmonics", "current_harmonics",
          "voltage_interharmonics", "current_interharmonics", "voltage_dc", "current_dc", "voltage_notches")
NOTCH_WIDTH_MAX = 5.0  # ms: a commutation notch is a fraction of a millisecond (and under half a cycle, parse())
NOTCH_DEPTH_MAX = 2.0  # fraction of the fundamental's peak (negative: away from zero)
_IMPERFECTION = ("gain", "phase", "offset", "noise")

# Balanced 220 V / 5 A, current lagging 30 degrees, 50 Hz, 3Ln3CT, ratios 1 (tools/scenarios/default.json).
DEFAULT = {
    "version": 1,
    "name": "default",
    "frequency": 50.0,
    "phases": {p: {"voltage": 220.0, "current": 5.0, "angle": 30.0} for p in PHASES},
    "settings": {"SYSS": "3Ln3CT", "Pt_U": 1, "Ct_I": 1, "Un": 220, "In": 5},
}


def _num(value, field, lo=None, hi=None, lo_open=False):
    # bool is an int in Python: a JSON `true` is never a number here
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("%s: expected a finite number, got %r" % (field, value))
    value = float(value)
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise ValueError("%s: must be %s %g, got %g" % (field, ">" if lo_open else ">=", lo, value))
    if hi is not None and value > hi:
        raise ValueError("%s: must be <= %g, got %g" % (field, hi, value))
    return value


def _dict(value, field, allowed):
    if not isinstance(value, dict):
        raise ValueError("%s: expected an object, got %r" % (field, value))
    for key in value:
        if key not in allowed:
            path = str(key) if field == "scenario" else "%s.%s" % (field, key)
            raise ValueError("%s: unknown field (allowed in %s: %s)" % (path, field, ", ".join(allowed)))
    return value


def _harmonics(value, field):
    """{"5": [ratio, phase_deg]} (or {"5": ratio}) -> {5: (ratio, phase_deg)}, sorted by order."""
    if not isinstance(value, dict):
        raise ValueError("%s: expected an object order -> [ratio, phase], got %r" % (field, value))
    out = {}
    for key, spec in value.items():
        f = "%s.%s" % (field, key)
        try:
            order = int(key)
        except (TypeError, ValueError):
            raise ValueError("%s: harmonic order must be an integer, got %r" % (f, key))
        if str(order) != str(key).strip() or order < 2 or order > MAX_ORDER:
            raise ValueError("%s: harmonic order must be a plain integer 2..%d, got %r" % (f, MAX_ORDER, key))
        if order in out:
            raise ValueError("%s: order %d given twice" % (f, order))
        if isinstance(spec, (list, tuple)):
            if len(spec) != 2:
                raise ValueError("%s: expected [ratio, phase_deg], got %r" % (f, spec))
            out[order] = (_num(spec[0], f + "[0]", 0.0), _num(spec[1], f + "[1]"))
        else:
            out[order] = (_num(spec, f, 0.0), 0.0)
    return dict(sorted(out.items()))


def _interharmonics(value, field):
    """{"172.3": [ratio, phase_deg]} (or {"172.3": ratio}) -> {172.3: (ratio, phase_deg)}, sorted by frequency.
    Any frequency in Hz above 0 (subharmonics too); the generator checks Nyquist, parse() the harmonic grid."""
    if not isinstance(value, dict):
        raise ValueError("%s: expected an object hz -> [ratio, phase], got %r" % (field, value))
    out = {}
    for key, spec in value.items():
        f = "%s.%s" % (field, key)
        try:
            hz = float(key)
        except (TypeError, ValueError):
            raise ValueError("%s: expected a frequency in Hz, got %r" % (f, key))
        if not math.isfinite(hz) or hz <= 0:
            raise ValueError("%s: frequency must be > 0 Hz, got %r" % (f, key))
        if hz in out:
            raise ValueError("%s: %g Hz given twice" % (f, hz))
        if isinstance(spec, (list, tuple)):
            if len(spec) != 2:
                raise ValueError("%s: expected [ratio, phase_deg], got %r" % (f, spec))
            out[hz] = (_num(spec[0], f + "[0]", 0.0), _num(spec[1], f + "[1]"))
        else:
            out[hz] = (_num(spec, f, 0.0), 0.0)
    return dict(sorted(out.items()))


def _notches(value, field):
    """[{"at": deg or [deg, ...], "width_ms": w, "depth": d}, ...] -> [(at_deg, width_ms, depth)] sorted, one per
    position: a rectangular notch every cycle, starting `at` degrees after the phase's positive-going zero
    crossing (of its fundamental), pulling the voltage towards zero by depth x the fundamental's peak (a negative
    depth pushes it away from zero)."""
    if not isinstance(value, list):
        raise ValueError("%s: expected a list of notches, got %r" % (field, value))
    out = []
    for k, spec in enumerate(value):
        f = "%s[%d]" % (field, k)
        _dict(spec, f, ("at", "width_ms", "depth"))
        for key in ("at", "width_ms", "depth"):
            if key not in spec:
                raise ValueError("%s.%s: missing" % (f, key))
        width = _num(spec["width_ms"], f + ".width_ms", 0.0, NOTCH_WIDTH_MAX, lo_open=True)
        depth = _num(spec["depth"], f + ".depth", -NOTCH_DEPTH_MAX, NOTCH_DEPTH_MAX)
        at = spec["at"] if isinstance(spec["at"], list) else [spec["at"]]
        if not at:
            raise ValueError("%s.at: expected a position in degrees or a list of them, got []" % f)
        for j, a in enumerate(at):
            deg = _num(a, "%s.at" % f + ("[%d]" % j if isinstance(spec["at"], list) else ""), 0.0)
            if deg >= 360.0:
                raise ValueError("%s.at: must be < 360 degrees, got %g" % (f, deg))
            out.append((deg, width, depth))
    return sorted(out)


def _phase(value, p):
    field = "phases." + p
    _dict(value, field, _PHASE)
    return {
        "voltage": _num(value.get("voltage", 0.0), field + ".voltage", 0.0),
        "current": _num(value.get("current", 0.0), field + ".current", 0.0),
        "angle": _num(value.get("angle", 0.0), field + ".angle"),
        "voltage_angle": _num(value.get("voltage_angle", DEFAULT_VOLTAGE_ANGLE[p]), field + ".voltage_angle"),
        "voltage_harmonics": _harmonics(value.get("voltage_harmonics", {}), field + ".voltage_harmonics"),
        "current_harmonics": _harmonics(value.get("current_harmonics", {}), field + ".current_harmonics"),
        "voltage_interharmonics": _interharmonics(value.get("voltage_interharmonics", {}),
                                                  field + ".voltage_interharmonics"),
        "current_interharmonics": _interharmonics(value.get("current_interharmonics", {}),
                                                  field + ".current_interharmonics"),
        "voltage_dc": _num(value.get("voltage_dc", 0.0), field + ".voltage_dc"),
        "current_dc": _num(value.get("current_dc", 0.0), field + ".current_dc"),
        "voltage_notches": _notches(value.get("voltage_notches", []), field + ".voltage_notches"),
    }


def _absent_phase(p):
    return {"voltage": 0.0, "current": 0.0, "angle": 0.0, "voltage_angle": DEFAULT_VOLTAGE_ANGLE[p],
            "voltage_harmonics": {}, "current_harmonics": {}, "voltage_interharmonics": {},
            "current_interharmonics": {}, "voltage_dc": 0.0, "current_dc": 0.0, "voltage_notches": []}


def _check_against_frequency(phases, frequency, drift):
    """What needs the line frequency: an interharmonic exactly on a harmonic's frequency is that harmonic (give it
    as one), a notch must be shorter than half a cycle."""
    for p in PHASES:
        ph = phases[p]
        for key in ("voltage_interharmonics", "current_interharmonics"):
            for hz in ph[key]:
                h = hz / frequency
                if not drift and abs(h - round(h)) < 1e-9 and round(h) >= 1:
                    raise ValueError("phases.%s.%s.%g: %g Hz is order %d of %g Hz: a harmonic (%s)"
                                     % (p, key, hz, hz, round(h), frequency, key.replace("inter", "")))
        for k, (at, width, depth) in enumerate(ph["voltage_notches"]):
            if width * 1e-3 * frequency >= 0.5:
                raise ValueError("phases.%s.voltage_notches[%d].width_ms: %g ms is half a cycle or more at %g Hz"
                                 % (p, k, width, frequency))


def _imperfections(value):
    _dict(value, "imperfections", CHANNELS)
    out = {}
    for ch in CHANNELS:
        spec = _dict(value.get(ch, {}), "imperfections." + ch, _IMPERFECTION)
        f = "imperfections.%s." % ch
        out[ch] = {"gain": _num(spec.get("gain", 0.0), f + "gain", -1.0, lo_open=True),
                   "phase": _num(spec.get("phase", 0.0), f + "phase", -180.0, 180.0),
                   "offset": _num(spec.get("offset", 0.0), f + "offset"),
                   "noise": _num(spec.get("noise", 0.0), f + "noise", 0.0)}
    return out


def _corners(value):
    """rc_corner_hz: one number for both kinds, or {"U": hz, "I": hz} (a missing kind takes the default)."""
    field = "rc_corner_hz"
    if isinstance(value, dict):
        _dict(value, field, KINDS)
        return {k: _num(value.get(k, RC_CORNER), "%s.%s" % (field, k), RC_MIN, RC_MAX) for k in KINDS}
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("%s: expected a number (Hz) or an object {\"U\": hz, \"I\": hz}, got %r" % (field, value))
    v = _num(value, field, RC_MIN, RC_MAX)
    return dict.fromkeys(KINDS, v)


def _settings(value):
    names = [row[regmap.CF_NAME] for row in regmap.CONFIG]
    _dict(value, "settings", names)
    out = {}
    for k, row in enumerate(regmap.CONFIG):
        name = row[regmap.CF_NAME]
        v = value.get(name, row[regmap.CF_DEFAULT])
        if name == "SYSS" and isinstance(v, str):
            if v not in regmap.SYSS_NAMES:
                raise ValueError("settings.SYSS: expected one of %s, got %r" % (", ".join(regmap.SYSS_NAMES), v))
            v = regmap.SYSS_NAMES.index(v)
        if isinstance(v, bool) or (not isinstance(v, int) and not (isinstance(v, float) and v.is_integer())):
            raise ValueError("settings.%s: expected an integer, got %r" % (name, v))
        v = int(v)
        if not regmap.valid(k, v):
            raise ValueError("settings.%s: value %d not allowed (%s)" % (name, v, row[regmap.CF_DESC]))
        out[name] = v
    return out


class Scenario:
    """A validated scenario. Fields are plain data; treat them as read-only (parse() builds a fresh copy)."""

    def __init__(self, frequency, frequency_drift, phases, imperfections, settings, temperature, name, description,
                 adc_filter=True, rc_corner=None):
        self.frequency = frequency  # Hz at the start of the scenario
        self.frequency_drift = frequency_drift  # Hz/s from the start of the scenario
        self.phases = phases  # "a"/"b"/"c" -> normalised phase dict (absent phases: 0 V, 0 A)
        self.imperfections = imperfections  # channel name -> {"gain", "phase", "offset", "noise"}
        self.settings = settings  # config name -> register value (SYSS as its number), every CONFIG entry
        self.temperature = temperature  # degrees C
        self.name = name
        self.description = description
        self.adc_filter = adc_filter  # the ADC's sinc3 and the anti-alias RC act on the channels (generator)
        self.rc_corner = dict(rc_corner) if rc_corner else dict.fromkeys(KINDS, RC_CORNER)  # "U"/"I" -> Hz
        self.timeline = []  # [(seconds after the scenario starts, Scenario)], in time order (parse fills it)
        self.timeline_raw = []  # the JSON steps, for to_dict

    @property
    def pt(self):
        return self.settings["Pt_U"]

    @property
    def ct(self):
        return self.settings["Ct_I"]

    @property
    def syss(self):
        return regmap.SYSS_NAMES[self.settings["SYSS"]]

    def setting(self, name):
        """Register value of configuration parameter `name` (SYSS as its number 0..2)."""
        if name not in self.settings:
            raise KeyError(name)
        return self.settings[name]

    def to_dict(self):
        """The JSON form (every field explicit); parse(s.to_dict()) == s."""
        phases = {}
        for p in PHASES:
            ph = self.phases[p]
            d = {"voltage": ph["voltage"], "current": ph["current"], "angle": ph["angle"],
                 "voltage_angle": ph["voltage_angle"]}
            for key in ("voltage_harmonics", "current_harmonics"):
                d[key] = {str(h): [a, phi] for h, (a, phi) in ph[key].items()}
            for key in ("voltage_interharmonics", "current_interharmonics"):
                if ph[key]:
                    d[key] = {repr(hz): [a, phi] for hz, (a, phi) in ph[key].items()}
            for key in ("voltage_dc", "current_dc"):
                if ph[key]:
                    d[key] = ph[key]
            if ph["voltage_notches"]:
                d["voltage_notches"] = [{"at": a, "width_ms": w, "depth": x} for a, w, x in ph["voltage_notches"]]
            phases[p] = d
        s = dict(self.settings)
        s["SYSS"] = self.syss
        out = {"version": VERSION, "frequency": self.frequency, "frequency_drift": self.frequency_drift,
               "temperature": self.temperature, "phases": phases, "settings": s,
               "imperfections": copy.deepcopy(self.imperfections), "adc_filter": self.adc_filter,
               "rc_corner_hz": dict(self.rc_corner)}
        if self.name is not None:
            out["name"] = self.name
        if self.description is not None:
            out["description"] = self.description
        if self.timeline_raw:
            out["timeline"] = copy.deepcopy(self.timeline_raw)
        return out

    __hash__ = None  # mutable fields compared by value: not hashable (as Python makes it for __eq__ alone)

    def __eq__(self, other):
        """Same signal, board and settings (name and description are labels and do not count)."""
        if not isinstance(other, Scenario):
            return NotImplemented
        a, b = self.to_dict(), other.to_dict()
        for d in (a, b):
            d.pop("name", None)
            d.pop("description", None)
        return a == b

    def __repr__(self):
        return "Scenario(%r, %g Hz, %s)" % (self.name, self.frequency, self.syss)


def parse(data):
    """Validate a scenario dict (the JSON form) and return a Scenario. Raises ValueError naming the field."""
    if isinstance(data, Scenario):
        return data
    _dict(data, "scenario", _TOP)
    version = data.get("version", VERSION)
    if version != VERSION:
        raise ValueError("version: only version %d is supported, got %r" % (VERSION, version))
    if "frequency" not in data:
        raise ValueError("frequency: missing")
    frequency = _num(data["frequency"], "frequency", 0.0, 1000.0, lo_open=True)
    drift = _num(data.get("frequency_drift", 0.0), "frequency_drift")
    if "phases" not in data:
        raise ValueError("phases: missing")
    raw = _dict(data["phases"], "phases", PHASES)
    phases = {p: _phase(raw[p], p) if p in raw else _absent_phase(p) for p in PHASES}
    _check_against_frequency(phases, frequency, drift)
    temperature = _num(data.get("temperature", 25.0), "temperature", -100.0, 300.0)
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise ValueError("%s: expected a string, got %r" % (key, data[key]))
    adc_filter = data.get("adc_filter", ADC_FILTER)
    if not isinstance(adc_filter, bool):
        raise ValueError("adc_filter: expected true or false, got %r" % (adc_filter,))
    corner = _corners(data.get("rc_corner_hz", RC_CORNER))
    s = Scenario(frequency, drift, phases, _imperfections(data.get("imperfections", {})),
                 _settings(data.get("settings", {})), temperature, data.get("name"), data.get("description"),
                 adc_filter, corner)
    s.timeline, s.timeline_raw = _timeline(data)
    return s


def _timeline(data):
    """timeline: its steps (tools/scenario_timeline.py: at a time, repeated, random levels) in time order, each the
    scenario as it is then (steps accumulate), validated like a whole scenario (docs/scenarios.md)."""
    raw = data.get("timeline", [])
    steps = _tl.expand(raw)
    base = {k: copy.deepcopy(v) for k, v in data.items() if k != "timeline"}
    base.setdefault("phases", {})
    out = []
    for at, i, fields in steps:
        for p, f in fields.items():
            base["phases"].setdefault(p, {}).update(copy.deepcopy(f))
        try:
            out.append((at, parse(base)))
        except ValueError as e:
            raise ValueError("timeline[%d]: %s" % (i, e))
    return out, copy.deepcopy(raw)


def load(path):
    """Read and parse a scenario file; a bare name (no '/', no '.json') is looked up in tools/scenarios/."""
    if os.sep not in path and "/" not in path and not path.endswith(".json"):
        path = os.path.join(DIR, path + ".json")
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            raise ValueError("%s: not valid JSON: %s" % (path, e))
    return parse(data)


def default():
    return parse(DEFAULT)
