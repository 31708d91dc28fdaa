"""``opt_out`` mode reserves the first offer in the round trip that reads consent (when the
ranking does not depend on what is known of the subscriber): consent still comes first, a
refused reservation is given back, and a subscriber the reservation refuses gets what the full
path would give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import redis
from ads_fixtures import AUTH, BALANCE, PHONE, campaign, check, folder, gateway
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, eventually

from gateway.appkeys import PSEUDONYM
from gateway.store import keys

PAID = "budget: {total: 100, per_impression: 0.5}\n"


async def report_row(client: TestClient[Any, Any], cid: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/ads", headers=AUTH)
    assert response.status == 200
    body: dict[str, Any] = await response.json()
    return next((c for c in body["campaigns"] if c["id"] == cid), {"impressions": 0, "spend": 0})


async def consent(client: TestClient[Any, Any], phone: str, granted: bool) -> None:
    body = {"msisdn": phone, "purpose": "ads", "granted": granted, "source": "crm"}
    response = await client.post("/v1/consent", json=body, headers=AUTH)
    assert response.status == 200


async def test_revoked_subscriber_gets_nothing_and_counts_nothing(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """A revoked subscriber in opt_out mode: no ad, and the campaign's side reserved in the
    same round trip is given back (no impression, no spend); then a shown ad counts one."""
    content = folder(tmp_path, campaign("paid", PAID))
    client = await gateway(make_gateway, content)
    await consent(client, PHONE, False)
    for _ in range(3):
        assert await check(client) == {"text": BALANCE, "ad": None}

    async def given_back() -> bool:
        counters: Any = redis_client.hgetall(keys.ad_campaign("paid"))
        return counters.get(b"n", b"0") == b"0" and counters.get(b"spend", b"0") == b"0"

    await eventually(given_back)
    assert (await report_row(client, "paid"))["impressions"] == 0
    assert (await check(client, phone="+254700000002"))["ad"] is not None
    row = await report_row(client, "paid")
    assert (row["impressions"], row["spend"]) == (1, 0.5)


async def test_unacknowledged_data_loss_stops_ads_to_subscribers_without_consent(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Data loss not acknowledged: in opt_out mode a subscriber with no recorded consent gets
    no ad (their opt-out may be what was lost); one who granted consent still gets one."""
    content = folder(tmp_path, campaign("promo"))
    client = await gateway(make_gateway, content)
    await consent(client, "+254700000003", True)
    redis_client.hset(keys.meta(), "lost_reason", "test: the append-only file was replaced")
    assert await check(client) == {"text": BALANCE, "ad": None}
    assert (await check(client, phone="+254700000003"))["ad"] is not None


async def test_a_capped_first_choice_gives_the_next_campaign(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A contract capped at 1 a day ahead of a remnant: the first check shows the contract, the
    second the remnant (the reservation's cap refusal leads to the full decision)."""
    content = folder(
        tmp_path,
        campaign("first", "priority: 5\ncaps: {per_day: 1}\n", cls="contract"),
        campaign("second", "weight: 1\n"),
    )
    client = await gateway(make_gateway, content)
    shown = [(await check(client))["ad"] for _ in range(3)]
    assert [ad["campaign"] for ad in shown] == ["first", "second", "second"]


async def test_scripts_lost_by_redis_are_loaded_again(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Redis forgot its scripts (a restart, a new node): the next checks load them again and
    carry their ad, whether the view is read first (a second subscriber's caps) or not."""
    content = folder(tmp_path, campaign("promo", "caps: {per_day: 1}\n"))
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is not None
    redis_client.script_flush()
    assert (await check(client))["ad"] is None  # capped: the view was read, by EVAL
    redis_client.script_flush()
    assert (await check(client, phone="+254700000004"))["ad"] is not None


async def test_what_is_known_of_the_subscriber_still_decides(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """Campaigns that target segments, or have texts in several languages, are decided with
    what is known of the subscriber (their segments, their remembered language), not as for a
    stranger."""
    content = folder(
        tmp_path,
        campaign("vip", "priority: 5\ntarget: {segments: [vip]}\n", cls="contract"),
        campaign("any", "weight: 1\n"),
    )
    client = await gateway(make_gateway, content)
    response = await client.post("/v1/segments/vip", json={"msisdns": [PHONE], "member": True},
                                 headers=AUTH)  # fmt: skip
    assert response.status == 200, await response.text()
    assert (await check(client))["ad"]["campaign"] == "vip"
    assert (await check(client, phone="+254700000002"))["ad"]["campaign"] == "any"
    (tmp_path / "two").mkdir()
    two = campaign("two", "weight: 1\n").replace(
        "text: {en: 'Ad two: dial *544#'}", "text: {en: 'Dial *544#', sw: 'Piga *544#'}"
    )
    both = folder(tmp_path / "two", two)
    swahili = await gateway(make_gateway, both)
    speaker = "+254700000005"
    redis_client.hset(keys.subscriber(swahili.app[PSEUDONYM](speaker)), "lang", "sw")
    assert (await check(swahili, phone=speaker))["text"] == BALANCE + "\nPiga *544#"
    assert (await check(swahili, phone="+254700000006"))["text"] == BALANCE + "\nDial *544#"


def _spent_and_next(tmp_path: Path) -> Path:
    """A contract campaign whose budget one impression spends, and a remnant one after it."""
    return folder(
        tmp_path,
        campaign(
            "spent", "priority: 5\nbudget: {total: 0.5, per_impression: 0.5}\n", cls="contract"
        ),
        campaign("next", "weight: 1\n"),
    )


async def test_a_first_choice_out_of_budget_gives_the_next_campaign_at_once(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The best campaign's budget is spent: its reservation is refused, and the next campaign
    is shown in the same check (the ranking's next offers, not the refused one again)."""
    content = _spent_and_next(tmp_path)
    client = await gateway(make_gateway, content)
    phones = [f"+25470000001{i}" for i in range(4)]
    shown = [(await check(client, phone=phone))["ad"] for phone in phones]
    assert [ad["campaign"] for ad in shown] == ["spent", "next", "next", "next"]
    assert (await report_row(client, "spent"))["impressions"] == 1


async def test_a_side_that_refuses_leaves_the_other_uncounted(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: redis.Redis
) -> None:
    """The campaign side refuses (budget spent): the subscriber's side of that reservation is
    not counted (one Redis: one script checks both sides first; a Cluster: given back), so
    only the ad shown counts against the subscriber's caps."""
    content = _spent_and_next(tmp_path)
    client = await gateway(make_gateway, content)
    assert (await check(client, phone="+254700000021"))["ad"]["campaign"] == "spent"
    assert (await check(client))["ad"]["campaign"] == "next"
    shown = keys.ad_shown(client.app[PSEUDONYM](PHONE))

    async def counted_once() -> bool:
        fields: Any = redis_client.hgetall(shown)
        return int(fields.get(b"d:spent", 0)) == 0 and fields.get(b"d:*") == b"1"

    await eventually(counted_once)
