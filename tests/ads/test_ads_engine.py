"""The decision engine alone (no I/O): remnant weights, local time windows, the calendar."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime

from gateway.ads.engine import BalanceCheck, Calendar, SubscriberView, rank
from gateway.ads.model import Campaign, Target
from gateway.lifecycle.stages import Activity, Thresholds, epoch_day, epoch_week, stage

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC).timestamp()  # 12:00 in Nairobi


def remnant(cid: str, weight: float, **target: object) -> Campaign:
    return Campaign(cid, "remnant", 0, 4e9, "UTC", {"en": f"Ad {cid}"}, weight=weight,
                    target=Target(**target))  # type: ignore[arg-type]  # fmt: skip


CHECK = BalanceCheck("p_x", "254700000001", "Balance 1", "63902", zone="Africa/Nairobi")


def test_remnant_shares_follow_weights_within_two_points() -> None:
    """Over 10,000 seeded draws each remnant's share is within ±2 pp of weight/total."""
    weights = {"a": 1.0, "b": 3.0, "c": 6.0, "d": 0.5}
    campaigns = [remnant(cid, w) for cid, w in weights.items()]
    rng = random.Random(11)
    wins = Counter(
        rank(campaigns, CHECK, SubscriberView(), NOW, (160, 70), 0, rng).offers[0].campaign.id
        for _ in range(10_000)
    )
    total = sum(weights.values())
    for cid, weight in weights.items():
        assert abs(wins[cid] / 10_000 - weight / total) <= 0.02, (cid, wins)


def test_local_time_windows_use_the_subscribers_zone() -> None:
    """11:30-14:00 matches at noon in Nairobi (09:00 UTC); a window past midnight wraps."""
    lunch = remnant("lunch", 1, hours=((690, 840),))
    night = remnant("night", 1, hours=((1320, 360),))
    offers = rank([lunch, night], CHECK, SubscriberView(), NOW, (160, 70), 0, random.Random(1))
    assert [o.campaign.id for o in offers.offers] == ["lunch"]
    late = NOW + 12 * 3600  # 00:00 in Nairobi
    offers = rank([lunch, night], CHECK, SubscriberView(), late, (160, 70), 0, random.Random(1))
    assert [o.campaign.id for o in offers.offers] == ["night"]


def test_calendar_days_and_weeks_are_local() -> None:
    """22:30 UTC on Sunday is already Monday in Nairobi: a new day and a new ISO week."""
    sunday_night = datetime(2026, 11, 29, 22, 30, tzinfo=UTC).timestamp()
    assert Calendar.at(sunday_night, "UTC").day == "20261129"
    nairobi = Calendar.at(sunday_night, "Africa/Nairobi")
    assert (nairobi.day, nairobi.week) == ("20261130", "2026W49")


def test_flight_start_inclusive_end_exclusive() -> None:
    """A campaign serves from its start second up to, not including, its end."""
    c = Campaign("f", "remnant", 100.0, 200.0, "UTC", {"en": "x"}, weight=1)
    assert [c.live(t) for t in (99.9, 100.0, 199.9, 200.0)] == [False, True, True, False]


def test_lifecycle_stages_follow_the_thresholds() -> None:
    """Active ≤ 7 days, loyal = active in ≥ 4 of 8 weeks, idle, lapsing 30-60, inactive > 60."""
    t = Thresholds()
    today = epoch_day(NOW)
    week = epoch_week(today)
    assert stage(None, NOW, t) == "new"
    assert stage(Activity(today - 3, week, 0b1), NOW, t) == "active"
    assert stage(Activity(today, week, 0b1011), NOW, t) == "active"
    assert stage(Activity(today, week, 0b10111), NOW, t) == "loyal"
    assert stage(Activity(today - 7, week - 1, 0b1111), NOW, t) in ("loyal", "active")
    assert stage(Activity(today - 8, week - 1, 0b1111), NOW, t) == "idle"
    assert stage(Activity(today - 30, week - 5, 1), NOW, t) == "idle"
    assert stage(Activity(today - 31, week - 5, 1), NOW, t) == "lapsing"
    assert stage(Activity(today - 60, week - 9, 1), NOW, t) == "lapsing"
    assert stage(Activity(today - 61, week - 9, 1), NOW, t) == "inactive"
    assert stage(Activity(today - 1, week - 8, 0xFF), NOW, Thresholds(loyal_weeks=1)) == "active"
