# SPDX-License-Identifier: MIT
# The event log as the host client prints it (python -m tools.client events): one line per event from the records
# Meter.events() reads (tools/client.py; record layout and kinds in docs/events.md, firmware/events.py).
from firmware import regmap

_KINDS = ("", "power up", "power down", "power cut", "alarm on", "alarm off", "relay", "input", "setting", "clear",
          "time set", "dip", "swell", "interruption", "over range", "current without voltage", "phase sequence")


def event_text(e):
    """What an event says, in one line (the columns after date and time)."""
    k, a, v, x = e["kind"], e["arg"], e["value"], e["aux"]
    what = _KINDS[k] if k < len(_KINDS) else "kind %d" % k
    src = "Modbus" if e["src"] else "panel"
    if k == 1:
        return what, ("after an orderly power-down", "after a cut", "first power-up (new flash)",
                      "log was empty: how it went down is unknown")[x] if x < 4 else "aux %d" % x
    if k in (4, 5):
        return "%s AL%d" % (what, a + 1), "value %g" % v
    if k == 6:
        return "%s DO%d" % (what, a + 1), "%s (%s)" % ("closed" if x & 1 else "open",
                                                      ("remote", "alarm", "mode change")[min(x >> 1, 2)])
    if k == 7:
        return "%s DI%d" % (what, a + 1), "closed" if x & 1 else "open"
    if k == 8:
        name = regmap.CONFIG[a][regmap.CF_NAME] if a < len(regmap.CONFIG) else "alarm rule %d" % (a - 63)
        return "%s %s" % (what, name), ("= %g" % v if a < len(regmap.CONFIG) else "changed") + " (%s)" % src
    if k == 9:
        return what, "%s (%s)" % (("energy", "max/min", "demand", "over-range counters")[a] if a < 4 else a, src)
    if k == 10:
        return what, "moved %+d s (%s)" % (v, src) if v else "date changed (%s)" % src
    if k in (11, 12, 13):
        return "%s phase %s" % (what, "ABC"[a] if a < 3 else a), "%s %.1f V for %d ms" % (
            "max" if k == 12 else "residual", v, x)
    if k == 14:
        ch = ("Ua", "Ub", "Uc", "Ia", "Ib", "Ic", "In")
        return "%s %s" % (what, ch[a] if a < 7 else a), "%s, reading %g" % ("entered" if x else "left", v)
    if k == 15:
        return "%s phase %s" % (what, "ABC"[a] if a < 3 else a), "%s, current %g A" % ("entered" if x else "left", v)
    if k == 16:
        return what, "%s (was %s)" % (("unknown", "a-b-c", "a-c-b")[min(a, 2)], ("unknown", "a-b-c", "a-c-b")[min(x, 2)])
    return what, ""


def events_table(total, evs):
    lines = ["%d events logged, newest first" % total, "%6s  %-10s %-8s  %-22s %s" % ("seq", "date", "time", "event",
                                                                                        "detail")]
    for e in evs:
        d, t = e["date"], e["time"]
        what, detail = event_text(e)
        lines.append("%6d  %04d-%02d-%02d %02d:%02d:%02d  %-22s %s" % (e["seq"], d // 10000, d // 100 % 100, d % 100,
                                                                        t // 10000, t // 100 % 100, t % 100, what,
                                                                        detail))
    return "\n".join(lines)
