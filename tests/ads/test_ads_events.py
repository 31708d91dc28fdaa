"""Impressions, clicks, conversions, reach and lifecycle, as the ads report shows them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from pathlib import Path
from typing import Any

from ads_fixtures import AUTH, PHONE, campaign, check, folder, gateway
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, RedisProcess, eventually, hop
from processes import jumbe_async

from gateway.appkeys import AD_EVENTS
from gateway.privacy import pseudonymize

CLICKABLE = "caps: {per_day: 5}\nbudget: {total: 100, per_impression: 0.25}\n" + (
    "click: {code: '*544#', keyword: DATA}\n"
)
ROOT = Path(__file__).resolve().parents[2]


async def report(client: TestClient[Any, Any], **query: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/ads", params=query, headers=AUTH)
    assert response.status == 200, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def row(body: dict[str, Any], cid: str) -> dict[str, Any]:
    return next(c for c in body["campaigns"] if c["id"] == cid)


async def test_report_counts_impressions_reach_clicks_conversions_spend(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Three impressions to two subscribers, a click by dialling the code (its repeat within
    30 s ignored), a click by SMS keyword, a conversion counted once however often it is
    posted, and one without an impression refused: the report says exactly that."""
    content = folder(tmp_path, campaign("promo", CLICKABLE))
    client = await gateway(make_gateway, content)
    other = "+254700000002"
    for phone in (PHONE, PHONE, other):
        assert (await check(client, phone=phone))["ad"] is not None
    await hop(client, "", session_id="click-1", service_code="*544#")
    await hop(client, "", session_id="click-2", service_code="*544#")  # a repeat: ignored
    response = await client.post("/sms/africastalking/inbound", data={
        "from": other, "to": "12345", "text": "data", "id": "in-7", "date": "2026-01-01",
        "linkId": "", "networkCode": "63902",
    })  # fmt: skip
    assert response.status == 200

    async def clicks_counted() -> bool:
        return bool(row(await report(client), "promo")["clicks"] == 2)

    await eventually(clicks_counted)
    conversion = {"msisdn": PHONE, "campaign": "promo", "event": "purchase", "id": "order-1"}
    answers = []
    for _ in range(3):
        response = await client.post("/v1/ads/conversions", json=conversion, headers=AUTH)
        assert response.status == 200
        answers.append(await response.json())
    assert [(a["counted"], a["duplicate"]) for a in answers] == [
        (True, False), (True, True), (True, True),
    ]  # fmt: skip
    stranger = {**conversion, "msisdn": "+254700000099", "id": "order-2"}
    response = await client.post("/v1/ads/conversions", json=stranger, headers=AUTH)
    assert (await response.json())["counted"] is False
    body = row(await report(client), "promo")
    assert {k: body[k] for k in ("impressions", "reach", "clicks", "conversions", "spend")} == {
        "impressions": 3, "reach": 2, "clicks": 2, "conversions": 1, "spend": 0.75,
    }  # fmt: skip
    assert body["ctr"] == round(2 / 3, 4)
    assert [(d["network"], d["impressions"]) for d in body["days"]] == [("63902", 3)]
    unknown = {**conversion, "campaign": "nope"}
    response = await client.post("/v1/ads/conversions", json=unknown, headers=AUTH)
    assert response.status == 404


async def test_report_cli_prints_table_json_csv_and_writes_a_page(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """`jumbe report ads` against a running gateway: a table, JSON, CSV rows per day ×
    network, and a self-contained page with the charts; no phone number anywhere."""
    content = folder(tmp_path, campaign("promo", CLICKABLE))
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is not None
    url = str(client.make_url("")).rstrip("/")
    token = AUTH["Authorization"].split()[1]
    code, table, err = await jumbe_async("report", "ads", "--url", url, token=token)
    assert code == 0, err
    assert "promo" in table and "impressions" in table
    code, raw, _ = await jumbe_async("report", "ads", "--url", url, "--format", "json",
                                     token=token)  # fmt: skip
    assert json.loads(raw)["campaigns"][0]["impressions"] == 1
    page = tmp_path / "ads.html"
    code, raw, _ = await jumbe_async("report", "ads", "--url", url, "--format", "csv",
                                     "--html", str(page), token=token)  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert [(r["campaign"], r["network"], r["impressions"]) for r in rows] == [
        ("promo", "63902", "1")
    ]
    html = page.read_text()
    assert "<svg" in html and "CTR per day" in html and "src=" not in html
    for output in (table, raw, html):
        assert PHONE.lstrip("+") not in output


async def test_lifecycle_from_ussd_activity_targets_and_is_counted(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A subscriber seen on USSD today is active: an ad for active subscribers reaches them
    and not a stranger, and the report counts one active subscriber."""
    content = folder(tmp_path, campaign("active", "target: {lifecycle: [active]}\n"))
    (content / "demo.yaml").write_text((ROOT / "menus" / "demo.yaml").read_text())
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is None  # new: never seen
    await hop(client, "", session_id="lc-1")

    async def active() -> bool:
        return bool((await report(client))["lifecycle"]["active"] == 1)

    await eventually(active)
    assert (await check(client))["ad"]["campaign"] == "active"
    assert (await check(client, phone="+254700000055"))["ad"] is None


async def test_activity_lost_to_a_redis_outage_is_recorded_at_the_next_session(
    make_gateway: GatewayFactory, tmp_path: Path, own_redis: RedisProcess
) -> None:
    """Redis is down when a subscriber's first session of the day is noted: the write fails,
    and their next session records them (they are not skipped for the rest of the day)."""
    content = folder(tmp_path, campaign("active", "target: {lifecycle: [active]}\n"))
    (content / "demo.yaml").write_text((ROOT / "menus" / "demo.yaml").read_text())
    client = await gateway(make_gateway, content, redis_url=own_redis.url)
    own_redis.stop()
    status, body = await hop(client, "", session_id="lc-down")
    assert status == 200 and body.startswith("END ")
    await asyncio.sleep(1.0)  # the batch is written (and fails) 0.2 s after the note
    own_redis.start()

    async def active() -> bool:
        await hop(client, "", session_id=f"lc-up-{time.monotonic()}")
        return bool((await report(client))["lifecycle"]["active"] == 1)

    await eventually(active)


async def test_points_earned_count_as_activity(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A purchase credited through POST /v1/rewards/earn makes the subscriber active: the ad
    for active subscribers reaches them, and the report counts them."""
    content = folder(tmp_path, campaign("active", "target: {lifecycle: [active]}\n"))
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is None  # new: never seen
    earn = {"msisdn": PHONE, "points": 10, "source": "pos", "source_id": "receipt-1"}
    assert (await client.post("/v1/rewards/earn", json=earn, headers=AUTH)).status == 200

    async def active() -> bool:
        return bool((await report(client))["lifecycle"]["active"] == 1)

    await eventually(active)
    assert (await check(client))["ad"]["campaign"] == "active"


async def test_a_segment_call_without_member_adds(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """``"member"`` may be left out: the numbers are added (the documented default)."""
    content = folder(tmp_path, campaign("vip", "target: {segments: [vip]}\n"))
    client = await gateway(make_gateway, content)
    response = await client.post("/v1/segments/vip", headers=AUTH, json={"msisdns": [PHONE]})
    assert response.status == 200, await response.text()
    assert (await response.json())["member"] is True
    assert (await check(client))["ad"]["campaign"] == "vip"


async def test_segments_api_adds_and_removes(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: Any
) -> None:
    """Numbers added to a segment see its campaign; removed, they do not; only the pseudonym
    is stored."""
    content = folder(tmp_path, campaign("vip", "target: {segments: [vip]}\n"))
    client = await gateway(make_gateway, content)

    async def segment(member: bool) -> dict[str, Any]:
        response = await client.post("/v1/segments/vip", headers=AUTH,
                                     json={"msisdns": [PHONE], "member": member})  # fmt: skip
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body

    assert (await segment(True))["changed"] == 1
    assert (await check(client))["ad"] is not None
    assert (await segment(False))["changed"] == 1
    assert (await check(client))["ad"] is None
    names = " ".join(k.decode() for k in redis_client.scan_iter("j:tags:*"))
    assert pseudonymize(b"test-pseudonym-key", PHONE) in names or names == ""
    everything = " ".join(k.decode() for k in redis_client.scan_iter("*"))
    assert PHONE.lstrip("+") not in everything


async def test_flash_sms_follow_up_goes_through_the_outbox(
    make_gateway: GatewayFactory, tmp_path: Path, redis_client: Any
) -> None:
    """An impression of a campaign with an SMS follow-up queues one promotional SMS (with the
    opt-out footer), marked as a flash intent; a subscriber without promo consent gets none."""
    spec = "sms: {text: {en: 'Show this SMS for 10% off'}, flash: true}\n"
    content = folder(tmp_path, campaign("promo", spec))
    client = await gateway(make_gateway, content, consent_modes={
        "ads": "opt_out", "promo_sms": "opt_out", "surveys": "opt_in",
    })  # fmt: skip
    answer = await check(client)
    assert answer["ad"] is not None

    def queued() -> list[dict[bytes, bytes]]:
        return [redis_client.hgetall(k) for k in redis_client.scan_iter("j:sms:m:*")]

    async def one_queued() -> bool:
        return len(queued()) == 1

    await eventually(one_queued)
    message = queued()[0]
    assert message[b"category"] == b"promotional"
    assert message[b"text"].startswith(b"Show this SMS for 10% off")
    assert (message[b"flash"], message[b"ad_campaign"]) == (b"1", b"promo")
    assert message[b"ad_impression"].decode() == answer["ad"]["impression"]
    other = "+254700000042"
    revoke = {"msisdn": other, "purpose": "promo_sms", "granted": False, "source": "crm"}
    assert (await client.post("/v1/consent", json=revoke, headers=AUTH)).status == 200
    assert (await check(client, phone=other))["ad"] is not None  # ads consent is separate
    await check(client, phone="+254700000043")  # a later follow-up is queued after it...

    async def two_queued() -> bool:
        return len(queued()) == 2

    await eventually(two_queued)
    assert all(m[b"subscriber"] != pseudonymize(b"test-pseudonym-key", other).encode()
               for m in queued())  # fmt: skip
    # its delivery report (what the outbox tells app[AD_EVENTS]) counts one SMS impression
    events = client.server.app[AD_EVENTS]
    first = message[b"id"].decode()
    for _ in range(2):
        events.sms_delivered(first)

    async def sms_impression() -> bool:
        return bool(row(await report(client), "promo")["sms_impressions"] == 1)

    await eventually(sms_impression)
    await asyncio.sleep(0.1)
    assert row(await report(client), "promo")["sms_impressions"] == 1  # counted once


async def test_sms_keyword_tags_are_segments(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """A keyword with ``tag: vip`` puts the sender in the vip segment a campaign targets."""
    content = folder(tmp_path, campaign("vip", "target: {segments: [vip]}\n"))
    (content / "keywords.yaml").write_text(
        "kind: keywords\nkeywords:\n  - {words: [JOIN], tag: vip}\n"
    )
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is None
    response = await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "12345", "text": "join", "id": "in-9", "date": "2026-01-01",
        "linkId": "", "networkCode": "63902",
    })  # fmt: skip
    assert response.status == 200
    assert (await check(client))["ad"]["campaign"] == "vip"
