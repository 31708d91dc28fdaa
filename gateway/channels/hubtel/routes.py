"""Hubtel's callback: one route for every hop and for the session's end.

Initiation and Response are hops, answered by the hop pipeline (which writes the canonical
``ussd_hop`` line and never raises). Release and Timeout end the session: the end-of-session
notification is stored once, like Africa's Talking's separate one, and answered with a Release.
AddToCart (Hubtel's checkout, which Jumbe never starts) changes nothing and shows the current
screen again. Whatever fails, Hubtel gets JSON: 400/403 for a refused callback, 503 when an end
cannot be stored yet, and otherwise a readable Release — never a 500.
"""

from __future__ import annotations

import time

import orjson
from aiohttp import hdrs, web
from multidict import CIMultiDict

from gateway import logs
from gateway.appkeys import PIPELINE, PSEUDONYM, SESSION_ENDS, SETTINGS
from gateway.channels.base import Refusal, Reply, UssdRequest, read_callback
from gateway.channels.hubtel import PROVIDER, ussd
from gateway.errors import StoreError
from gateway.funnel.drops import drop

log = logs.get_logger("gateway.hubtel")

_JSON = CIMultiDict({hdrs.CONTENT_TYPE: "application/json"})
"""The header ``web.Response(content_type="application/json")`` sends, built once: the same
bytes on the wire, less work per response (tests/channels/test_response_bytes.py)."""
_REFUSED = {400: ("bad_request", "Bad request"), 403: ("forbidden", "Unauthorized")}


def add_routes(app: web.Application) -> None:
    app.router.add_post("/ussd/hubtel", ussd_callback)


def _json(body: bytes, status: int = 200) -> web.Response:
    return web.Response(status=status, body=body, headers=_JSON)


def _refuse(request: web.Request, refusal: Refusal) -> web.Response:
    """A refused callback: the status, Hubtel's Release naming the reason, and ``error`` and
    ``reason`` for whoever reads it."""
    log.warning("callback_refused", path=request.path, status=refusal.status, reason=refusal.reason)
    error, title = _REFUSED.get(refusal.status, ("refused", "Refused"))
    fields = ussd.reply_fields(Reply(f"{title}: {refusal.reason}", end=True), "", "")
    body = orjson.dumps({**fields, "error": error, "reason": refusal.reason})
    return _json(body, refusal.status)


async def ussd_callback(request: web.Request) -> web.Response:
    """One Hubtel callback: JSON in, JSON out."""
    app = request.app
    callback = await read_callback(request, app[SETTINGS], ussd.parse)
    if isinstance(callback, Refusal):
        return _refuse(request, callback)
    hop = callback.hop
    if callback.kind == ussd.HOP:
        status, reply = 200, (await app[PIPELINE].answer(hop)).reply
    else:
        try:
            status, reply = await _not_a_hop(app, callback)
        except Exception:  # the boundary: Hubtel always gets a readable Release
            log.exception("hubtel_callback_crashed", session_id=hop.session_id, kind=callback.kind)
            status, reply = 200, _failure(app, hop, "crash")
    return _json(ussd.render(reply, hop.session_id, callback.client_state), status)


async def _not_a_hop(app: web.Application, callback: ussd.Callback) -> tuple[int, Reply]:
    """Release, Timeout or AddToCart: nothing moves in the menu."""
    hop = callback.hop
    try:
        seen = await app[PIPELINE].peek(hop.provider, hop.session_id)
    except StoreError as exc:
        log.error("hubtel_session_unreadable", session_id=hop.session_id, error=str(exc))
        return (200 if callback.kind == ussd.CART else 503), _failure(app, hop, "store_unavailable")
    if callback.kind == ussd.CART:
        log.warning("hubtel_not_a_hop", session_id=hop.session_id, kind=callback.kind)
        return 200, seen.reply if seen is not None else _failure(app, hop, "no_session")
    end = ussd.session_end(callback, seen)
    subscriber = app[PSEUDONYM](end.phone_number)
    now = time.time()
    dropped = drop(end, seen, now, app[SETTINGS].funnel_idle_timeout)
    try:
        stored = await app[SESSION_ENDS].store(end, subscriber, dropped, now)
    except StoreError as exc:
        log.error("ussd_session_end_not_stored", session_id=end.session_id, error=str(exc))
        return 503, _failure(app, hop, "store_unavailable")
    log.info("ussd_session_end", channel=PROVIDER, session_id=end.session_id, status=end.status,
             reason=callback.kind, duration_ms=end.duration_ms, hops=end.hops,
             subscriber=subscriber, duplicate=not stored)  # fmt: skip
    return 200, Reply(end.last_response, end=True)


def _failure(app: web.Application, hop: UssdRequest, outcome: str) -> Reply:
    """The readable error END the pipeline gives, in the menu's default language."""
    pipeline = app[PIPELINE]
    resolved = pipeline.registry.resolve(hop.service_code)
    return pipeline.failure(hop, resolved, outcome, "error").reply
