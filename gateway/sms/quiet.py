"""Quiet hours for promotional SMS, per country in local time (domain C3).

NG 20:00-08:00; KE outside 08:00-18:00; ZA Sundays and public holidays, Saturdays outside
09:00-13:00, other days 20:00-08:00; GH outside 08:00-19:00 and Sundays. Countries without a
rule get the conservative 20:00-08:00. Every window opens on the hour, so the next allowed time
is found by stepping hour marks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from gateway.sms.countries import Country

MONDAY, SATURDAY, SUNDAY = 0, 5, 6


def _easter(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    x = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * x) // 451
    month, day = divmod(h + x - 7 * m + 114, 31)
    return date(year, month, day + 1)


@cache
def za_public_holidays(year: int) -> frozenset[date]:
    """South Africa's public holidays, with the Sunday → Monday rule."""
    fixed = [(1, 1), (3, 21), (4, 27), (5, 1), (6, 16), (8, 9), (9, 24), (12, 16), (12, 25),
             (12, 26)]  # fmt: skip
    days = {date(year, m, d) for m, d in fixed}
    days |= {d + timedelta(days=1) for d in days if d.weekday() == SUNDAY}
    easter = _easter(year)
    days |= {easter - timedelta(days=2), easter + timedelta(days=1)}
    return frozenset(days)


def _ng(t: datetime) -> bool:
    return 8 <= t.hour < 20


def _ke(t: datetime) -> bool:
    return 8 <= t.hour < 18


def _za(t: datetime) -> bool:
    if t.weekday() == SUNDAY or t.date() in za_public_holidays(t.year):
        return False
    if t.weekday() == SATURDAY:
        return 9 <= t.hour < 13
    return 8 <= t.hour < 20


def _gh(t: datetime) -> bool:
    return t.weekday() != SUNDAY and 8 <= t.hour < 19


RULES: dict[str, Callable[[datetime], bool]] = {"NG": _ng, "KE": _ke, "ZA": _za, "GH": _gh}


def allowed(country: Country, now: float) -> bool:
    """True if a promotional SMS may go to ``country`` at epoch seconds ``now``."""
    local = datetime.fromtimestamp(now, ZoneInfo(country.zone))
    return RULES.get(country.code, _ng)(local)


def next_allowed(country: Country, now: float) -> float:
    """The first moment at or after ``now`` when promotional SMS may go to ``country``."""
    if allowed(country, now):
        return now
    mark = (int(now) // 3600 + 1) * 3600
    for _ in range(24 * 10):  # ten days covers any weekend plus holidays
        if allowed(country, mark):
            return float(mark)
        mark += 3600
    return now  # pragma: no cover - every rule opens within a week
