"""`POST /v1/consent` and `GET /v1/consent/{msisdn}`: a brand CRM imports and audits consent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory

from gateway.errors import NoConsent
from gateway.privacy import pseudonymize
from gateway.sms.runtime import SMS

TOKEN = "api-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+254711000333"


async def _gateway(make_gateway: GatewayFactory, **overrides: Any) -> TestClient[Any, Any]:
    return await make_gateway(**{"api_token": TOKEN, "sms_worker": False, **overrides})


async def _post(client: TestClient[Any, Any], body: dict[str, Any], **headers: str) -> Any:
    return await client.post("/v1/consent", headers={**AUTH, **headers}, json=body)


async def _get(client: TestClient[Any, Any], number: str = PHONE) -> dict[str, Any]:
    response = await client.get(f"/v1/consent/{number}", headers=AUTH)
    assert response.status == 200
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


def _utc(text: str) -> datetime:
    assert text.endswith("Z")
    return datetime.fromisoformat(text)


async def test_an_unknown_number_has_no_recorded_consent(make_gateway: GatewayFactory) -> None:
    """A number Jumbe never heard of answers exactly {"purposes": {}, "history": []}."""
    client = await _gateway(make_gateway)
    assert await _get(client) == {"purposes": {}, "history": []}


async def test_an_imported_grant_is_answered_and_then_audited(make_gateway: GatewayFactory) -> None:
    """POST records a grant (200, its current state); GET shows only that purpose, and history."""
    client = await _gateway(make_gateway)
    response = await _post(client, {"msisdn": PHONE, "purpose": "promo_sms", "granted": True,
                                    "source": "crm-import-2025-03"})  # fmt: skip
    assert response.status == 200
    answer = orjson.loads(await response.read())
    assert answer["purpose"] == "promo_sms"
    assert (answer["granted"], answer["source"], answer["changed"]) == (
        True, "crm-import-2025-03", True)  # fmt: skip
    _utc(answer["at"])
    audit = await _get(client)
    assert list(audit) == ["purposes", "history"]
    assert list(audit["purposes"]) == ["promo_sms"]  # ads and surveys were never decided
    assert audit["purposes"]["promo_sms"] == {"granted": True, "source": "crm-import-2025-03",
                                              "at": answer["at"]}  # fmt: skip
    assert audit["history"] == [{"purpose": "promo_sms", "granted": True,
                                 "source": "crm-import-2025-03", "channel": "api",
                                 "at": answer["at"]}]  # fmt: skip
    assert "254711000333" not in orjson.dumps(audit).decode()


async def test_an_imported_grant_lets_promotions_go_and_a_revocation_stops_them(
    make_gateway: GatewayFactory,
) -> None:
    """Granted through the API, a promotion is accepted; revoked, it is refused (opt_in mode)."""
    client = await _gateway(make_gateway)
    outbox = client.server.app[SMS].outbox
    with pytest.raises(NoConsent, match="no recorded consent"):
        await outbox.send(PHONE, "Deals", category="promotional")
    await _post(client, {"msisdn": "254711000333", "purpose": "promo_sms", "granted": True,
                         "source": "web-form"})  # fmt: skip
    assert await outbox.send(PHONE, "Deals", category="promotional")
    response = await _post(client, {"msisdn": PHONE, "purpose": "promo_sms", "granted": False,
                                    "source": "call-centre"})  # fmt: skip
    assert orjson.loads(await response.read())["granted"] is False
    with pytest.raises(NoConsent, match="opted out of promo_sms"):
        await outbox.send(PHONE, "Deals", category="promotional")


async def test_recording_keeps_country_and_channel_in_the_ledger(
    make_gateway: GatewayFactory,
) -> None:
    """The ledger keeps channel api and the number's country (KE for +254)."""
    client = await _gateway(make_gateway)
    await _post(client, {"msisdn": PHONE, "purpose": "surveys", "granted": True, "source": "app"})
    history = await client.server.app[SMS].ledger.history(
        pseudonymize(b"test-pseudonym-key", PHONE)
    )
    assert [(h["channel"], h["country"], h["state"]) for h in history] == [("api", "KE", "granted")]


async def test_a_texted_stop_shows_in_the_audit_with_every_purpose(
    make_gateway: GatewayFactory,
) -> None:
    """After the subscriber texts STOP, GET shows all three purposes revoked via keyword:STOP."""
    client = await _gateway(make_gateway)
    await _post(client, {"msisdn": PHONE, "purpose": "ads", "granted": True, "source": "crm"})
    inbound = await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "22384", "text": "STOP", "id": "ATXid_stop1"})  # fmt: skip
    assert inbound.status == 200
    audit = await _get(client, "254711000333")
    assert {p: (d["granted"], d["source"]) for p, d in audit["purposes"].items()} == {
        "ads": (False, "keyword:STOP"), "promo_sms": (False, "keyword:STOP"),
        "surveys": (False, "keyword:STOP")}  # fmt: skip
    assert [(h["purpose"], h["granted"], h["channel"]) for h in audit["history"]] == [
        ("ads", True, "api"), ("promo_sms", False, "sms"), ("ads", False, "sms"),
        ("surveys", False, "sms")]  # fmt: skip


async def test_the_same_decision_twice_changes_nothing(make_gateway: GatewayFactory) -> None:
    """Re-importing an unchanged decision answers changed=false and adds no history."""
    client = await _gateway(make_gateway)
    body = {"msisdn": PHONE, "purpose": "ads", "granted": True, "source": "crm"}
    first = orjson.loads(await (await _post(client, body)).read())
    again = orjson.loads(await (await _post(client, body)).read())
    assert (first["changed"], again["changed"]) == (True, False)
    assert len((await _get(client))["history"]) == 1


async def test_a_retried_import_never_overrides_a_later_decision(
    make_gateway: GatewayFactory,
) -> None:
    """With Idempotency-Key, a late retry of an old grant is ignored after the subscriber's STOP."""
    client = await _gateway(make_gateway)
    grant = {"msisdn": PHONE, "purpose": "promo_sms", "granted": True, "source": "crm"}
    assert (await _post(client, grant, **{"Idempotency-Key": "row-17"})).status == 200
    await client.post("/sms/africastalking/inbound", data={
        "from": PHONE, "to": "22384", "text": "STOP", "id": "ATXid_stop2"})  # fmt: skip
    retry = await _post(client, grant, **{"Idempotency-Key": "row-17"})
    assert retry.status == 200
    answer = orjson.loads(await retry.read())
    assert (answer["granted"], answer["source"], answer["changed"]) == (
        False, "keyword:STOP", False)  # fmt: skip


@pytest.mark.parametrize(("body", "status", "reason"), [
    ({"msisdn": PHONE, "purpose": "sms", "granted": True, "source": "crm"}, 422,
     "purpose 'sms': expected promo_sms, ads, surveys"),
    ({"msisdn": PHONE, "purpose": "ads", "granted": "yes", "source": "crm"}, 400,
     "granted: expected true or false, got string"),
    ({"msisdn": PHONE, "purpose": "ads", "granted": 1, "source": "crm"}, 400,
     "granted: expected true or false, got number"),
    ({"msisdn": PHONE, "purpose": "ads", "granted": True, "source": "  "}, 400,
     "source: must not be empty"),
    ({"msisdn": PHONE, "purpose": "ads", "granted": True}, 400, "missing field(s) source"),
    ({"msisdn": "+0711", "purpose": "ads", "granted": True, "source": "crm"}, 400,
     "msisdn is not an E.164 number"),
])  # fmt: skip
async def test_bad_imports_say_what_is_wrong(
    make_gateway: GatewayFactory, body: dict[str, Any], status: int, reason: str
) -> None:
    """A bad field gets 400 (wrong type, missing) or 422 (unknown purpose) with the reason."""
    client = await _gateway(make_gateway)
    response = await _post(client, body)
    assert response.status == status
    answer = orjson.loads(await response.read())
    assert reason in answer["reason"]
    assert answer["error"] == ("invalid" if status == 422 else "bad_request")
