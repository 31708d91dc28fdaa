"""``POST /v1/piggyback`` against a real Redis over HTTP: the balance text is never touched,
an ad is added only when everything about it is right, and every failure fails open."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from ads_fixtures import AUTH, BALANCE, PHONE, TOKEN, campaign, check, folder, gateway
from conftest import GatewayFactory, RedisProcess

from gateway import metrics


def fail_open(reason: str) -> float:
    metrics.publish_ads()  # decisions are tallied, then published (as a scrape does)
    return metrics.ADS_FAIL_OPEN.labels(reason)._value.get()  # type: ignore[no-any-return]


async def test_no_eligible_campaign_returns_the_balance_text_byte_for_byte(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Nothing targets this network: the text comes back identical (odd spacing, UCS-2 and
    all), ``ad`` is null, and the fail-open counter says no_campaign."""
    content = folder(tmp_path, campaign("elsewhere", "target: {networks: ['62130']}"))
    client = await gateway(make_gateway, content)
    before = fail_open("no_campaign")
    for text in (BALANCE, "  Salio: KSh 5.00 \u2014 \u20ac\n\ttrailing  ", "Баланс 12"):
        answer = await check(client, text=text)
        assert answer == {"text": text, "ad": None}
    assert fail_open("no_campaign") == before + 3


async def test_an_eligible_ad_follows_the_balance_text(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The answer starts with the balance text unchanged, then a new line and the ad; the
    impression has an id of its own on every check."""
    content = folder(tmp_path, campaign("promo", text="2x data: dial *544#"))
    client = await gateway(make_gateway, content)
    first = await check(client)
    assert first["text"] == BALANCE + "\n2x data: dial *544#"
    assert first["ad"]["campaign"] == "promo"
    second = await check(client, phone="+254700000002")
    assert second["ad"]["impression"] != first["ad"]["impression"]


async def test_opted_out_subscriber_never_gets_an_ad(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """opt_in mode: no consent, no ad; a grant, an ad; a revocation ends ads at once; in
    opt_out mode a revoked subscriber still gets none."""
    content = folder(tmp_path, campaign("promo"))
    client = await gateway(make_gateway, content, consent_modes={"ads": "opt_in"})
    assert (await check(client))["ad"] is None

    async def consent(granted: bool) -> None:
        body = {"msisdn": PHONE, "purpose": "ads", "granted": granted, "source": "crm"}
        response = await client.post("/v1/consent", json=body, headers=AUTH)
        assert response.status == 200

    await consent(True)
    assert (await check(client))["ad"] is not None
    await consent(False)
    for _ in range(5):
        assert await check(client) == {"text": BALANCE, "ad": None}
    opt_out = await gateway(make_gateway, content)  # same Redis, ads in opt_out mode
    assert await check(opt_out) == {"text": BALANCE, "ad": None}
    assert (await check(opt_out, phone="+254700000009"))["ad"] is not None


async def test_stop_by_sms_ends_ads_at_once(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """An inbound STOP revokes every purpose, ads included: the next check has no ad."""
    content = folder(tmp_path, campaign("promo"))
    client = await gateway(make_gateway, content)
    assert (await check(client))["ad"] is not None
    response = await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "12345", "text": "STOP", "id": "in-1", "date": "2026-01-01",
        "linkId": "", "networkCode": "63902",
    })  # fmt: skip
    assert response.status == 200, await response.text()
    assert await check(client) == {"text": BALANCE, "ad": None}


async def test_ad_that_does_not_fit_is_dropped_gsm7_and_ucs2(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """The ad is added only if the whole reply fits the network's screen (160 GSM-7 / 70
    UCS-2 by default): a long balance text leaves no room and comes back unchanged; a UCS-2
    balance text makes the whole reply UCS-2; a UCS-2 variant is used when it is."""
    ad = "Dial *544# now"  # 14 characters + the new line
    content = folder(tmp_path, campaign("short", "ucs2: {en: 'Piga *544# 🎉'}\n", text=ad))
    client = await gateway(make_gateway, content)
    before = fail_open("no_fit")
    gsm_full = "B" * 146  # 146 + 1 + 14 = 161 > 160
    assert await check(client, text=gsm_full) == {"text": gsm_full, "ad": None}
    gsm_fits = "B" * 145
    assert (await check(client, text=gsm_fits, phone="+254700000002"))["ad"] is not None
    ucs_full = "Salio ₭" + "x" * 50  # UCS-2: 57 + 1 + 13 (the variant; 🎉 is 2 units) = 71
    assert await check(client, text=ucs_full, phone="+254700000003") == {"text": ucs_full,
                                                                         "ad": None}  # fmt: skip
    ucs_fits = "Salio ₭" + "x" * 49  # 70: fits exactly
    answer = await check(client, text=ucs_fits, phone="+254700000004")
    assert answer["text"] == ucs_fits + "\nPiga *544# 🎉"
    assert fail_open("no_fit") == before + 2
    airtel = await check(client, text=gsm_full, network="63903", phone="+254700000005")
    assert airtel["text"] == gsm_full + "\n" + ad  # 182 characters on Airtel Kenya


async def test_per_day_cap_of_one_under_100_concurrent_checks(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """100 checks of one subscriber at once against a cap of 1 a day: exactly one ad."""
    content = folder(tmp_path, campaign("once", "caps: {per_day: 1}\n"))
    client = await gateway(make_gateway, content, ads_deadline_ms=5000)  # a slow test machine
    answers = await asyncio.gather(*(check(client) for _ in range(100)))
    assert sum(a["ad"] is not None for a in answers) == 1
    assert all(a["text"].startswith(BALANCE) for a in answers)


async def test_global_cap_three_a_day_and_one_per_check(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Five campaigns without caps of their own: one ad per check, and the 4th check of the
    day shows none (the global default of 3 a day)."""
    content = folder(tmp_path, *(campaign(f"c{i}") for i in range(5)))
    client = await gateway(make_gateway, content)
    answers = [await check(client) for _ in range(4)]
    assert [a["ad"] is not None for a in answers] == [True, True, True, False]
    assert all(a["text"].count("\n") == 1 for a in answers[:3])


async def test_override_beats_contract_beats_remnant(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """With one of each eligible, the override is shown; when it is capped, the contract of
    the highest priority; then the remnant."""
    capped = "caps: {per_day: 1}\n"
    content = folder(
        tmp_path, campaign("rem", capped + "weight: 100\n"),
        campaign("low", capped + "priority: 2\n", cls="contract"),
        campaign("high", capped + "priority: 9\n", cls="contract"),
        campaign("over", capped, cls="override"),
    )  # fmt: skip
    client = await gateway(make_gateway, content, ads_per_day=0)
    shown = [(await check(client))["ad"]["campaign"] for _ in range(4)]
    assert shown == ["over", "high", "low", "rem"]


async def test_targeting(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """Each targeting rule admits the checks it names and no others."""
    content = folder(tmp_path, *(
        campaign("net", "target: {networks: ['63903']}\n", cls="override"),
        campaign("prefix", "target: {prefixes: ['+25471']}\n", cls="override"),
        campaign("plan", "target: {plans: [postpaid]}\n", cls="override"),
        campaign("band", "target: {balance: {min: 0, max: 5}}\n", cls="override"),
        campaign("lang", "target: {languages: [sw]}\n", cls="override", lang="sw"),
        campaign("vip", "target: {segments: [vip]}\n", cls="override"),
        campaign("new", "target: {lifecycle: [new]}\n", cls="remnant"),
    ))  # fmt: skip
    client = await gateway(make_gateway, content, ads_per_day=0)
    cases = [
        ({"network": "63903"}, "net"),
        ({"phone": "+254711000001"}, "prefix"),
        ({"plan": "postpaid"}, "plan"),
        ({"balance": 4.99}, "band"),
        ({"balance": 5}, "new"),
        ({"language": "sw"}, "lang"),
        ({}, "new"),
    ]
    for i, (fields, expected) in enumerate(cases):
        phone = fields.pop("phone", f"+2547000001{i:02d}")
        answer = await check(client, phone=phone, **fields)
        assert answer["ad"]["campaign"] == expected, (fields, answer)
    response = await client.post(
        "/v1/segments/vip", json={"msisdns": ["+254700000777"], "member": True}, headers=AUTH
    )
    assert response.status == 200, await response.text()
    assert (await check(client, phone="+254700000777"))["ad"]["campaign"] == "vip"


async def test_budget_is_a_hard_stop(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """A budget for exactly 3 impressions: 20 subscribers at once, exactly 3 ads."""
    content = folder(tmp_path, campaign("paid", "budget: {total: 1.5, per_impression: 0.5}\n"))
    client = await gateway(make_gateway, content, ads_deadline_ms=5000)
    answers = await asyncio.gather(*(check(client, phone=f"+2547000002{i:02d}") for i in range(20)))
    assert sum(a["ad"] is not None for a in answers) == 3


async def test_contract_is_paced_evenly(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """A goal of 100 over a ~100-hour flight serves at most ceil(100/100 × 1.2) = 2 this hour."""
    now = time.time()
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 60))
    end = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now + 100 * 3600 - 120))
    spec = (
        "kind: campaign\nid: paced\nclass: contract\npriority: 5\ngoal: 100\n"
        f"flight: {{start: '{start}', end: '{end}', tz: UTC}}\ntext: {{en: Paced}}\n"
    )
    client = await gateway(make_gateway, folder(tmp_path, spec))
    answers = [await check(client, phone=f"+2547000003{i:02d}") for i in range(6)]
    assert sum(a["ad"] is not None for a in answers) == 2


async def test_bad_requests_are_400_with_a_reason(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Not JSON, a missing field, a bad network: 400 saying what is wrong."""
    client = await gateway(make_gateway, folder(tmp_path, campaign("promo")))
    bad: list[tuple[Any, str]] = [
        (b"{not json", "not JSON"),
        ({"msisdn": PHONE, "network": "63902"}, "missing field(s) text"),
        ({"msisdn": PHONE, "text": "x", "network": "safaricom"}, "network"),
        ({"msisdn": "hello", "text": "x", "network": "63902"}, "E.164"),
    ]
    for body, reason in bad:
        kwargs = {"data": body} if isinstance(body, bytes) else {"json": body}
        response = await client.post("/v1/piggyback", headers=AUTH, **kwargs)
        assert response.status == 400
        assert reason in (await response.json())["reason"]


async def test_redis_latency_fails_open_within_the_deadline(
    make_gateway: GatewayFactory, tmp_path: Path, own_redis: RedisProcess
) -> None:
    """Redis stalls for 200 ms: the balance text comes back unchanged within 60 ms more than
    an answer with Redis healthy, and the ad reserved late is given back."""
    spec = "caps: {per_day: 1}\nbudget: {total: 100, per_impression: 1}\n"
    content = folder(tmp_path, campaign("promo", spec))
    client = await gateway(make_gateway, content, redis_url=own_redis.url)
    await check(client, phone="+254700000500")  # connections and scripts warm
    started = time.perf_counter()
    await check(client, phone="+254700000501", text="warm")
    healthy = time.perf_counter() - started
    before = fail_open("timeout")
    own_redis.pause()
    try:
        started = time.perf_counter()
        answer = await check(client)
        stalled = time.perf_counter() - started
    finally:
        await asyncio.sleep(max(0.0, 0.2 - stalled))
        own_redis.resume()
    assert answer == {"text": BALANCE, "ad": None}
    assert stalled - healthy <= 0.060 + 0.050  # the 50 ms deadline is within the 60 ms
    assert stalled < 0.050 + 0.060
    assert fail_open("timeout") == before + 1
    await asyncio.sleep(0.3)  # the late reservation was released: the daily cap is still free
    assert (await check(client))["ad"] is not None
    response = await client.get("/v1/reports/ads", headers=AUTH)
    promo = (await response.json())["campaigns"][0]
    assert (promo["impressions"], promo["spend"]) == (3, 3.0)  # the late one was given back


async def test_campaign_files_reload_live(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """A campaign file added while the gateway runs serves after a reload; one removed stops."""
    content = folder(tmp_path, campaign("first"))
    client = await gateway(make_gateway, content, admin_token="admin")
    assert (await check(client))["ad"]["campaign"] == "first"
    (content / "c0.yaml").unlink()
    (content / "c1.yaml").write_text(campaign("second"))
    response = await client.post("/admin/reload", headers={"Authorization": "Bearer admin"})
    assert response.status == 200, await response.text()
    assert (await check(client, phone="+254700000600"))["ad"]["campaign"] == "second"


async def test_piggyback_needs_its_scope(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """No bearer: 401, like every /v1 route."""
    client = await gateway(make_gateway, folder(tmp_path, campaign("promo")))
    response = await client.post("/v1/piggyback", json={"msisdn": PHONE, "text": "x",
                                                         "network": "63902"})  # fmt: skip
    assert response.status == 401
    assert TOKEN not in await response.text()


async def test_remnant_weights_over_http(make_gateway: GatewayFactory, tmp_path: Path) -> None:
    """10,000 checks of random subscribers over HTTP against a real Redis: each remnant's
    share of the ads is within ±2 percentage points of its weight ÷ the total."""
    weights = {"w1": 1, "w3": 3, "w6": 6}
    content = folder(tmp_path, *(campaign(cid, f"weight: {w}\n") for cid, w in weights.items()))
    client = await gateway(make_gateway, content, ads_deadline_ms=5000)
    shown: dict[str, int] = dict.fromkeys(weights, 0)
    for batch in range(100):
        answers = await asyncio.gather(*(
            check(client, phone=f"+2547{batch:03d}{i:05d}") for i in range(100)
        ))  # fmt: skip
        for answer in answers:
            shown[answer["ad"]["campaign"]] += 1
    total = sum(weights.values())
    for cid, weight in weights.items():
        assert abs(shown[cid] / 10_000 - weight / total) <= 0.02, shown
