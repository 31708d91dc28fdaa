"""Batches: messages that share a text and a sender id go to AT in one call through the real
SDK, and each message keeps its own outcome (AT id, cost, status, refusal, retry)."""

from __future__ import annotations

import asyncio
from typing import Any

from sms_fixtures import FakeServer, Sms, aredis_fixture, fake_at_fixture, sms_fixture

from gateway.channels.africastalking.sms import AtSms
from gateway.consent import PURPOSES
from gateway.sms.worker import Worker, WorkerConfig

__all__ = ["aredis_fixture", "fake_at_fixture", "sms_fixture"]

CAMPAIGN = "Bundles: 1 GB for KES 50 this weekend. Dial *544#"
NUMBERS = [f"+2547110004{i:02d}" for i in range(12)]


async def _records(sms: Sms, ids: list[str]) -> list[dict[str, str]]:
    return [await sms.outbox.get(message_id) or {} for message_id in ids]


async def test_one_text_to_many_numbers_is_one_call_and_each_record_its_own(
    sms: Sms, fake_at: FakeServer
) -> None:
    """Twelve messages of one text (and a receipt of its own): two calls, and every record has
    the AT id, cost and status AT gave its number."""
    ids = [await sms.outbox.send(number, CAMPAIGN) for number in NUMBERS]
    receipt = await sms.outbox.send(NUMBERS[0], "Receipt 7: KES 100 paid")
    await sms.worker.run_once()
    assert sorted(map(sorted, fake_at.fake.requests)) == sorted([sorted(NUMBERS), [NUMBERS[0]]])
    at_ids = {r.to: r.provider_message_id for r in fake_at.fake.received if r.message == CAMPAIGN}
    records = await _records(sms, ids)
    assert [(r["status"], r["at_id"], r["cost"]) for r in records] == [
        ("sent", at_ids[number], "KES 0.8000") for number in NUMBERS]  # fmt: skip
    assert len(set(at_ids.values())) == len(NUMBERS)
    assert (await sms.outbox.get(receipt) or {})["status"] == "sent"


async def test_a_number_twice_in_a_campaign_goes_in_two_calls(
    sms: Sms, fake_at: FakeServer
) -> None:
    """AT's answer is matched by number, so one call never names a number twice."""
    first = await sms.outbox.send(NUMBERS[0], CAMPAIGN)
    second = await sms.outbox.send(NUMBERS[0], CAMPAIGN)
    await sms.worker.run_once()
    assert fake_at.fake.requests == [[NUMBERS[0]], [NUMBERS[0]]]
    records = await _records(sms, [first, second])
    assert [r["status"] for r in records] == ["sent", "sent"]
    assert records[0]["at_id"] != records[1]["at_id"]


async def test_a_number_at_refuses_fails_alone(sms: Sms, fake_at: FakeServer) -> None:
    """In one call AT blacklists one number and cannot route another: those two fail (the first
    also recorded as an opt-out), the retryable one waits for its own retry, the rest go."""
    fake_at.fake.always[NUMBERS[1]] = 406
    fake_at.fake.always[NUMBERS[2]] = 403
    fake_at.fake.first[NUMBERS[3]] = [500]
    ids = [await sms.outbox.send(number, CAMPAIGN) for number in NUMBERS[:6]]
    await sms.worker.run_once()
    assert len(fake_at.fake.requests) == 1
    records = await _records(sms, ids)
    assert [(r["status"], r["reason"]) for r in records] == [
        ("sent", ""), ("failed", "406 UserInBlacklist"), ("failed", "403 InvalidPhoneNumber"),
        ("retrying", "500 InternalServerError"), ("sent", ""), ("sent", "")]  # fmt: skip
    assert [bool(r["at_id"]) for r in records] == [True, False, False, False, True, True]
    state = await sms.ledger.state(sms.pseudonym(NUMBERS[1]), "promo_sms")
    assert (state.state, state.source) == ("revoked", "at_status_406")
    sms.clock.now += 5
    await sms.worker.run_once()
    assert fake_at.fake.requests[1:] == [[NUMBERS[3]]]
    assert (await sms.outbox.get(ids[3]) or {})["status"] == "sent"


async def test_a_whole_call_that_fails_is_retried_for_each_message(
    sms: Sms, fake_at: FakeServer
) -> None:
    """AT answers the whole call with a 500: each message waits its own backoff, then they go
    out together again, once."""
    fake_at.fake.fail_requests = 1
    ids = [await sms.outbox.send(number, CAMPAIGN) for number in NUMBERS[:4]]
    await sms.worker.run_once()
    records = await _records(sms, ids)
    assert {(r["status"], r["attempts"]) for r in records} == {("retrying", "1")}
    assert all(r["reason"].startswith("AT refused the request") for r in records)
    await sms.worker.run_once()
    assert len(fake_at.fake.requests) == 1, "nothing is retried before its backoff"
    sms.clock.now += 5
    await sms.worker.run_once()
    assert [sorted(numbers) for numbers in fake_at.fake.requests[1:]] == [NUMBERS[:4]]
    records = await _records(sms, ids)
    assert {(r["status"], r["attempts"]) for r in records} == {("sent", "2")}
    assert sorted(r.to for r in fake_at.fake.received) == NUMBERS[:4]


async def test_each_promotion_in_a_batch_is_checked_on_its_own(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """A campaign's promotions share a call, but one whose subscriber said STOP after it was
    queued is refused on its own; the others go in one call."""
    for number in NUMBERS[:3]:
        await sms.ledger.record(sms.pseudonym(number), PURPOSES, "granted", source="test",
                                channel="ussd")  # fmt: skip
    ids = [await sms.outbox.send(n, CAMPAIGN, category="promotional") for n in NUMBERS[:3]]
    await sms.ledger.record(sms.pseudonym(NUMBERS[1]), PURPOSES, "revoked",
                            source="keyword:STOP", channel="sms")  # fmt: skip
    await sms.worker.run_once()
    assert [sorted(numbers) for numbers in fake_at.fake.requests] == [[NUMBERS[0], NUMBERS[2]]]
    assert [r["status"] for r in await _records(sms, ids)] == ["sent", "refused", "sent"]


async def test_messages_a_live_worker_holds_are_not_taken_over(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """Messages read by a worker wait for a free call; meanwhile the worker touches them, so
    another worker (which takes over what a dead worker left idle) does not take them."""

    def worker(name: str, claim_idle: float) -> Worker:
        config = WorkerConfig(rate_per_sender=0, claim_idle=claim_idle)
        return Worker(aredis, AtSms("sandbox", "k", fake_at.url, timeout=2.0), sms.ledger,
                      config, name=name, clock=sms.clock)  # fmt: skip

    holder, other = worker("holder", 3.0), worker("other", 1.0)
    try:
        for number in NUMBERS[:3]:
            await sms.outbox.send(number, f"Receipt for {number[-2:]}")
        await holder.ensure_group()
        held = await holder.read(">", 4)
        assert sum(len(batch.entries) for batch in held) == 3
        await asyncio.sleep(1.2)  # idle longer than the other worker's claim_idle
        assert await holder.reclaim() == [], "its own entries are not taken over"
        assert await other.reclaim() == [], "a live worker's entries are not taken over"
    finally:
        holder.close()
        other.close()
