"""``jumbe_sms_messages_total{status}`` on ``/metrics``: a message through the real SDK and the
fake AT counts queued, sent and delivered once each."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, eventually
from prometheus_client.parser import text_string_to_metric_families
from sms_fixtures import FakeServer, fake_at_fixture

from gateway.sms.runtime import SMS

__all__ = ["fake_at_fixture"]


async def _statuses(client: TestClient[Any, Any]) -> dict[str, float]:
    text = await (await client.get("/metrics")).text()
    return {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "jumbe_sms_messages_total"
    }


async def test_messages_are_counted_by_status(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    client = await make_gateway(at_base_url=fake_at.url, sms_rate_per_sender=0,
                                sms_send_timeout=2.0)  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    outbox = client.server.app[SMS].outbox
    before = await _statuses(client)
    message_id = await outbox.send("+254711000777", "Receipt")

    async def delivered() -> bool:
        return (await outbox.get(message_id) or {}).get("status") == "delivered"

    await eventually(delivered, within=30)  # a loaded CI machine may need a retry
    after = await _statuses(client)
    added = {s: after.get(s, 0.0) - before.get(s, 0.0) for s in ("queued", "sent", "delivered")}
    assert added == {"queued": 1, "sent": 1, "delivered": 1}
