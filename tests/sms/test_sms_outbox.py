"""The outbox and worker on a real Redis, sending through the real AT SDK to the fake AT."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sms_fixtures import FakeServer, Sms, aredis_fixture, fake_at_fixture, sms_fixture

from gateway.consent import PURPOSES
from gateway.errors import SendRefused
from gateway.store import keys

__all__ = ["aredis_fixture", "fake_at_fixture", "sms_fixture"]

LAGOS = ZoneInfo("Africa/Lagos")
NG = "+2348030000001"
KE = "+254700000001"


async def _grant(sms: Sms, phone: str) -> None:
    subscriber = sms.pseudonym(phone)
    await sms.ledger.record(subscriber, PURPOSES, "granted", source="test", channel="ussd")


def _at(hour: int, minute: int = 0, day: int = 5) -> float:
    return datetime(2025, 3, day, hour, minute, tzinfo=LAGOS).timestamp()


async def test_receipt_goes_at_once_promo_waits_for_0800_lagos(
    sms: Sms, fake_at: FakeServer
) -> None:
    """At 21:00 Lagos a receipt goes at once; a promotion waits until 08:00 the next morning."""
    await _grant(sms, NG)
    sms.clock.now = _at(21)
    receipt = await sms.outbox.send(NG, "Receipt: you paid NGN 500", category="transactional")
    promo = await sms.outbox.send(NG, "2 for 1 on bundles today", category="promotional")
    await sms.worker.run_once()
    assert [r.message for r in fake_at.fake.received] == ["Receipt: you paid NGN 500"]
    record = await sms.outbox.get(promo)
    assert record is not None and record["status"] == "scheduled"
    assert int(record["due"]) == int(_at(8, day=6) * 1000)
    sms.clock.now = _at(7, 59, day=6)
    await sms.worker.run_once()
    assert len(fake_at.fake.received) == 1
    sms.clock.now = _at(8, 0, day=6)
    await sms.worker.run_once()
    assert fake_at.fake.received[-1].message == "2 for 1 on bundles today\nReply STOP to opt out"
    assert (await sms.outbox.get(receipt) or {})["status"] == "sent"


async def test_promotion_due_in_quiet_hours_after_a_retry_is_deferred(
    sms: Sms, fake_at: FakeServer
) -> None:
    """A promotion retried into quiet hours is held until they end, not sent and not dropped."""
    await _grant(sms, NG)
    sms.clock.now = _at(19, 59)
    fake_at.fake.first[NG] = [500]
    message_id = await sms.outbox.send(NG, "Weekend deals", category="promotional")
    await sms.worker.run_once()
    sms.clock.now = _at(20, 5)
    await sms.worker.run_once()
    record = await sms.outbox.get(message_id)
    assert record is not None and record["status"] == "scheduled"
    assert record["reason"] == "quiet hours" and fake_at.fake.received == []
    sms.clock.now = _at(8, 0, day=6)
    await sms.worker.run_once()
    assert len(fake_at.fake.received) == 1


async def test_kenyan_promotion_carries_the_safaricom_opt_out_line(
    sms: Sms, fake_at: FakeServer
) -> None:
    """Promotions to +254 end with STOP*456*9*5#; transactional messages get no footer."""
    await _grant(sms, KE)
    await sms.outbox.send(KE, "Flash sale", category="promotional")
    await sms.outbox.send(KE, "Your OTP is 1234")
    await sms.worker.run_once()
    assert sorted(r.message for r in fake_at.fake.received) == [
        "Flash sale\nSTOP*456*9*5#", "Your OTP is 1234"]  # fmt: skip


async def test_send_at_schedules_a_reminder(sms: Sms, fake_at: FakeServer) -> None:
    """A reminder with ``send_at`` stays queued until then, then goes."""
    start = sms.clock.now
    message_id = await sms.outbox.send(KE, "Reminder: survey closes today", send_at=start + 3600)
    await sms.worker.run_once()
    assert fake_at.fake.received == []
    assert (await sms.outbox.get(message_id) or {})["status"] == "scheduled"
    sms.clock.now = start + 3600
    await sms.worker.run_once()
    assert [r.message for r in fake_at.fake.received] == ["Reminder: survey closes today"]


async def test_promotion_without_consent_is_refused_with_a_reason(sms: Sms) -> None:
    """Opt-in mode: no recorded consent means no promotion, and the error says so."""
    with pytest.raises(SendRefused, match="no recorded consent for promo_sms"):
        await sms.outbox.send(KE, "Deals!", category="promotional")


async def test_stop_after_enqueue_blocks_the_queued_promotion(
    sms: Sms, fake_at: FakeServer
) -> None:
    """A STOP recorded after a promotion was queued still stops it: the worker asks again."""
    await _grant(sms, KE)
    message_id = await sms.outbox.send(KE, "Deals!", category="promotional")
    await sms.ledger.record(sms.pseudonym(KE), PURPOSES, "revoked", source="keyword:STOP",
                            channel="sms")  # fmt: skip
    await sms.worker.run_once()
    record = await sms.outbox.get(message_id)
    assert record is not None and record["status"] == "refused"
    assert "opted out of promo_sms" in record["reason"] and fake_at.fake.received == []


async def test_segments_are_stored_and_too_long_is_refused(sms: Sms, aredis: Any) -> None:
    """The segment count is stored with the message; over the maximum is refused with a reason."""
    gsm = await sms.outbox.send(KE, "a" * 161)
    ucs = await sms.outbox.send(KE, "Ẹ kú àárọ̀ " * 8)
    assert (await sms.outbox.get(gsm) or {})["segments"] == "2"
    ucs_record = await sms.outbox.get(ucs) or {}
    assert (ucs_record["encoding"], ucs_record["segments"]) == ("ucs2", "2")
    with pytest.raises(SendRefused, match="needs 7 SMS segments"):
        await sms.outbox.send(KE, "b" * (153 * 6 + 1))
    with pytest.raises(SendRefused, match=r"E\.164"):
        await sms.outbox.send("0700000001", "hi")


async def test_retryable_failures_back_off_then_succeed(sms: Sms, fake_at: FakeServer) -> None:
    """A 500 then a 502 from AT are retried after a backoff; the third try goes out."""
    fake_at.fake.first[KE] = [500, 502]
    message_id = await sms.outbox.send(KE, "Receipt 42")
    await sms.worker.run_once()
    record = await sms.outbox.get(message_id) or {}
    assert (record["status"], record["reason"]) == ("retrying", "500 InternalServerError")
    await sms.worker.run_once()
    assert fake_at.fake.received == [], "nothing is retried before its backoff"
    for step in (5, 10):
        sms.clock.now += step
        await sms.worker.run_once()
    record = await sms.outbox.get(message_id) or {}
    assert (record["status"], record["attempts"]) == ("sent", "3")
    assert len(fake_at.fake.received) == 1


async def test_dead_letter_after_max_attempts_keeps_the_reason(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """After three retryable failures the message is dead-lettered with the last reason."""
    fake_at.fake.always[KE] = 502
    message_id = await sms.outbox.send(KE, "Receipt 43")
    for _ in range(3):
        await sms.worker.run_once()
        sms.clock.now += 60
    record = await sms.outbox.get(message_id) or {}
    assert record["status"] == "dead"
    assert record["reason"] == "gave up after 3 tries: 502 RejectedByGateway"
    dead = await aredis.xrange(keys.sms_dead(keys.sms_shard_of(message_id)))
    assert [fields[b"id"].decode() for _id, fields in dead] == [message_id]


async def test_blacklisted_number_fails_and_is_opted_out(sms: Sms, fake_at: FakeServer) -> None:
    """AT's 406 UserInBlacklist is final (no retry) and recorded as an opt-out."""
    fake_at.fake.always[KE] = 406
    message_id = await sms.outbox.send(KE, "Receipt 44")
    await sms.worker.run_once()
    record = await sms.outbox.get(message_id) or {}
    assert (record["status"], record["reason"]) == ("failed", "406 UserInBlacklist")
    state = await sms.ledger.state(sms.pseudonym(KE), "promo_sms")
    assert (state.state, state.source) == ("revoked", "at_status_406")


async def test_record_keeps_the_number_but_ledger_only_the_pseudonym(sms: Sms, aredis: Any) -> None:
    """The message record holds the number to send to; the consent ledger never does."""
    await _grant(sms, KE)
    await sms.outbox.send(KE, "Deals", category="promotional")
    for key in await aredis.keys("j:c*"):
        kind = await aredis.type(key)
        dump = str(await (aredis.hgetall(key) if kind == b"hash" else aredis.xrange(key)))
        assert KE.lstrip("+") not in dump and KE.lstrip("+") not in key.decode()


async def test_dead_worker_consumers_are_forgotten(sms: Sms, aredis: Any) -> None:
    """Consumers left by dead workers (idle, nothing pending) leave the group; live ones stay."""
    import asyncio
    import dataclasses

    await sms.worker.ensure_group()
    for name in ("ghost:123", "t1"):
        await aredis.xgroup_createconsumer(keys.sms_queue(0), keys.SMS_GROUP, name)
    sms.worker.config = dataclasses.replace(sms.worker.config, dead_consumer_idle=0.05)
    await asyncio.sleep(0.1)
    await aredis.xgroup_createconsumer(keys.sms_queue(0), keys.SMS_GROUP, "live:456")
    assert await sms.worker.forget_dead_consumers() == ["ghost:123"]
    names = {c["name"] for c in await aredis.xinfo_consumers(keys.sms_queue(0), keys.SMS_GROUP)}
    assert names == {b"t1", b"live:456"}, "itself and recently active workers stay"


async def test_an_idempotency_key_enqueues_once(sms: Sms, fake_at: FakeServer) -> None:
    """The same keyed request twice is one message; the key reused for another text is refused."""
    first = await sms.outbox.send(KE, "Your code is 4411", idempotency_key="api:abc")
    again = await sms.outbox.send(KE, "Your code is 4411", idempotency_key="api:abc")
    assert first == again
    with pytest.raises(SendRefused, match="already used for a different message"):
        await sms.outbox.send(KE, "Your code is 9999", idempotency_key="api:abc")
    await sms.worker.run_once()
    assert [r.message for r in fake_at.fake.received] == ["Your code is 4411"]


async def test_annotations_are_stored_with_the_message(sms: Sms, fake_at: FakeServer) -> None:
    """A caller's annotations (the ad an SMS follows) are in the message's record from the step
    that enqueues it, and stay through the send; one reusing a record field is refused."""
    await _grant(sms, KE)
    note = {"ad_campaign": "promo", "flash": "1"}
    message = await sms.outbox.send(KE, "10% off today", category="promotional",
                                    annotations=note)  # fmt: skip
    record = await sms.outbox.get(message)
    assert record is not None and (record["ad_campaign"], record["flash"]) == ("promo", "1")
    await sms.worker.run_once()
    sent = await sms.outbox.get(message)
    assert sent is not None and (sent["status"], sent["ad_campaign"]) == ("sent", "promo")
    with pytest.raises(ValueError, match="'status' is one of the message record's own fields"):
        await sms.outbox.send(KE, "hello", annotations={"status": "delivered"})
    assert [r.message.split("\n")[0] for r in fake_at.fake.received] == ["10% off today"]
