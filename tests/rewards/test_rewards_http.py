"""Rewards over real HTTP, Redis and the real africastalking SDK against the fake AT: the /v1
contract, the airtime journey (status callback, failures, reversal, receipts) and the guards."""

from __future__ import annotations

import asyncio
from typing import Any

from conftest import eventually
from rewards_fixtures import AUTH, KE, Stack, fake_at_fixture, stack_fixture  # noqa: F401

from gateway.rewards.runtime import REWARDS
from gateway.store import keys

NG = "+2348031234567"


async def test_earn_is_idempotent_and_checks_its_input(stack: Any) -> None:
    """The same source+source_id returns the first entry; bad input gets 400/422 with a reason."""
    s: Stack = await stack()
    status, first = await s.earn(KE, 150, "receipt-9")
    assert (status, first["balance"]) == (200, 150)
    assert await s.earn(KE, 150, "receipt-9") == (200, first)
    for points, expected in (("10", 400), (None, 400), (0, 422), (-5, 422), (1.5, 422)):
        status, body = await s.earn(KE, points, "receipt-x")  # type: ignore[arg-type]
        assert status == expected, (points, body)
        assert body["reason"]
    response = await s.client.post("/v1/rewards/earn", headers=AUTH, data=b"not json")
    assert response.status == 400
    assert (await s.account(KE))["balance"] == 150


async def test_an_airtime_redemption_succeeds_through_the_status_callback(stack: Any) -> None:
    """202 HELD; the worker sends once with the redemption id as Idempotency-Key; AT's callback
    makes it SUCCESS; the subscriber gets an SMS receipt; the points stay spent."""
    s: Stack = await stack()
    await s.earn(KE, 130, "r1")
    status, body = await s.redeem(KE, "air50")
    assert (status, body["state"]) == (202, "HELD")
    redemption = body["redemption"]

    await s.until(KE, redemption, "SUCCESS")
    assert [(r.key, r.to, r.amount) for r in s.fake.topups()] == [(redemption, KE, "KES 50")]
    account = await s.account(KE)
    assert account["balance"] == 30
    assert account["redemptions"][0]["airtime"] == {"amount": 50.0, "currency": "KES"}

    async def receipt() -> bool:
        return any("KES 50 airtime" in r.message and r.to == KE for r in s.fake.received)

    await eventually(receipt)


async def test_fifty_concurrent_redemptions_send_one_airtime_request(stack: Any) -> None:
    """Points for one, 50 redeems at once: one 202, 49 409s, exactly one request at AT."""
    s: Stack = await stack(rewards_velocity=0)
    await s.earn(KE, 100, "r1")
    answers = await asyncio.gather(*(s.redeem(KE, "air50") for _ in range(50)))
    assert sorted(status for status, _ in answers) == [202] + [409] * 49
    assert {body["reason"] for status, body in answers if status == 409} == {"insufficient_points"}
    redemption = next(body["redemption"] for status, body in answers if status == 202)

    await s.until(KE, redemption, "SUCCESS")
    await asyncio.sleep(0.5)
    assert len(s.fake.airtime_requests) == 1
    assert len((await s.account(KE))["redemptions"]) == 1


async def test_a_refused_send_gives_the_points_back_and_tells_the_subscriber(stack: Any) -> None:
    """AT answers Failed for the number: REVERSED, the balance is whole again, an SMS says so."""
    s: Stack = await stack()
    s.fake.airtime_fail[KE] = "InsufficientCredit"
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")

    await s.until(KE, body["redemption"], "REVERSED")
    assert (await s.account(KE))["balance"] == 100

    async def told() -> bool:
        return any("points are back" in r.message for r in s.fake.received)

    await eventually(told)


async def test_a_failed_status_callback_reverses_once(stack: Any) -> None:
    """Sent, then AT's callback says Failed: REVERSED; the same callback again (form or JSON)
    changes nothing; one without a requestId is a 400 saying so."""
    s: Stack = await stack()
    s.fake.airtime_final[KE] = "Failed"
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")

    await s.until(KE, body["redemption"], "REVERSED")
    request_id = s.fake.topups()[0].request_id
    again = await s.client.post("/airtime/africastalking/status", json={
        "requestId": request_id, "status": "Failed", "phoneNumber": KE})  # fmt: skip
    assert again.status == 200  # the same callback again, JSON this time (AT's encoding varies)
    bad = await s.client.post("/airtime/africastalking/status", data={"status": "Failed"})
    assert (bad.status, await bad.text()) == (400, "missing field requestId")
    success = await s.client.post("/airtime/africastalking/status", data={
        "requestId": request_id, "status": "Success", "phoneNumber": KE})  # fmt: skip
    assert success.status == 200
    account = await s.account(KE)
    assert account["balance"] == 100
    assert account["redemptions"][0]["state"] == "REVERSED"
    assert 'jumbe_rewards_redemptions_total{state="FAILED"}' in await (
        await s.client.get("/metrics")).text()  # fmt: skip


async def test_refusals_create_no_redemption(stack: Any) -> None:
    """Unknown item 404, another country's currency 422, too few points 409: nothing held."""
    s: Stack = await stack()
    await s.earn(KE, 10, "r1")
    await s.earn(NG, 50, "r1")
    assert (await s.redeem(KE, "nope"))[0] == 404
    status, body = await s.redeem(NG, "air50")
    assert (status, body["reason"]) == (422, "currency")
    status, body = await s.redeem(KE, "air50")
    assert (status, body["error"], body["reason"]) == (409, "refused", "insufficient_points")
    assert (await s.account(KE))["redemptions"] == []
    assert (await s.account(NG))["redemptions"] == []


async def test_one_airtime_redemption_per_number_per_five_minutes(stack: Any) -> None:
    """A second airtime redemption right after the first is refused with reason velocity."""
    s: Stack = await stack()
    await s.earn(KE, 500, "r1")
    assert (await s.redeem(KE, "air20"))[0] == 202
    status, body = await s.redeem(KE, "air20")
    assert (status, body["reason"]) == (409, "velocity")
    assert (await s.redeem(KE, "coffee"))[0] == 202  # vouchers are not airtime


async def test_daily_value_cap_per_number(stack: Any) -> None:
    """With a KES 60 daily cap, 50 then 20 is refused (daily_cap); 50 + nothing else is fine."""
    s: Stack = await stack(rewards_velocity=0, rewards_daily_cap=60)
    await s.earn(KE, 500, "r1")
    assert (await s.redeem(KE, "air50"))[0] == 202
    status, body = await s.redeem(KE, "air20")
    assert (status, body["reason"]) == (409, "daily_cap")


async def test_the_daily_budget_trips_a_breaker_shown_in_readyz(stack: Any) -> None:
    """Budget KES 75: 50 goes; the next 50 would pass the budget, is refused (budget) and trips
    the breaker, so even 20 (which would fit) is refused, for any number, until the day ends;
    /readyz's details say the breaker is open."""
    s: Stack = await stack(rewards_daily_budget=75)
    other, third = "+254711000222", "+254711000333"
    for number in (KE, other, third):
        await s.earn(number, 500, "r1")
    ready = await (await s.client.get("/readyz")).json()
    assert ready["rewards_breaker"] is None
    assert (await s.redeem(KE, "air50"))[0] == 202
    status, body = await s.redeem(other, "air50")
    assert (status, body["reason"]) == (409, "budget")
    status, body = await s.redeem(third, "air20")
    assert (status, body["reason"]) == (409, "budget")
    ready = await (await s.client.get("/readyz")).json()
    assert "KES" in ready["rewards_breaker"]
    assert (await s.account(other))["balance"] == 500
    assert 0 < await s.client.server.app[REWARDS].redis.ttl(keys.rewards_breaker()) <= 86400


async def test_a_redeem_retried_with_its_idempotency_key_holds_once(stack: Any) -> None:
    """The same Idempotency-Key returns the same redemption; the points are held once."""
    s: Stack = await stack(rewards_worker=False)
    await s.earn(KE, 100, "r1")
    headers = {**AUTH, "Idempotency-Key": "shop-42"}
    body = {"msisdn": KE, "item": "air20"}
    answers = [await s.client.post("/v1/rewards/redeem", headers=headers, json=body)
               for _ in range(2)]  # fmt: skip
    bodies = [await a.json() for a in answers]
    assert [a.status for a in answers] == [202, 202]
    assert bodies[0]["redemption"] == bodies[1]["redemption"]
    assert (await s.account(KE))["balance"] == 60


async def test_validation_callback_accepts_only_a_submitted_match(stack: Any) -> None:
    """Validated only for a SUBMITTED redemption with the same number, amount and currency."""
    s: Stack = await stack()
    s.fake.airtime_validation_url = str(s.client.make_url("/airtime/africastalking/validation"))
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")

    await s.until(KE, body["redemption"], "SUCCESS")
    for amount, currency in (("50", "KES"), ("20", "KES"), ("50", "UGX")):
        response = await s.client.post("/airtime/africastalking/validation", json={
            "transactionId": "t1", "phoneNumber": KE, "sourceIpAddress": "1.2.3.4",
            "currencyCode": currency, "amount": amount})  # fmt: skip
        assert (await response.json())["status"] == "Failed"  # nothing SUBMITTED any more


async def test_a_voucher_is_given_once_and_sent_by_sms(stack: Any) -> None:
    """A voucher redemption gets a code from the list at once (SUCCESS) and an SMS with it; the
    next one gets another code."""
    s: Stack = await stack()
    await s.earn(KE, 100, "r1")
    _, first = await s.redeem(KE, "coffee")
    _, second = await s.redeem(KE, "coffee")

    async def both() -> bool:
        account = await s.account(KE)
        return [r["state"] for r in account["redemptions"]] == ["SUCCESS", "SUCCESS"]

    await eventually(both)

    async def two_codes() -> bool:
        return len({r.message for r in s.fake.received if "code COFFEE-" in r.message}) == 2

    await eventually(two_codes)
    assert s.fake.airtime_requests == []
    assert {first["redemption"], second["redemption"]} == {
        r["redemption"] for r in (await s.account(KE))["redemptions"]}  # fmt: skip


async def test_a_reversal_gives_the_daily_budget_back(stack: Any) -> None:
    """Budget KES 60: a refused send is reversed and its KES 50 returns to the budget, so the
    next redemption is not refused."""
    s: Stack = await stack(rewards_daily_budget=60, rewards_velocity=0)
    s.fake.airtime_fail[KE] = "InvalidPhoneNumber"
    await s.earn(KE, 500, "r1")
    _, body = await s.redeem(KE, "air50")

    await s.until(KE, body["redemption"], "REVERSED")
    status, _ = await s.redeem(KE, "air50")
    assert status == 202


async def test_reconciliation_counts_states_and_airtime_sent(stack: Any) -> None:
    """A success and a refused send: counts per state and the airtime sent; a status callback
    for a request AT refused outright (never recorded as ours) changes nothing and is no
    mismatch; the metric has the states."""
    s: Stack = await stack(rewards_velocity=0)
    s.fake.airtime_fail["+254711000999"] = "Failed"
    for number in (KE, "+254711000999"):
        await s.earn(number, 100, "r1")
    _, good = await s.redeem(KE, "air50")
    _, bad = await s.redeem("+254711000999", "air50")

    async def settled() -> bool:
        return (await s.state(KE, good["redemption"]) == "SUCCESS"
                and await s.state("+254711000999", bad["redemption"]) == "REVERSED")  # fmt: skip

    await eventually(settled)
    late = await s.client.post("/airtime/africastalking/status", data={
        "requestId": s.fake.airtime_requests[-1].request_id, "status": "Success",
        "phoneNumber": "+254711000999"})  # fmt: skip
    assert late.status == 200
    response = await s.client.get("/v1/reports/rewards", headers=AUTH)
    report = await response.json()
    assert report["states"] == {"SUCCESS": 1, "REVERSED": 1}
    assert report["airtime_sent"] == {"KES": 50.0}
    assert report["mismatches"] == []
    metrics = await (await s.client.get("/metrics")).text()
    assert 'jumbe_rewards_redemptions_total{state="SUCCESS"}' in metrics
    assert 'jumbe_jobs_queue_depth{queue="rewards",state="dead"} 0.0' in metrics


async def test_a_success_callback_after_a_failed_one_is_flagged(stack: Any) -> None:
    """AT says Failed (points back), then Success for the same request: the ledger keeps the
    reversal and the reconciliation report names the redemption."""
    s: Stack = await stack()
    s.fake.airtime_final[KE] = "Failed"
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")

    await s.until(KE, body["redemption"], "REVERSED")
    form = {"requestId": s.fake.topups()[0].request_id, "status": "Success", "phoneNumber": KE}
    await s.client.post("/airtime/africastalking/status", data=form)
    report = await (await s.client.get("/v1/reports/rewards", headers=AUTH)).json()
    assert [(m["redemption"], m["problem"]) for m in report["mismatches"]] == [
        (body["redemption"], "AT reported Success on a REVERSED redemption")]  # fmt: skip
    assert (await s.account(KE))["balance"] == 100
