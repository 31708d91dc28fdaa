"""Caps over the subscriber's calendar (one ads-shown hash per subscriber): a day's and a week's
counts start again with the next local day or ISO week, lifetime counts never do, and a
reservation given back returns what it counted (on a real Redis, through the app's client)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ads_fixtures import PHONE, campaign, folder, gateway
from aiohttp.test_utils import TestClient
from conftest import Clock, GatewayFactory

from gateway.ads.engine import BalanceCheck
from gateway.ads.server import AdServer
from gateway.appkeys import CAMPAIGNS, HOP_REDIS, PSEUDONYM
from gateway.lifecycle.stages import Thresholds

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC).timestamp()  # 12:00 in Nairobi, ISO week 49
DAY = 86400.0


def server(client: TestClient[Any, Any], clock: Clock, per_day: int = 0) -> AdServer:
    """An ad server on the app's Redis client and campaigns, with its own clock."""
    app = client.app
    return AdServer(app[HOP_REDIS], app[CAMPAIGNS], mode="opt_out", per_day=per_day,
                    thresholds=Thresholds(), clock=clock)  # fmt: skip


def balance_check(client: TestClient[Any, Any], phone: str = PHONE) -> BalanceCheck:
    return BalanceCheck(client.app[PSEUDONYM](phone), phone.lstrip("+"), "Balance 1", "63902",
                        zone="Africa/Nairobi")  # fmt: skip


async def shown(ads: AdServer, check: BalanceCheck) -> bool:
    decision = await ads.decide(check, (182, 80))
    return decision.placement is not None


async def test_day_and_week_caps_start_again_lifetime_does_not(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """per_day 1, per_week 2, lifetime 3: Monday 1 ad, Tuesday 1, Wednesday none (the week's 2
    are used), next Monday 1, then none ever (lifetime 3)."""
    content = folder(tmp_path, campaign("c", "caps: {per_day: 1, per_week: 2, lifetime: 3}\n"))
    client = await gateway(make_gateway, content)
    clock = Clock(MONDAY)
    ads = server(client, clock)
    check = balance_check(client)
    seen = []
    for day in (0, 0, 1, 1, 2, 7, 7, 8, 15):
        clock.now = MONDAY + day * DAY
        seen.append(await shown(ads, check))
    assert seen == [True, False, True, False, False, True, False, False, False]
    await ads.close()


async def test_global_per_day_cap_counts_the_local_day(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Three a day over all campaigns: the 4th of the day gets none, the next local day's first
    does (23:30 UTC Monday is already Tuesday in Nairobi)."""
    content = folder(tmp_path, *(campaign(f"c{i}") for i in range(5)))
    client = await gateway(make_gateway, content)
    clock = Clock(MONDAY)
    ads = server(client, clock, per_day=3)
    check = balance_check(client, "+254700000002")
    assert [await shown(ads, check) for _ in range(4)] == [True, True, True, False]
    clock.now = datetime(2026, 11, 30, 21, 30, tzinfo=UTC).timestamp()  # 00:30 Tuesday, Nairobi
    assert await shown(ads, check)
    await ads.close()


async def test_a_reservation_given_back_returns_its_caps(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """An ad reserved and then released (the answer went out without it) can be shown again:
    the day's, the week's and the lifetime count are given back."""
    content = folder(tmp_path, campaign("c", "caps: {per_day: 1, per_week: 1, lifetime: 1}\n"))
    client = await gateway(make_gateway, content)
    ads = server(client, Clock(MONDAY))
    check = balance_check(client, "+254700000003")
    first = await ads.decide(check, (182, 80))
    assert first.placement is not None
    assert not await shown(ads, check)
    ads.release(first.placement)
    await ads.close()  # waits for the release written in the background
    again = server(client, Clock(MONDAY))
    assert await shown(again, check)
    await again.close()


async def test_a_release_after_midnight_leaves_the_new_days_count(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A reservation of Monday given back on Tuesday after Tuesday's ad: Tuesday's count stays
    (the per-day cap of 1 still holds for Tuesday)."""
    content = folder(tmp_path, campaign("c", "caps: {per_day: 1}\n"))
    client = await gateway(make_gateway, content)
    clock = Clock(MONDAY)
    ads = server(client, clock)
    check = balance_check(client, "+254700000004")
    monday = await ads.decide(check, (182, 80))
    assert monday.placement is not None
    clock.now = MONDAY + DAY
    assert await shown(ads, check)
    ads.release(monday.placement)
    await ads.close()
    later = server(client, clock)
    assert not await shown(later, check)
    await later.close()
