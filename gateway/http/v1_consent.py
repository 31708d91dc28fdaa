"""``POST /v1/consent`` (import a decision) and ``GET /v1/consent/{msisdn}`` (audit), scope
``consent``.

Decisions go into the same ledger as STOP/START and AT's opt-outs, with channel ``api`` and the
number's country. Only the pseudonym is stored; answers never contain the number.
"""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web

from gateway.appkeys import PSEUDONYM
from gateway.consent import PURPOSES, Purpose
from gateway.consent.ledger import ConsentState
from gateway.errors import ApiError
from gateway.http.api import (
    ApiRoute,
    Call,
    bad_request,
    boolean,
    idempotency_key,
    iso_utc,
    json_response,
    msisdn,
    read_object,
    require,
    text,
)
from gateway.sms.countries import country_of
from gateway.sms.runtime import SMS

MAX_SOURCE = 200


async def record(request: web.Request, call: Call) -> web.Response:
    """``{"msisdn", "purpose", "granted", "source"}`` → 200 with that purpose's current state."""
    body = await read_object(request, ("msisdn", "purpose", "granted", "source"))
    require(body, "msisdn", "purpose", "granted", "source")
    number = msisdn(text(body, "msisdn", 32))
    purpose = _purpose(text(body, "purpose", 32))
    granted = boolean(body, "granted")
    source = text(body, "source", MAX_SOURCE).strip()
    if not source:
        raise bad_request("source: must not be empty (say where the decision was made)")
    subscriber = request.app[PSEUDONYM](number)
    state: Literal["granted", "revoked"] = "granted" if granted else "revoked"
    ledger = request.app[SMS].ledger
    changed = await ledger.record(
        subscriber, [purpose], state, source=source, channel="api",
        country=country_of(number).code, event_id=idempotency_key(request, call), msisdn=number,
    )  # fmt: skip
    current = await ledger.state(subscriber, purpose)
    call.log.update(subscriber=subscriber, purpose=purpose, state=state, changed=changed > 0)
    return json_response({"purpose": purpose, **_decision(current), "changed": changed > 0})


async def show(request: web.Request, call: Call) -> web.Response:
    """``{"purposes": {purpose: {granted, source, at}}, "history": [...]}``, recorded only."""
    subscriber = request.app[PSEUDONYM](msisdn(request.match_info["msisdn"]))
    ledger = request.app[SMS].ledger
    states = await ledger.states(subscriber)
    history = await ledger.history(subscriber)
    call.log.update(subscriber=subscriber)
    return json_response({
        "purposes": {purpose: _decision(state) for purpose, state in states.items()},
        "history": [_change(entry) for entry in history],
    })  # fmt: skip


def _decision(state: ConsentState) -> dict[str, Any]:
    return {"granted": state.state == "granted", "source": state.source, "at": iso_utc(state.at)}


def _change(entry: dict[str, str]) -> dict[str, Any]:
    return {
        "purpose": entry.get("purpose", ""),
        "granted": entry.get("state") == "granted",
        "source": entry.get("source", ""),
        "channel": entry.get("channel", ""),
        "at": iso_utc(float(entry.get("at") or 0)),
    }


def _purpose(value: str) -> Purpose:
    for purpose in PURPOSES:
        if value == purpose:
            return purpose
    raise ApiError(422, "invalid", f"purpose {value[:32]!r}: expected {', '.join(PURPOSES)}")


ROUTES = [
    ApiRoute("POST", "/v1/consent", "consent", record),
    ApiRoute("GET", "/v1/consent/{msisdn}", "consent", show),
]
