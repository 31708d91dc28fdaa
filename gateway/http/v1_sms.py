"""``POST /v1/sms`` (send, consent-checked) and ``GET /v1/sms/{id}`` (status), scope ``sms``.

A send goes through ``Outbox.send``, exactly like a send from Python: the same checks, the same
consent rules, the same queue. An ``Idempotency-Key`` header makes a client's retry return the
first message instead of sending a second one.
"""

from __future__ import annotations

import re
import time
from typing import Any

from aiohttp import web

from gateway.appkeys import PSEUDONYM
from gateway.errors import ApiError, NoConsent, SendRefused
from gateway.http.api import (
    ApiRoute,
    Call,
    idempotency_key,
    iso_utc,
    json_response,
    msisdn,
    read_object,
    require,
    text,
    timestamp,
)
from gateway.sms.outbox import Category
from gateway.sms.runtime import SMS

STATUSES = ("queued", "scheduled", "retrying", "sending", "sent", "submitted", "buffered",
            "delivered", "failed", "rejected", "refused", "dead")  # fmt: skip
"""Every status a message can have (DESIGN §4)."""
CATEGORIES: tuple[Category, ...] = ("transactional", "promotional")
MAX_AHEAD = 366 * 24 * 3600
"""How far ahead ``send_at`` may be (a scheduled message waits in Redis until then)."""
MAX_TEXT = 2000
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


async def send(request: web.Request, call: Call) -> web.Response:
    """``{"to", "text", "category", "send_at"?}`` → ``202 {"id", "status"}``."""
    body = await read_object(request, ("to", "text", "category", "send_at"))
    require(body, "to", "text", "category")
    to = msisdn(text(body, "to", 32), "to")
    message = text(body, "text", MAX_TEXT)
    category = _category(text(body, "category", 32))
    send_at = timestamp(body, "send_at")
    if send_at is not None and send_at > time.time() + MAX_AHEAD:
        raise ApiError(422, "invalid", "send_at is more than 366 days ahead")
    key = idempotency_key(request, call)
    sms = request.app[SMS]
    call.log.update(subscriber=request.app[PSEUDONYM](to), category=category)
    try:
        message_id = await sms.outbox.send(to, message, category=category, send_at=send_at,
                                           idempotency_key=key)  # fmt: skip
    except NoConsent as exc:
        raise ApiError(409, "refused", exc.reason) from None
    except SendRefused as exc:
        raise ApiError(422, "invalid", exc.reason) from None
    record = await sms.outbox.get(message_id) or {}
    status = record.get("status", "queued")
    call.log.update(message_id=message_id, message_status=status)
    return json_response({"id": message_id, "status": status}, 202)


async def status(request: web.Request, call: Call) -> web.Response:
    """``{"id", "status", "attempts", "segments", "category", …}``; never the number or text."""
    message_id = request.match_info["id"]
    record = None
    if _MESSAGE_ID.match(message_id):
        record = await request.app[SMS].outbox.get(message_id)
    if record is None:
        raise ApiError(404, "not_found", "no such message (unknown id, or expired 30 days after "
                       "its final status)")  # fmt: skip
    call.log.update(message_id=message_id)
    return json_response(describe(record))


def describe(record: dict[str, str]) -> dict[str, Any]:
    """The public view of a stored message: status, counts and times (ISO 8601 UTC)."""
    due_ms = _number(record.get("due"))
    return {
        "id": record.get("id", ""),
        "status": record.get("status", ""),
        "attempts": int(_number(record.get("attempts"))),
        "segments": int(_number(record.get("segments"))),
        "category": record.get("category", ""),
        "encoding": record.get("encoding", ""),
        "sender": record.get("sender") or None,
        "reason": record.get("reason") or None,
        "report": record.get("report") or None,
        "created": iso_utc(_number(record.get("created"))),
        "updated": iso_utc(_number(record.get("updated"))),
        "due": iso_utc(due_ms / 1000) if due_ms else None,
    }


def _number(raw: str | None) -> float:
    try:
        return float(raw or 0)
    except ValueError:
        return 0.0


def _category(value: str) -> Category:
    for category in CATEGORIES:
        if value == category:
            return category
    raise ApiError(422, "invalid", f"category {value[:32]!r}: expected transactional or "
                   "promotional")  # fmt: skip


ROUTES = [
    ApiRoute("POST", "/v1/sms", "sms", send),
    ApiRoute("GET", "/v1/sms/{id}", "sms", status),
]
