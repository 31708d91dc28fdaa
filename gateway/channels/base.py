"""Normalized requests every aggregator adapter produces, and small shared helpers."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from gateway.config import Settings
from gateway.errors import BadRequest

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class UssdRequest:
    """One USSD hop, as every aggregator's request is normalized to."""

    provider: str
    session_id: str
    phone_number: str
    service_code: str
    network_code: str
    text: str
    """AT-style aggregators: the cumulative transcript (``1*2*5``); others: this hop's input."""
    cumulative: bool = True


@dataclass(frozen=True, slots=True)
class UssdSessionEnd:
    """The aggregator's end-of-session notification."""

    provider: str
    session_id: str
    phone_number: str
    service_code: str
    network_code: str
    status: str
    """``success`` | ``incomplete`` | ``failed`` (lower-cased from the aggregator's word)."""
    duration_ms: int | None
    hops: int | None
    last_response: str
    error_message: str
    date: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a callback is not processed: 403 (auth) or 400 (malformed), with a reason."""

    status: int
    reason: str


async def read_callback(
    request: web.Request, settings: Settings, parse: Callable[[bytes], T]
) -> T | Refusal:
    """Authorize a callback, read its body and parse it; a ``Refusal`` says why not."""
    denied = authorize(request, settings)
    if denied:
        return Refusal(403, denied)
    try:
        return parse(await request.read())
    except BadRequest as exc:
        return Refusal(400, str(exc))


def authorize(request: web.Request, settings: Settings) -> str | None:
    """``None`` when the callback may proceed, else the reason it may not."""
    if settings.allowed_ips and request.remote not in settings.allowed_ips:
        return "source address not allowed"
    token = settings.callback_token
    if token is None:
        return None
    given = request.query.get("token", "")
    if not hmac.compare_digest(given.encode(), token.encode()):
        return "missing or wrong token"
    return None
