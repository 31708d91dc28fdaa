"""Retention is configuration: JUMBE_RETENTION_EVENTS_DAYS bounds end-of-session notifications
and the inbound and session-end streams, JUMBE_RETENTION_MESSAGES_DAYS the outbound records
(the only place a number is kept) after their final status."""

from __future__ import annotations

import time
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, eventually, hop
from sms_fixtures import FakeServer, fake_at_fixture

from gateway.config import from_env
from gateway.errors import ConfigError
from gateway.sms.runtime import SMS
from gateway.store import keys

__all__ = ["fake_at_fixture"]
DAY = 86400
PHONE = "+254711000555"


def _old_id(days: float) -> str:
    return f"{int((time.time() - days * DAY) * 1000)}-0"


async def _inbound(client: TestClient[Any, Any], text: str, at_id: str) -> None:
    response = await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "22384", "text": text, "id": at_id,
        "date": "2026-11-30 08:00:00", "networkCode": "63902", "linkId": "",
    })  # fmt: skip
    assert response.status == 200


async def test_events_are_kept_for_the_configured_days(
    make_gateway: GatewayFactory, redis_client: redis.Redis, fake_at: FakeServer
) -> None:
    """With 2 days for events and 3 for messages: a session-end notification expires in 2 days,
    stream entries older than 2 days go when the next one is added (newer ones stay), and a
    delivered message's record expires 3 days after its final status."""
    client = await make_gateway(retention_events_days=2, retention_messages_days=3,
                                at_base_url=fake_at.url, sms_rate_per_sender=0,
                                sms_send_timeout=2.0)  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    inbox, ends = keys.sms_inbox(), keys.ussd_ends_stream(keys.ussd_ends_shard("africastalking",
                                                                              "r1"))  # fmt: skip
    for stream in (inbox, ends):
        redis_client.xadd(stream, {"subscriber": "p_old"}, id=_old_id(3))
        redis_client.xadd(stream, {"subscriber": "p_recent"}, id=_old_id(1))
    await hop(client, "", session_id="r1", service_code="*384#", phone=PHONE)
    response = await client.post("/ussd/africastalking/events", data={
        "sessionId": "r1", "serviceCode": "*384#", "phoneNumber": PHONE, "networkCode": "63902",
        "status": "Incomplete", "date": "2026-11-30 08:00:00",
    })  # fmt: skip
    assert response.status == 200
    assert 1 * DAY < redis_client.ttl(keys.session_end("africastalking", "r1")) <= 2 * DAY
    await _inbound(client, "HELP", "in-r1")
    for stream in (inbox, ends):
        kept = [fields[b"subscriber"] for _, fields in redis_client.xrange(stream)]
        assert b"p_old" not in kept and b"p_recent" in kept, stream
        assert len(kept) == 2

    outbox = client.server.app[SMS].outbox
    message_id = await outbox.send(PHONE, "Receipt")

    async def delivered() -> bool:
        return (await outbox.get(message_id) or {}).get("status") == "delivered"

    await eventually(delivered, within=30)
    assert 2 * DAY < redis_client.ttl(keys.sms_message(message_id)) <= 3 * DAY


@pytest.mark.parametrize("value", ["0", "-1", "9999", "a week"])
def test_a_retention_that_makes_no_sense_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="JUMBE_RETENTION_EVENTS_DAYS"):
        from_env({"JUMBE_RETENTION_EVENTS_DAYS": value})


def test_defaults() -> None:
    retention = from_env({}).retention
    assert (retention.events_days, retention.messages_days) == (30, 30)
