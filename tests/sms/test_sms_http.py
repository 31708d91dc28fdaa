"""The SMS callbacks on the real app over HTTP, its worker sending through the SDK to the fake."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory
from sms_fixtures import FakeServer, eventually, fake_at_fixture

from gateway.errors import SendRefused
from gateway.privacy import pseudonymize
from gateway.sms.runtime import SMS

__all__ = ["fake_at_fixture"]

PHONE = "+254711000111"
KEY = b"test-pseudonym-key"


async def _gateway(
    make_gateway: GatewayFactory, fake_at: FakeServer, **overrides: Any
) -> TestClient[Any, Any]:
    client = await make_gateway(at_base_url=fake_at.url, sms_send_timeout=2.0,
                                sms_rate_per_sender=0, **overrides)  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    return client


async def _inbound(client: TestClient[Any, Any], text: str, at_id: str, phone: str = PHONE) -> int:
    response = await client.post("/sms/africastalking/inbound", data={
        "from": phone, "to": "22384", "text": text, "id": at_id, "date": "2025-03-05 12:00:00",
        "networkCode": "63902", "linkId": "",
    })  # fmt: skip
    return response.status


async def test_stop_records_opt_out_confirms_and_blocks_marketing_only(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """STOP → opt-out recorded, confirmation sent; a promotion is refused, a receipt goes out."""
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    subscriber = pseudonymize(KEY, PHONE)
    await sms.ledger.record(subscriber, ["promo_sms"], "granted", source="web", channel="web")
    assert await _inbound(client, " stop ", "ATXid_in1") == 200
    state = await sms.ledger.state(subscriber, "promo_sms")
    assert (state.state, state.source) == ("revoked", "keyword:STOP")
    with pytest.raises(SendRefused, match=r"opted out of promo_sms \(revoked via keyword:STOP"):
        await sms.outbox.send(PHONE, "Weekend deals", category="promotional")
    receipt = await sms.outbox.send(PHONE, "Receipt: KES 100 paid")

    async def both_arrived() -> bool:
        return len(fake_at.fake.received) == 2

    await eventually(both_arrived)
    # The worker sends concurrently: the two may reach AT in either order.
    texts = sorted(r.message for r in fake_at.fake.received)
    assert texts[0] == "Receipt: KES 100 paid"
    assert texts[1].startswith("You will no longer get marketing messages")

    async def delivered() -> bool:
        return (await sms.outbox.get(receipt) or {}).get("status") == "delivered"

    await eventually(delivered)
    history = await sms.ledger.history(subscriber)
    assert [(h["purpose"], h["state"]) for h in history][:2] == [
        ("promo_sms", "granted"), ("promo_sms", "revoked")]  # fmt: skip


async def test_inbound_retry_is_handled_once(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """AT re-sending the same inbound id gets 200 but no second reply."""
    client = await _gateway(make_gateway, fake_at)
    for _ in range(3):
        assert await _inbound(client, "offers", "ATXid_dup") == 200

    async def replied() -> bool:
        return len(fake_at.fake.received) >= 1

    await eventually(replied)
    assert await _inbound(client, "offers", "ATXid_other") == 200
    await eventually(lambda: _count(fake_at, 2))
    assert [r.message[:9] for r in fake_at.fake.received] == ["This week"] * 2


async def _count(fake_at: FakeServer, n: int) -> bool:
    return len(fake_at.fake.received) == n


async def test_start_keyword_grants_and_tags_and_starts_a_survey(
    make_gateway: GatewayFactory, fake_at: FakeServer, redis_client: Any
) -> None:
    """START grants consent; VIP tags the subscriber; SURVEY queues the start of survey nps."""
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    subscriber = pseudonymize(KEY, PHONE)
    assert await _inbound(client, "Start", "in-a") == 200
    assert (await sms.ledger.state(subscriber, "surveys")).state == "granted"
    assert await _inbound(client, "join vip", "in-b") == 200
    assert redis_client.smembers(f"j:tags:{{{subscriber}}}") == {b"vip"}
    assert await _inbound(client, "SURVEY", "in-c") == 200
    flows = redis_client.xrange("j:sms:flows:{inbox}")
    assert [(f[b"survey"], f[b"subscriber"].decode()) for _i, f in flows] == [(b"nps", subscriber)]


@pytest.mark.parametrize(("path", "form", "reason"), [
    ("inbound", {"from": PHONE, "text": "STOP"}, "missing field id"),
    ("inbound", {"text": "STOP", "id": "x"}, "missing field from"),
    ("delivery", {"status": "Success"}, "missing field id"),
    ("optout", {"senderId": "JUMBE"}, "missing field phoneNumber"),
])  # fmt: skip
async def test_bad_callbacks_get_400_with_reason(
    make_gateway: GatewayFactory,
    fake_at: FakeServer,
    path: str,
    form: dict[str, str],
    reason: str,
) -> None:
    """SMS callbacks we cannot use at all get a 400 naming the problem, never a 500."""
    client = await _gateway(make_gateway, fake_at)
    response = await client.post(f"/sms/africastalking/{path}", data=form)
    assert response.status == 400
    assert reason in await response.text()


async def test_callbacks_need_the_token_when_configured(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """With a callback token set, an SMS callback without it is refused with 403."""
    client = await make_gateway(at_base_url=fake_at.url, callback_token="s3cret")
    response = await client.post("/sms/africastalking/optout", data={"phoneNumber": PHONE})
    assert response.status == 403
    ok = await client.post("/sms/africastalking/optout", params={"token": "s3cret"},
                           data={"phoneNumber": PHONE, "senderId": "JUMBE"})  # fmt: skip
    assert ok.status == 200


async def test_optout_notification_blocks_marketing(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """AT's opt-out notification is recorded; the next promotion is refused."""
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    await sms.ledger.record(pseudonymize(KEY, PHONE), ["promo_sms"], "granted", source="t",
                            channel="web")  # fmt: skip
    response = await client.post("/sms/africastalking/optout",
                                 data={"phoneNumber": PHONE, "senderId": "JUMBE"})  # fmt: skip
    assert response.status == 200
    with pytest.raises(SendRefused, match="at_optout:JUMBE"):
        await sms.outbox.send(PHONE, "Deals", category="promotional")


async def test_delivery_reports_out_of_order_never_downgrade(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """Final report first, then Submitted: the message stays delivered."""
    fake_at.fake.out_of_order = True
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    message_id = await sms.outbox.send(PHONE, "Receipt 7")
    await eventually(lambda: _posted(fake_at, 2))

    async def delivered() -> bool:  # both reports may come before the send is recorded
        return (await sms.outbox.get(message_id) or {}).get("status") == "delivered"

    await eventually(delivered)
    record = await sms.outbox.get(message_id) or {}
    late = await client.post("/sms/africastalking/delivery", data={
        "id": record["at_id"], "status": "Buffered", "phoneNumber": PHONE})  # fmt: skip
    assert late.status == 200
    assert (await sms.outbox.get(message_id) or {})["status"] == "delivered"


async def _posted(fake_at: FakeServer, n: int) -> bool:
    return fake_at.fake.dlr_posted >= n


async def _settled(sms: Any, message_id: str, status: str) -> dict[str, str]:
    """The message's record once it has ``status`` (a report AT posts before the worker has
    recorded the send waits aside until it has: posted is not yet applied)."""

    async def reached() -> bool:
        return (await sms.outbox.get(message_id) or {}).get("status") == status

    await eventually(reached)
    return await sms.outbox.get(message_id) or {}


async def test_failed_delivery_keeps_reason_and_blacklist_opts_out(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """A Failed report with UserInBlackList keeps the reason and records an opt-out."""
    fake_at.fake.final_for[PHONE] = ("Failed", "UserInBlackList")
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    message_id = await sms.outbox.send(PHONE, "Receipt 8")
    await eventually(lambda: _posted(fake_at, 2))
    record = await _settled(sms, message_id, "failed")
    assert record["reason"] == "UserInBlackList"
    state = await sms.ledger.state(pseudonymize(KEY, PHONE), "ads")
    assert (state.state, state.source) == ("revoked", "at_dlr_UserInBlackList")


async def test_report_for_unknown_message_is_accepted(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """A report AT sends before (or without) our send record is answered 200 and kept aside."""
    client = await _gateway(make_gateway, fake_at)
    response = await client.post("/sms/africastalking/delivery",
                                 data={"id": "ATXid_unknown", "status": "Success"})  # fmt: skip
    assert response.status == 200


@pytest.mark.parametrize(("text", "phone", "confirmation"), [
    ("SITISHA", "+254711000121", "Hutapokea tena ujumbe wa matangazo kutoka Jumbe Demo."),
    ("acha tafadhali", "+254711000122", "Hutapokea tena ujumbe wa matangazo kutoka Jumbe Demo."),
    ("STOP", "+254711000123", "You will no longer get marketing messages from Jumbe Demo."),
])  # fmt: skip
async def test_stop_is_confirmed_in_the_language_of_the_word(
    make_gateway: GatewayFactory, fake_at: FakeServer, text: str, phone: str, confirmation: str
) -> None:
    """SITISHA is confirmed in Swahili, STOP in English: the text that reaches AT says so."""
    client = await _gateway(make_gateway, fake_at)  # menus/ holds the shipped keywords file
    assert await _inbound(client, text, f"ATXid_lang_{phone[-3:]}", phone=phone) == 200
    await eventually(lambda: _count(fake_at, 1))
    sent = fake_at.fake.received[0]
    assert (sent.to, sent.message.split("\n")[0][: len(confirmation)]) == (phone, confirmation)


@pytest.mark.parametrize("word", ["Expired", "AbsentSubscriber", "Queued", "Exploded"])
async def test_unknown_delivery_status_is_kept_and_a_later_final_still_applies(
    make_gateway: GatewayFactory, fake_at: FakeServer, word: str
) -> None:
    """A status word we do not know gets 200 (AT stops retrying), is kept verbatim, leaves the
    message non-final, and the final report that follows still settles it."""
    fake_at.fake.dlr_statuses = ("Submitted",)
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    message_id = await sms.outbox.send(PHONE, "Receipt 9")
    await eventually(lambda: _posted(fake_at, 1))
    at_id = (await _settled(sms, message_id, "submitted"))["at_id"]
    odd = await client.post("/sms/africastalking/delivery", data={
        "id": at_id, "status": word, "phoneNumber": "0711-000 111"})  # fmt: skip
    assert odd.status == 200
    record = await sms.outbox.get(message_id) or {}
    assert (record["status"], record["report"]) == ("submitted", word)
    final = await client.post("/sms/africastalking/delivery", data={
        "id": at_id, "status": "Success", "phoneNumber": PHONE})  # fmt: skip
    assert final.status == 200
    record = await sms.outbox.get(message_id) or {}
    assert (record["status"], record["report"]) == ("delivered", "Success")


async def test_blacklist_reason_opts_out_whatever_the_status(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """failureReason=UserInBlackList on a status we do not know still records the opt-out, for
    the subscriber the message went to."""
    client = await _gateway(make_gateway, fake_at)
    sms = client.server.app[SMS]
    message_id = await sms.outbox.send(PHONE, "Receipt 10")
    await eventually(lambda: _posted(fake_at, 2))
    at_id = (await _settled(sms, message_id, "delivered"))["at_id"]
    response = await client.post("/sms/africastalking/delivery", data={
        "id": at_id, "status": "Expired", "failureReason": "UserInBlackList"})  # fmt: skip
    assert response.status == 200
    state = await sms.ledger.state(pseudonymize(KEY, PHONE), "promo_sms")
    assert (state.state, state.source) == ("revoked", "at_dlr_UserInBlackList")


async def test_inbound_from_an_odd_sender_is_kept(
    make_gateway: GatewayFactory, fake_at: FakeServer, redis_client: Any
) -> None:
    """An inbound SMS whose sender is not E.164 is stored under its pseudonym, not refused;
    a STOP from it still opts that sender out (the reply cannot be sent and is skipped)."""
    client = await _gateway(make_gateway, fake_at)
    assert await _inbound(client, "STOP", "ATXid_odd", phone="Safaricom") == 200
    inbox = redis_client.xrange("j:sms:inbox:{inbox}")
    assert [e[b"subscriber"].decode() for _i, e in inbox] == [pseudonymize(KEY, "Safaricom")]
    state = await client.server.app[SMS].ledger.state(pseudonymize(KEY, "Safaricom"), "ads")
    assert state.state == "revoked"
