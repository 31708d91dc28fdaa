"""``POST /v1/rewards/earn``, ``POST /v1/rewards/redeem``, ``GET /v1/rewards/{msisdn}`` (scope
``rewards``) and ``GET /v1/reports/rewards`` (scope ``reports``: the reconciliation report).

Earn is idempotent by ``(source, source_id)``; redeem by its ``Idempotency-Key`` header (the
key names the redemption, so a retried call returns the first one and holds nothing twice).
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

from aiohttp import web

from gateway.errors import ApiError, RedeemRefused
from gateway.http.api import (
    ApiRoute,
    Call,
    bad_request,
    idempotency_key,
    iso_utc,
    json_response,
    msisdn,
    read_object,
    require,
    text,
    timestamp,
)
from gateway.rewards import daily
from gateway.rewards.runtime import REWARDS

MAX_POINTS = 10_000_000
_SOURCE = re.compile(r"^[^\n\x00]{1,200}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def _points(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad_request("points: expected a whole number")
    if value != int(value) or not 0 < value <= MAX_POINTS:
        raise ApiError(422, "invalid", f"points must be a whole number from 1 to {MAX_POINTS}")
    return int(value)


def _label(data: dict[str, Any], name: str) -> str:
    value = text(data, name, 200)
    if not _SOURCE.match(value) or not value.strip():
        raise ApiError(422, "invalid", f"{name}: 1 to 200 characters on one line")
    return value


async def earn(request: web.Request, call: Call) -> web.Response:
    """``{"msisdn", "points", "source", "source_id"}`` → ``200 {"entry", "balance"}``."""
    body = await read_object(request, ("msisdn", "points", "source", "source_id"))
    require(body, "msisdn", "points", "source", "source_id")
    number = msisdn(text(body, "msisdn", 32))
    points = _points(body["points"])
    source, source_id = _label(body, "source"), _label(body, "source_id")
    rewards = request.app[REWARDS]
    subscriber = rewards.pseudonym(number)
    call.log.update(subscriber=subscriber, points=points, source=source)
    earned = await rewards.earn(subscriber, points, source, source_id)
    call.log.update(entry=earned.entry, duplicate=not earned.new)
    return json_response({"entry": earned.entry, "balance": earned.balance})


async def redeem(request: web.Request, call: Call) -> web.Response:
    """``{"msisdn", "item", "language"?}`` → ``202 {"redemption", "state"}``, or 409
    ``{"error": "refused", "reason"}`` (nothing held), 404 unknown item, 422 not for this number."""
    body = await read_object(request, ("msisdn", "item", "language"))
    require(body, "msisdn", "item")
    number = msisdn(text(body, "msisdn", 32))
    item = text(body, "item", 64)
    language = text(body, "language", 3) if body.get("language") is not None else "en"
    if not _LANGUAGE.match(language):
        raise bad_request("language: a language code such as en or sw")
    rewards = request.app[REWARDS]
    call.log.update(subscriber=rewards.pseudonym(number), item=item)
    key = idempotency_key(request, call)
    redemption_id = "k" + hashlib.sha256(key.encode()).hexdigest()[:24] if key else None
    try:
        redemption, state = await rewards.redeem(number, item, language, redemption_id)
    except RedeemRefused as exc:
        error = {404: "not_found", 409: "refused"}.get(exc.status, "invalid")
        call.log.update(error=error, reason=exc.reason)
        return json_response({"error": error, "reason": exc.reason, "detail": exc.detail},
                             exc.status)  # fmt: skip
    call.log.update(redemption=redemption, state=state)
    return json_response({"redemption": redemption, "state": state}, 202)


def public(record: dict[str, str]) -> dict[str, Any]:
    """A redemption as the API shows it (never the number)."""
    value = float(record.get("value") or 0)
    return {
        "redemption": record.get("id", ""), "item": record.get("item", ""),
        "state": record.get("state", ""), "at": iso_utc(float(record.get("created") or 0)),
        "updated": iso_utc(float(record.get("updated") or 0)),
        "points": int(record.get("points") or 0), "label": record.get("label", ""),
        "kind": record.get("kind", ""),
        "airtime": {"amount": value, "currency": record.get("currency", "")}
        if record.get("kind") == "airtime" else None,
        "reason": record.get("reason") or None,
    }  # fmt: skip


async def account(request: web.Request, call: Call) -> web.Response:
    """``{"balance", "lots", "redemptions": [...]}`` (newest first); an unknown number has 0."""
    number = msisdn(request.match_info["msisdn"])
    rewards = request.app[REWARDS]
    call.log.update(subscriber=rewards.pseudonym(number))
    view = await rewards.view(number)
    lots = [{"lot": lot["lot"], "points": lot["points"], "left": lot["left"],
             "source": lot["source"], "earned_at": iso_utc(lot["earned_at"]),
             "expires_at": iso_utc(lot["expires_at"]) if lot["expires_at"] else None}
            for lot in view["lots"]]  # fmt: skip
    return json_response({"balance": view["balance"], "lots": lots,
                          "redemptions": [public(r) for r in view["redemptions"]]})  # fmt: skip


async def report(request: web.Request, call: Call) -> web.Response:
    """``?from=&to=`` (ISO 8601 or epoch seconds; default the last 24 h) → counts per state,
    airtime sent per currency, and every mismatch between AT's answers and the ledger."""
    query = dict(request.query)
    until = timestamp(query, "to") or time.time()
    since = timestamp(query, "from") or until - 86400
    if since >= until:
        raise bad_request("from must be before to")
    found = await daily.reconcile(request.app[REWARDS], since, until)
    return json_response({"from": iso_utc(since), "to": iso_utc(until), **found})


ROUTES = [
    ApiRoute("POST", "/v1/rewards/earn", "rewards", earn),
    ApiRoute("POST", "/v1/rewards/redeem", "rewards", redeem),
    ApiRoute("GET", "/v1/rewards/{msisdn}", "rewards", account),
    ApiRoute("GET", "/v1/reports/rewards", "reports", report),
]
