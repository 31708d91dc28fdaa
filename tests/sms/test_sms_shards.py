"""The outbox spread over several hash tags: every shard is sent from and its delivery reports
find their message (through the link in the slot of AT's id), and data written in the layout
from before sharding (one ``{sms}`` slot) is still drained, reported on and recognised."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from conftest import GatewayFactory
from sms_fixtures import FakeServer, Sms, aredis_fixture, eventually, fake_at_fixture, sms_fixture

from gateway.channels.africastalking.sms import AtSms
from gateway.config import from_env
from gateway.errors import ConfigError
from gateway.sms.outbox import Outbox, OutboxPolicy, _fingerprint, keyed_message_id
from gateway.sms.runtime import SMS
from gateway.sms.worker import Worker, WorkerConfig
from gateway.store import keys

__all__ = ["aredis_fixture", "fake_at_fixture", "sms_fixture"]

KE = "+254711000505"


def _keys_on_every_shard() -> list[str]:
    """Idempotency keys whose messages land on each shard (the first found for each)."""
    found: dict[int | None, str] = {}
    for i in range(1000):
        found.setdefault(keys.sms_shard_of(keyed_message_id(f"spread-{i}")), f"spread-{i}")
    assert set(found) == set(range(keys.SMS_SHARDS))
    return list(found.values())


async def test_delivery_reports_find_their_message_on_every_shard(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """A message on each shard goes out and AT's delivery reports, which carry only AT's id,
    reach each one: all end ``delivered``."""
    client = await make_gateway(at_base_url=fake_at.url, sms_rate_per_sender=0,
                                sms_send_timeout=2.0)  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    outbox = client.server.app[SMS].outbox
    ids = [await outbox.send(f"+2547110006{i:02d}", "Your code is 5150", idempotency_key=key)
           for i, key in enumerate(_keys_on_every_shard())]  # fmt: skip
    assert {keys.sms_shard_of(message_id) for message_id in ids} == set(range(keys.SMS_SHARDS))

    async def delivered() -> bool:
        records = [await outbox.get(message_id) or {} for message_id in ids]
        return all(record.get("status") == "delivered" for record in records)

    await eventually(delivered, within=30)
    assert len(fake_at.fake.requests) == 1, "one text: one call, whatever the shards"


async def test_a_report_for_a_linked_send_not_yet_recorded_waits_in_the_record(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """A worker linked AT's id and died before recording the send: the report is kept in the
    record (the message stays ``sending``), and applied when the resend is recorded."""
    message_id = await sms.outbox.send(KE, "Receipt 9")
    await aredis.hset(keys.sms_message(message_id), "status", "sending")
    await aredis.set(keys.sms_provider_id("ATXid_lost"), message_id)
    outcome, _ = await sms.outbox.apply_delivery_report("ATXid_lost", "delivered", "Success", "")
    assert outcome == "stashed"
    assert (await sms.outbox.get(message_id) or {})["status"] == "sending"
    await sms.worker.run_once()
    record = await sms.outbox.get(message_id) or {}
    assert record["status"] == "delivered"
    assert record["at_id"] == fake_at.fake.received[-1].provider_message_id
    assert not any(name.startswith("early_") for name in record)


async def _write_v1(
    aredis: Any, message_id: str, to: str, text: str, status: str, request: str = ""
) -> None:
    """A message as the outbox stored it before sharding, in the ``{sms}`` slot."""
    await aredis.hset(f"j:sms:m:{{sms}}:{message_id}", mapping={
        "id": message_id, "to": to, "text": text, "category": "transactional", "purpose": "",
        "sender": "", "status": status, "segments": 1, "encoding": "gsm7", "attempts": 0,
        "created": "1741176000.000", "due": 1741176000000, "subscriber": "p_v1",
        "country": "KE", "at_id": "", "cost": "", "reason": "", "updated": "1741176000.000",
        "request": request,
    })  # fmt: skip


async def test_the_layout_from_before_sharding_is_drained_and_reported_on(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """After an upgrade, messages queued in the one ``{sms}`` slot are sent, read by id, and a
    report for a message sent before the upgrade finds it through the old link."""
    await _write_v1(aredis, "m18f00000000aa", KE, "Queued before the upgrade", "queued")
    await aredis.xadd("j:sms:q:{sms}", {"id": "m18f00000000aa"})
    await _write_v1(aredis, "m18f00000000bb", KE, "Sent before the upgrade", "sent")
    await aredis.set("j:sms:at:{sms}:ATXid_old", "m18f00000000bb")
    await sms.worker.run_once()
    assert [r.message for r in fake_at.fake.received] == ["Queued before the upgrade"]
    assert (await sms.outbox.get("m18f00000000aa") or {})["status"] == "sent"
    outcome, _ = await sms.outbox.apply_delivery_report("ATXid_old", "delivered", "Success", "")
    assert outcome == "applied"
    assert (await sms.outbox.get("m18f00000000bb") or {})["status"] == "delivered"


async def test_an_idempotency_key_used_before_sharding_is_still_recognised(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """A keyed request repeated across the upgrade returns the message it made then, and is
    not sent again."""
    old_id = "k" + hashlib.sha256(b"api:v1-key").hexdigest()[:24]
    request = _fingerprint(KE, "Your code is 7001", "transactional", "promo_sms", None, None)
    await _write_v1(aredis, old_id, KE, "Your code is 7001", "sent", request)
    again = await sms.outbox.send(KE, "Your code is 7001", idempotency_key="api:v1-key")
    assert again == old_id
    await sms.worker.run_once()
    assert fake_at.fake.received == []


def test_the_shard_count_is_configuration() -> None:
    """``JUMBE_SMS_SHARDS``: 8 unless set; it must be positive."""
    assert from_env({}).sms.shards == keys.SMS_SHARDS == 8
    assert from_env({"JUMBE_SMS_SHARDS": "16"}).sms.shards == 16
    with pytest.raises(ConfigError, match="JUMBE_SMS_SHARDS"):
        from_env({"JUMBE_SMS_SHARDS": "0"})


async def test_more_shards_than_the_default_are_served(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """An outbox and a worker set to 16 shards: a message on shard 15 goes out."""
    outbox = Outbox(aredis, sms.ledger, sms.pseudonym, OutboxPolicy(shards=16), clock=sms.clock)
    key = next(f"wide-{i}" for i in range(1000)
               if keys.sms_shard_of(keyed_message_id(f"wide-{i}", 16)) == 15)  # fmt: skip
    message_id = await outbox.send(KE, "Receipt 16", idempotency_key=key)
    assert message_id.startswith("k15_")
    sender = AtSms("sandbox", "test-key", fake_at.url, timeout=2.0)
    worker = Worker(aredis, sender, sms.ledger, WorkerConfig(rate_per_sender=0, shards=16),
                    name="wide", clock=sms.clock)  # fmt: skip
    try:
        await worker.run_once()
    finally:
        worker.close()
    assert (await outbox.get(message_id) or {})["status"] == "sent"


async def test_an_entry_deleted_while_pending_is_acknowledged(
    sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """A restarted worker finds an entry of its own that was deleted meanwhile (settled by
    another worker): it is acknowledged in its shard, nothing is sent (on a Cluster, the old
    way named a record outside the shard's slot)."""
    message_id = await sms.outbox.send(KE, "Receipt 10")
    queue = keys.sms_queue(keys.sms_shard_of(message_id))
    await sms.worker.ensure_group()
    [batch] = await sms.worker.read(">", 1)
    await aredis.xdel(queue, batch.entries[0].entry_id)
    sender = AtSms("sandbox", "test-key", fake_at.url, timeout=2.0)
    restarted = Worker(aredis, sender, sms.ledger, WorkerConfig(rate_per_sender=0), name="t1",
                       clock=sms.clock)  # fmt: skip
    try:
        await restarted.run_once()
    finally:
        restarted.close()
    assert (await aredis.xpending(queue, keys.SMS_GROUP))["pending"] == 0
    assert fake_at.fake.received == []
