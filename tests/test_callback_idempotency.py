"""A callback that fails while Redis stalls is processed in full when the aggregator retries.

Redis is paused with SIGSTOP: it still accepts the commands, the gateway gives up and answers
503, and Redis applies what it received once it resumes. The retry must still do everything:
an "already seen" marker may only become final together with the work it guards.
"""

from __future__ import annotations

import asyncio
from typing import Any

import redis
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, RedisProcess

from gateway.privacy import pseudonymize

KEY = b"test-pseudonym-key"
PHONE = "+254711000222"


async def _stalled_then_retried(
    own_redis: RedisProcess, client: TestClient[Any, Any], path: str, form: dict[str, str]
) -> tuple[int, int]:
    """POST ``form`` while Redis stalls, let Redis resume, POST it again: both statuses."""
    assert (await client.get("/readyz")).status == 200  # a pooled connection, as in production
    own_redis.pause()
    try:
        first = await client.post(path, data=form)
    finally:
        own_redis.resume()
    await asyncio.sleep(0.3)  # Redis works through what the first attempt sent
    second = await client.post(path, data=form)
    return first.status, second.status


async def test_stop_sent_during_a_redis_stall_is_recorded_when_retried(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """A STOP that got 503 during a stall opts the subscriber out on AT's retry, once."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=0.5, sms_worker=False)
    form = {"from": PHONE, "to": "22384", "text": "STOP", "id": "ATXid_stall1",
            "date": "2026-11-30 10:00:00", "networkCode": "63902"}  # fmt: skip
    statuses = await _stalled_then_retried(own_redis, client, "/sms/africastalking/inbound", form)
    assert statuses == (503, 200)
    assert (await client.post("/sms/africastalking/inbound", data=form)).status == 200
    store = redis.Redis.from_url(own_redis.url)
    subscriber = pseudonymize(KEY, PHONE)
    consent = store.hget(f"j:c:{{{subscriber}}}", "promo_sms") or b""
    assert consent.startswith(b"revoked|")
    assert store.xlen(f"j:c:h:{{{subscriber}}}") == 3, "one history entry per purpose"
    confirmations = [k for k in store.scan_iter("j:sms:m:*")]
    assert len(confirmations) == 1, "one STOP confirmation, however many attempts"
    inbox = store.xrange("j:sms:inbox:{inbox}")
    assert [entry[b"id"] for _id, entry in inbox] == [b"ATXid_stall1"]


async def test_session_end_retried_after_a_stall_is_kept_once(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """AT's end-of-session notification retried after a stall gives one stream entry."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=0.5, sms_worker=False)
    form = {"sessionId": "ATUid_stall", "serviceCode": "*384#", "networkCode": "63902",
            "phoneNumber": PHONE, "status": "Incomplete", "durationInMillis": "4000",
            "hopsCount": "2", "date": "2026-11-30 10:00:00"}  # fmt: skip
    statuses = await _stalled_then_retried(own_redis, client, "/ussd/africastalking/events", form)
    assert statuses == (503, 200)
    store = redis.Redis.from_url(own_redis.url)
    entries = [
        fields
        for key in store.scan_iter("j:ussd:ends*")
        for _id, fields in store.xrange(key)
        if fields[b"session_id"] == b"ATUid_stall"
    ]
    assert len(entries) == 1


async def test_blacklisted_delivery_report_retried_after_a_stall_opts_out(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """A UserInBlackList report that got 503 records the opt-out when AT retries it."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=0.5, sms_worker=False)
    form = {"id": "ATXid_unknown1", "status": "Failed", "phoneNumber": PHONE,
            "failureReason": "UserInBlackList", "networkCode": "63902"}  # fmt: skip
    statuses = await _stalled_then_retried(own_redis, client, "/sms/africastalking/delivery", form)
    assert statuses == (503, 200)
    store = redis.Redis.from_url(own_redis.url)
    consent = store.hget(f"j:c:{{{pseudonymize(KEY, PHONE)}}}", "ads") or b""
    assert consent.startswith(b"revoked|")


async def test_opt_out_notice_retried_after_a_stall_records_one_change(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """AT's bulk opt-out notification retried after a stall: opted out, history not doubled."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=0.5, sms_worker=False)
    form = {"senderId": "JUMBE", "phoneNumber": PHONE}
    statuses = await _stalled_then_retried(own_redis, client, "/sms/africastalking/optout", form)
    assert statuses == (503, 200)
    store = redis.Redis.from_url(own_redis.url)
    subscriber = pseudonymize(KEY, PHONE)
    assert (store.hget(f"j:c:{{{subscriber}}}", "surveys") or b"").startswith(b"revoked|")
    assert store.xlen(f"j:c:h:{{{subscriber}}}") == 3
