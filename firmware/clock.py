# SPDX-License-Identifier: MIT
# The meter's calendar clock: date (YYYYMMDD) and time (hhmmss) as small ints, one tick per second of sample
# time; at start-up it resumes from the stored time, and a board restores it from what kept time through a reset
# (ESP32: machine.RTC; Pico: watchdog scratch registers; docs/energy.md "Clock").
from micropython import const

_DAYS = b"\x1f\x1c\x1f\x1e\x1f\x1e\x1f\x1f\x1e\x1f\x1e\x1f"  # days per month, February without a leap day
Y_MIN = const(2000)  # the years the clock takes (the panel's year field steps through them)
Y_MAX = const(2099)
DEFAULT_YMD = const(20260101)


def leap(y):
    return (y % 4 == 0 and y % 100 != 0) or y % 400 == 0


def month_days(y, m):
    if m == 2 and leap(y):
        return 29
    return _DAYS[m - 1]


def valid_ymd(v):
    y = v // 10000
    m = (v // 100) % 100
    d = v % 100
    return Y_MIN <= y <= Y_MAX and 1 <= m <= 12 and 1 <= d <= month_days(y, m)


def valid_hms(v):
    return 0 <= v <= 235959 and (v // 100) % 100 < 60 and v % 100 < 60


def ymd_text(v):
    """20261126 -> '2026.11.26' (the manual's form, 4.3 dATE); 0 or less (no date yet) -> '----'."""
    if v <= 0:
        return "----"
    return "%04d.%02d.%02d" % (v // 10000, (v // 100) % 100, v % 100)


def hms_text(v):
    """93520 -> '09:35:20' (manual 4.3 tinE)."""
    return "%02d:%02d:%02d" % (v // 10000, (v // 100) % 100, v % 100)


def day_number(ymd):
    """Days since 2000-01-01 (for gaps between dates; small ints)."""
    y = ymd // 10000
    m = (ymd // 100) % 100
    n = 0
    for k in range(2000, y):
        n += 366 if leap(k) else 365
    for k in range(1, m):
        n += month_days(y, k)
    return n + ymd % 100 - 1


class Clock:
    """ymd and hms are plain small ints (Q and the periods read them); tick() allocates nothing."""

    def __init__(self, ymd=DEFAULT_YMD, hms=0):
        self.ymd = ymd
        self.hms = hms
        self.version = 0  # bumped by set_ymd / set_hms (a user's change, not a tick)

    def tick(self):
        """Advance one second, with minute/hour/day/month/year carries and leap years."""
        t = self.hms + 1
        if t % 100 < 60:
            self.hms = t
            return
        t = t - 60 + 100  # ss 60 -> next minute
        if (t // 100) % 100 < 60:
            self.hms = t
            return
        t = t - 6000 + 10000  # mm 60 -> next hour
        if t < 240000:
            self.hms = t
            return
        self.hms = 0
        ymd = self.ymd
        y = ymd // 10000
        m = (ymd // 100) % 100
        d = ymd % 100 + 1
        if d > month_days(y, m):
            d = 1
            m += 1
            if m > 12:
                m = 1
                y += 1
        self.ymd = y * 10000 + m * 100 + d

    def set_ymd(self, v):
        if not valid_ymd(v):
            return False
        self.ymd = v
        self.version += 1
        return True

    def set_hms(self, v):
        if not valid_hms(v):
            return False
        self.hms = v
        self.version += 1
        return True

    def text_date(self):
        return ymd_text(self.ymd)

    def text_time(self):
        return hms_text(self.hms)
