"""A subscriber's lifecycle stage from their last active day and active weeks (pure).

Defaults from domain.md §1 (configurable, ``JUMBE_LIFECYCLE_*``): **active** ≤ 7 days since
the last activity; **loyal** active and active in ≥ 4 of the last 8 weeks; **lapsing** 30-60
days; **inactive** > 60 days. Between active and lapsing (8-30 days) a subscriber is **idle**;
one never seen is **new**.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import LifecycleSettings as Thresholds

__all__ = ["Activity", "Thresholds", "epoch_day", "epoch_week", "stage"]

DAY = 86400
WEEK_BITS = 8
"""Weeks of history kept (the bitmask's width)."""


@dataclass(frozen=True, slots=True)
class Activity:
    """What is stored per subscriber (``j:lc:{…}``): last active day, weeks bitmask."""

    day: int
    """Epoch days (UTC) of the last activity."""
    week: int
    """Epoch week of bit 0 of ``weeks``."""
    weeks: int
    """Bit i set: active in week ``week - i``."""

    @classmethod
    def parse(cls, flat: dict[str, str]) -> Activity | None:
        try:
            return cls(int(flat["d"]), int(flat["wk"]), int(flat["w"]))
        except (KeyError, ValueError):
            return None

    def active_weeks(self, week: int) -> int:
        """Weeks with activity among the ``WEEK_BITS`` weeks ending with ``week``."""
        shift = week - self.week
        if shift >= WEEK_BITS:
            return 0
        mask = (self.weeks << max(shift, 0)) & ((1 << WEEK_BITS) - 1)
        return bin(mask).count("1")


def epoch_day(now: float) -> int:
    return int(now // DAY)


def epoch_week(day: int) -> int:
    return (day + 3) // 7  # weeks start on Monday (1970-01-01 was a Thursday)


def stage(activity: Activity | None, now: float, thresholds: Thresholds) -> str:
    """The stage of a subscriber whose stored activity is ``activity`` at ``now``."""
    if activity is None:
        return "new"
    today = epoch_day(now)
    since = today - activity.day
    if since > thresholds.inactive_days:
        return "inactive"
    if since > thresholds.lapsing_days:
        return "lapsing"
    if since > thresholds.active_days:
        return "idle"
    if activity.active_weeks(epoch_week(today)) >= thresholds.loyal_weeks:
        return "loyal"
    return "active"
