"""The SMS report: messages per day by category and final status, delivery rate, time to delivery.

Read from the hourly counters the outbox scripts keep (``gateway.sms.scripts``, key
``keys.sms_stats``), never from message records (those expire 30 days after their final
status). A message is counted once, in its *report hour*: the hour it was handed to Africa's
Talking, or, if it never was, the hour it reached its final status; a later delivery report
moves it from ``pending`` to its final status in that same hour. Days are local days of a time
zone whose UTC offset is whole hours, so hours regroup into days exactly.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gateway.sms.scripts import LATENCY_BOUNDS
from gateway.store import keys
from gateway.store.client import StoreClient

CATEGORIES = ("transactional", "promotional")
FINAL_STATUSES = ("delivered", "failed", "rejected", "dead", "refused")
COUNTS = ("messages", "sent", "pending", *FINAL_STATUSES)
"""The integer counts of a report row, in order."""
MAX_DAYS = 366
_FIELDS = frozenset(("sent", "settled", *FINAL_STATUSES))


class RangeError(ValueError):
    """The days asked for cannot be reported (the message says why)."""


@dataclass(slots=True)
class Tally:
    """What happened to the messages of one category in some hours."""

    counts: Counter[str] = field(default_factory=Counter)
    latency: Counter[str] = field(default_factory=Counter)
    """Delivered messages per histogram bound (``"5"``: within 5 s; ``"inf"``: longer)."""

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)
        self.latency.update(other.latency)

    def view(self) -> dict[str, Any]:
        """``{"messages", "sent", "pending", <final statuses>, "delivery_rate",
        "median_seconds_to_delivery"}``: integers, and numbers or ``None``."""
        sent, delivered = self.counts["sent"], self.counts["delivered"]
        pending = max(sent - self.counts["settled"], 0)
        finals = {status: self.counts[status] for status in FINAL_STATUSES}
        return {
            "messages": pending + sum(finals.values()),
            "sent": sent,
            "pending": pending,
            **finals,
            "delivery_rate": round(delivered / sent, 4) if sent else None,
            "median_seconds_to_delivery": median_seconds(self.latency),
        }


def median_seconds(latency: Counter[str]) -> int | None:
    """The smallest histogram bound within which at least half the delivered messages were
    delivered; ``None`` when none was, or when half took longer than the last bound."""
    total = sum(latency.values())
    if not total:
        return None
    seen = 0
    for bound in LATENCY_BOUNDS:
        seen += latency[str(bound)]
        if seen * 2 >= total:
            return bound
    return None


@dataclass(frozen=True, slots=True)
class Days:
    """A report's days: ``first`` to ``last`` inclusive, in the zone ``tz``."""

    first: date
    last: date
    tz: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def hours(self) -> dict[int, date]:
        """Every UTC hour (epoch seconds // 3600) of the range, with the local day it is in."""
        zone = self.zone
        start = _midnight(self.first, zone) // 3600
        end = _midnight(self.last + timedelta(days=1), zone) // 3600
        return {
            hour: datetime.fromtimestamp(hour * 3600, zone).date() for hour in range(start, end)
        }

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


def days(first: date | None, last: date | None, tz: str, today: date) -> Days:
    """The range asked for (``last`` defaults to ``today``, ``first`` to 29 days before ``last``);
    ``RangeError`` if it cannot be reported."""
    zone = ZoneInfo(tz)  # the caller has checked that the zone exists
    last = last or today
    first = first or last - timedelta(days=29)
    if first > last:
        raise RangeError(f"from ({first}) is after to ({last})")
    if (last - first).days + 1 > MAX_DAYS:
        raise RangeError(f"at most {MAX_DAYS} days at a time")
    for day in (first + timedelta(days=n) for n in range((last - first).days + 2)):
        if _midnight(day, zone) % 3600:
            offset = datetime.combine(day, datetime.min.time(), zone).strftime("%z")
            raise RangeError(
                f"{tz} is {offset[:3]}:{offset[3:]} from UTC on {day}: reports are "
                "kept per hour, so only zones whose offset is whole hours work"
            )
    return Days(first, last, tz)


def _midnight(day: date, zone: ZoneInfo) -> int:
    return math.floor(datetime.combine(day, datetime.min.time(), zone).timestamp())


async def read_hours(
    client: StoreClient, hours: list[int], shards: int
) -> dict[int, dict[str, Tally]]:
    """The counters of ``hours`` over every shard (one pipelined round trip), by hour and
    category."""
    pipe = client.pipeline(transaction=False)
    every = [(hour, shard) for hour in hours for shard in keys.sms_shards(shards)]
    for hour, shard in every:
        pipe.hgetall(keys.sms_stats(hour, shard))
    replies: list[Any] = await pipe.execute()
    found: dict[int, dict[str, Tally]] = {}
    for (hour, _shard), raw in zip(every, replies, strict=True):
        if raw:
            of_hour = found.setdefault(hour, {})
            for category, tally in _tallies(raw).items():
                of_hour.setdefault(category, Tally()).add(tally)
    return found


def _tallies(raw: dict[bytes, bytes]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = {}
    for name, value in raw.items():
        category, _, what = name.decode().partition(":")
        tally = tallies.setdefault(category, Tally())
        if what.startswith("le:"):
            tally.latency[what[3:]] += int(value)
        elif what in _FIELDS:
            tally.counts[what] += int(value)
    return tallies


async def sms_report(client: StoreClient, span: Days, shards: int) -> dict[str, Any]:
    """``{"from", "to", "tz", "days": [{"date", "categories": {...}, <counts>}], "totals":
    {"categories": {...}, <counts>}}`` (shape in ``docs/api.md``)."""
    hours = span.hours()
    counters = await read_hours(client, list(hours), shards)
    per_day: dict[date, dict[str, Tally]] = {day: {} for day in span.dates()}
    for hour, tallies in counters.items():
        of_day = per_day[hours[hour]]
        for category, tally in tallies.items():
            of_day.setdefault(category, Tally()).add(tally)
    totals: dict[str, Tally] = {}
    rows = []
    for day, tallies in per_day.items():
        rows.append({"date": day.isoformat(), **_summary(tallies)})
        for category, tally in tallies.items():
            totals.setdefault(category, Tally()).add(tally)
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "tz": span.tz,
        "days": rows,
        "totals": _summary(totals),
    }


def _summary(tallies: dict[str, Tally]) -> dict[str, Any]:
    """Every category (the two known ones always, zeros included) and all of them together."""
    names = [*CATEGORIES, *sorted(set(tallies) - set(CATEGORIES))]
    everything = Tally()
    for tally in tallies.values():
        everything.add(tally)
    categories = {name: tallies.get(name, Tally()).view() for name in names}
    return {"categories": categories, **everything.view()}
