"""What every aggregator channel produces and consumes: the normalized types, and the helpers
that authorize and read a callback.

A channel (one package under ``gateway/channels/``) is the only code that knows an aggregator's
wire format: it parses requests into these types, and renders a ``Reply`` in its dialect (AT's
``CON``/``END`` text, Hubtel's JSON ``Type``, …). Everything else sees only these.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from gateway.config import Settings
from gateway.errors import BadRequest

T = TypeVar("T")


@dataclass(slots=True, init=False)
class Reply:
    """What the subscriber is shown: ``text``, and whether the session ends with it.

    Read-only by convention: not ``frozen``, whose ``__init__`` cost ~0.4 µs of each of the
    two or three made per hop. Its ``__init__`` is written out: the compiled build compiles
    it (the one ``dataclass`` makes stays interpreted)."""

    text: str
    end: bool

    def __init__(self, text: str, end: bool) -> None:
        self.text = text
        self.end = end


@dataclass(slots=True, init=False)
class UssdRequest:
    """One USSD hop, as every aggregator's request is normalized to. Read-only by convention:
    not ``frozen``, whose ``__init__`` cost 1.3 µs of every hop; ``__init__`` written out for the
    compiled build, as ``Reply``'s."""

    provider: str
    session_id: str
    phone_number: str
    service_code: str
    network_code: str
    text: str
    """Cumulative channels: the whole transcript (``1*2*5``); others: this hop's input."""
    cumulative: bool = True
    first: bool = False
    """The aggregator says this hop opens the session (AT: an empty ``text``)."""
    screen_overhead: int = 0
    """Characters of each screen the channel's wire format uses itself (AT: 4, for ``CON ``),
    taken off the screen budget so that what the subscriber reads always fits."""
    hop_id: str = ""
    """For non-cumulative channels: the aggregator's hop number (a retry repeats it)."""

    def __init__(
        self, provider: str, session_id: str, phone_number: str, service_code: str,
        network_code: str, text: str, cumulative: bool = True, first: bool = False,
        screen_overhead: int = 0, hop_id: str = "",
    ) -> None:  # fmt: skip
        self.provider = provider
        self.session_id = session_id
        self.phone_number = phone_number
        self.service_code = service_code
        self.network_code = network_code
        self.text = text
        self.cumulative = cumulative
        self.first = first
        self.screen_overhead = screen_overhead
        self.hop_id = hop_id


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
    ended_by: str = ""
    """``timeout`` or ``user`` when the aggregator says which ended the session (Hubtel's
    ``Timeout``/``Release``); empty when it does not (``gateway.funnel.drops`` infers it)."""


@dataclass(frozen=True, slots=True)
class InboundSms:
    """An SMS a subscriber sent to one of our numbers."""

    inbound_id: str
    phone_number: str
    to: str
    text: str
    link_id: str
    network_code: str
    date: str


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """An aggregator's report on one message. ``status`` is ours (``delivered``, ``failed``,
    …), or ``None`` for a word we do not know, which ``reported`` keeps verbatim."""

    provider_message_id: str
    status: str | None
    reported: str
    phone_number: str
    network_code: str
    failure_reason: str
    opted_out: bool
    """The aggregator says the subscriber blocked us, whatever the status."""


@dataclass(frozen=True, slots=True)
class OptOutNotice:
    """An aggregator's notice that a subscriber blocked a sender."""

    phone_number: str
    sender_id: str


@dataclass(frozen=True, slots=True)
class Accepted:
    """An aggregator accepted one message: its id (delivery reports quote it) and cost."""

    provider_message_id: str
    status_code: int
    cost: str


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
