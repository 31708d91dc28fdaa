"""`POST /v1/sms` and `GET /v1/sms/{id}` over HTTP; the worker sends through the SDK to the fake."""

from __future__ import annotations

import socket
import time
from datetime import datetime
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory
from sms_fixtures import FakeServer, eventually, fake_at_fixture

from gateway.http.v1_sms import STATUSES

__all__ = ["fake_at_fixture"]

TOKEN = "api-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+254711000444"


async def _gateway(
    make_gateway: GatewayFactory, fake_at: FakeServer, **overrides: Any
) -> TestClient[Any, Any]:
    client = await make_gateway(**{"api_token": TOKEN, "at_base_url": fake_at.url,
                                    "sms_send_timeout": 2.0, "sms_rate_per_sender": 0,
                                    **overrides})  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    return client


async def _send(client: TestClient[Any, Any], body: dict[str, Any], **headers: str) -> Any:
    return await client.post("/v1/sms", headers={**AUTH, **headers}, json=body)


async def _answer(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


async def _status(client: TestClient[Any, Any], message_id: str) -> dict[str, Any]:
    return await _answer(await client.get(f"/v1/sms/{message_id}", headers=AUTH), 200)


async def test_a_receipt_is_accepted_sent_and_reported_delivered(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """A transactional SMS gets 202 queued, reaches AT, and GET shows delivered — no number."""
    client = await _gateway(make_gateway, fake_at)
    body = {"to": PHONE, "text": "Receipt: KES 100 paid", "category": "transactional"}
    accepted = await _answer(await _send(client, body), 202)
    assert accepted["status"] == "queued"
    await eventually(lambda: _delivered(client, accepted["id"]))
    assert [(r.to, r.message) for r in fake_at.fake.received] == [(PHONE, "Receipt: KES 100 paid")]
    record = await _status(client, accepted["id"])
    assert record["status"] in STATUSES
    assert {k: record[k] for k in ("id", "status", "attempts", "segments", "category")} == {
        "id": accepted["id"], "status": "delivered", "attempts": 1, "segments": 1,
        "category": "transactional"}  # fmt: skip
    assert record["report"] == "Success"  # AT's own word, verbatim
    assert datetime.fromisoformat(record["updated"]) >= datetime.fromisoformat(record["created"])
    assert record["created"].endswith("Z")
    assert "711000444" not in orjson.dumps(record).decode()
    assert "Receipt" not in orjson.dumps(record).decode()


async def _delivered(client: TestClient[Any, Any], message_id: str) -> bool:
    return (await _status(client, message_id))["status"] == "delivered"


async def test_a_promotion_without_consent_is_refused_with_409(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """In opt_in mode a promotion to someone who never agreed gets 409 refused, and is not sent."""
    client = await _gateway(make_gateway, fake_at)
    refused = await _answer(await _send(client, {
        "to": PHONE, "text": "Deals!", "category": "promotional"}), 409)  # fmt: skip
    assert refused == {"error": "refused", "reason": "no recorded consent for promo_sms"}


async def test_after_a_stop_promotions_get_409_and_receipts_still_go(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """opt_out mode: a promotion goes until the subscriber texts STOP; then 409, receipts 202."""
    opt_out = dict.fromkeys(("promo_sms", "ads", "surveys"), "opt_out")
    client = await _gateway(make_gateway, fake_at, consent_modes=opt_out)
    before = await _send(client, {"to": PHONE, "text": "Deals!", "category": "promotional"})
    assert (await _answer(before, 202))["status"] in ("queued", "scheduled")  # quiet hours
    await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "22384", "text": "STOP", "id": "ATXid_api_stop"})  # fmt: skip
    after = await _answer(await _send(client, {
        "to": PHONE, "text": "Deals!", "category": "promotional"}), 409)  # fmt: skip
    assert after["error"] == "refused"
    assert after["reason"].startswith("subscriber opted out of promo_sms (revoked via keyword:STOP")
    receipt = await _send(client, {"to": PHONE, "text": "Receipt 2", "category": "transactional"})
    assert (await _answer(receipt, 202))["status"] == "queued"


async def test_an_imported_grant_lets_a_promotion_through(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """After POST /v1/consent grants promo_sms, the same promotion is accepted (202)."""
    client = await _gateway(make_gateway, fake_at, sms_worker=False)
    await client.post("/v1/consent", headers=AUTH, json={
        "msisdn": PHONE, "purpose": "promo_sms", "granted": True, "source": "crm"})  # fmt: skip
    accepted = await _answer(await _send(client, {
        "to": "254711000444", "text": "Deals!", "category": "promotional"}), 202)  # fmt: skip
    assert (await _status(client, accepted["id"]))["category"] == "promotional"


@pytest.mark.parametrize("send_at", [
    "2999-01-01T09:00:00+03:00", "2999-01-01T06:00:00Z",
])  # fmt: skip
async def test_far_future_send_at_is_refused(
    make_gateway: GatewayFactory, fake_at: FakeServer, send_at: str
) -> None:
    """A send_at more than a year ahead gets 422 instead of sitting in Redis for centuries."""
    client = await _gateway(make_gateway, fake_at, sms_worker=False)
    body = {"to": PHONE, "text": "Later", "category": "transactional", "send_at": send_at}
    answer = await _answer(await _send(client, body), 422)
    assert answer == {"error": "invalid", "reason": "send_at is more than 366 days ahead"}


@pytest.mark.parametrize("form", ["iso", "epoch"])
async def test_a_later_send_is_scheduled_and_not_sent_yet(
    make_gateway: GatewayFactory, fake_at: FakeServer, form: str
) -> None:
    """send_at an hour ahead (ISO with offset or epoch seconds) → 202 scheduled, due then."""
    client = await _gateway(make_gateway, fake_at)
    due = int(time.time()) + 3600
    send_at: Any = due if form == "epoch" else datetime.fromtimestamp(due).astimezone().isoformat()
    body = {"to": PHONE, "text": "Reminder", "category": "transactional", "send_at": send_at}
    accepted = await _answer(await _send(client, body), 202)
    assert accepted["status"] == "scheduled"
    record = await _status(client, accepted["id"])
    assert (record["status"], record["attempts"]) == ("scheduled", 0)
    assert datetime.fromisoformat(record["due"]).timestamp() == due
    assert fake_at.fake.received == []


async def test_a_retry_with_the_same_idempotency_key_gets_the_same_message(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """The same Idempotency-Key twice → the same id, one SMS; reused for other text → 422."""
    client = await _gateway(make_gateway, fake_at)
    body = {"to": PHONE, "text": "Your code is 4821", "category": "transactional"}
    first = await _answer(await _send(client, body, **{"Idempotency-Key": "otp-1"}), 202)
    again = await _answer(await _send(client, body, **{"Idempotency-Key": "otp-1"}), 202)
    assert again["id"] == first["id"]
    await eventually(lambda: _delivered(client, first["id"]))
    assert len(fake_at.fake.received) == 1
    other = {**body, "text": "Your code is 9999"}
    reused = await _answer(await _send(client, other, **{"Idempotency-Key": "otp-1"}), 422)
    assert reused["reason"] == "this idempotency key was already used for a different message"
    fresh = await _answer(await _send(client, body), 202)
    assert fresh["id"] != first["id"]


@pytest.mark.parametrize(("body", "reason"), [
    ({"to": PHONE, "text": "   ", "category": "transactional"}, "empty message"),
    ({"to": PHONE, "text": "x" * 1000, "category": "transactional"},
     "message needs 7 SMS segments (gsm7); the maximum is 6"),
    ({"to": PHONE, "text": "hi", "category": "marketing"},
     "category 'marketing': expected transactional or promotional"),
])  # fmt: skip
async def test_messages_we_cannot_send_get_422_with_the_reason(
    make_gateway: GatewayFactory, fake_at: FakeServer, body: dict[str, Any], reason: str
) -> None:
    """An empty text, one too long, or an unknown category gets 422 invalid with the reason."""
    client = await _gateway(make_gateway, fake_at, sms_worker=False)
    assert await _answer(await _send(client, body), 422) == {"error": "invalid", "reason": reason}


@pytest.mark.parametrize("message_id", ["m0000000000000000", "no such id", "x" * 100])
async def test_an_unknown_message_id_gets_404(
    make_gateway: GatewayFactory, fake_at: FakeServer, message_id: str
) -> None:
    """GET of an id that was never sent (or a malformed one) answers 404 not_found."""
    client = await _gateway(make_gateway, fake_at, sms_worker=False)
    response = await client.get(f"/v1/sms/{message_id}", headers=AUTH)
    assert (await _answer(response, 404))["error"] == "not_found"


async def test_a_redis_outage_gets_503_not_500(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """With Redis unreachable a send answers 503 unavailable, so the client knows to retry."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket is closed
    client = await _gateway(
        make_gateway, fake_at, sms_worker=False, redis_url=f"redis://127.0.0.1:{port}/0",
        prepare_data=False,
    )  # fmt: skip
    body = {"to": PHONE, "text": "Receipt", "category": "transactional"}
    answer = await _answer(await _send(client, body), 503)
    assert answer["error"] == "unavailable"
