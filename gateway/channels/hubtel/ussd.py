"""Hubtel USSD: parse a JSON callback into a ``Callback``; render a ``Reply`` as Hubtel's JSON.

Facts (../shared/reference/protocols.md §5, Programmable Services and the legacy USSD API):
a JSON POST with ``Type`` (Initiation / Response / Release / Timeout / AddToCart, in any case),
``Message`` (the latest input only; on Initiation the dialled string, ``*713*2#``),
``Sequence`` (the hop number; a retry repeats it), ``ClientState``, ``Mobile``
(``233244000000``), ``SessionId``, ``ServiceCode`` (``713`` for ``*713#``) and ``Operator``.
The reply is JSON ``SessionId, Type (Response | Release), Message, Label, DataType, FieldType,
ClientState``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from gateway.channels.base import Reply, UssdRequest, UssdSessionEnd
from gateway.channels.hubtel import PROVIDER, SCREEN_OVERHEAD
from gateway.errors import BadRequest

if TYPE_CHECKING:
    from gateway.hops.result import SessionView

HOP, RELEASE, TIMEOUT, CART = "hop", "release", "timeout", "cart"
_KINDS = {
    "initiation": HOP, "response": HOP, "release": RELEASE, "timeout": TIMEOUT,
    "addtocart": CART,
}  # fmt: skip
"""Hubtel's ``Type`` (lower-cased) → what the callback is to us."""

LIMITS = {
    "SessionId": 128, "Mobile": 32, "Type": 16, "ServiceCode": 64, "Operator": 32,
    "Sequence": 10, "ClientState": 512, "Message": 4000,
}  # fmt: skip
"""Longest accepted fields, in characters; longer → 400 naming the field, before any work."""

LABEL_MAX = 40
"""``Label`` is the first line of the screen, cut to this many characters (Hubtel's apps show it
as the page title; phones ignore it)."""

_PHONE = re.compile(r"\+?[0-9]{6,15}")
_DIALLED = re.compile(r"\*[0-9*]+#")


@dataclass(frozen=True, slots=True)
class Callback:
    """One Hubtel callback: what it is, the hop it describes, and the state to echo back."""

    kind: str
    """``hop`` (Initiation, Response), ``release``, ``timeout`` or ``cart`` (AddToCart)."""
    hop: UssdRequest
    client_state: str


def parse(body: bytes) -> Callback:
    """Parse one callback; raises ``BadRequest`` with a reason when the body cannot be used."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise BadRequest("body is not JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("body is not a JSON object")
    fields = _fields(data)
    type_word = _required(fields, "Type")
    kind = _KINDS.get(type_word.lower())
    if kind is None:
        raise BadRequest("Type is not Initiation, Response, Release, Timeout or AddToCart")
    first = type_word.lower() == "initiation"
    hop = UssdRequest(
        provider=PROVIDER,
        session_id=_required(fields, "SessionId"),
        phone_number=_phone(_required(fields, "Mobile")),
        service_code=_service_code(fields, first),
        network_code=fields.get("Operator", "").strip().lower(),
        text="" if first else fields.get("Message", ""),
        cumulative=False,
        first=first,
        screen_overhead=SCREEN_OVERHEAD,
        hop_id=_sequence(fields.get("Sequence", "")),
    )
    return Callback(kind, hop, fields.get("ClientState", ""))


def _fields(data: dict[str, Any]) -> dict[str, str]:
    """The fields we read, as strings (a number is taken as its digits; ``null`` as absent),
    each checked against its limit before anything looks at its value."""
    fields: dict[str, str] = {}
    for name, limit in LIMITS.items():
        value = data.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise BadRequest(f"{name} is not text or a whole number")
        text = value if isinstance(value, str) else str(value)
        if len(text) > limit:
            raise BadRequest(f"{name} longer than {limit} characters")
        fields[name] = text
    return fields


def _required(fields: dict[str, str], name: str) -> str:
    value = fields.get(name, "").strip()
    if not value:
        raise BadRequest(f"missing field {name}")
    return value


def _phone(mobile: str) -> str:
    """E.164 with ``+``: Hubtel sends ``233244000000``; ``+233…`` and ``00233…`` are taken too."""
    number = mobile.replace(" ", "")
    if number.startswith("00"):
        number = number[2:]
    if not _PHONE.fullmatch(number):
        raise BadRequest("Mobile is not a phone number")
    return number if number.startswith("+") else "+" + number


def _service_code(fields: dict[str, str], first: bool) -> str:
    """What was dialled: on Initiation the ``Message`` when it is a dialled string (so
    ``*713*2#`` carries its shortcut digit), else ``*<ServiceCode>#`` (``713`` → ``*713#``,
    ``384*123`` → ``*384*123#``; a code sent as ``*713#`` is taken as it is)."""
    if first:
        dialled = fields.get("Message", "").replace(" ", "")
        if _DIALLED.fullmatch(dialled):
            return dialled
    code = fields.get("ServiceCode", "").replace(" ", "").removeprefix("*").removesuffix("#")
    return f"*{code}#" if code else ""


def _sequence(value: str) -> str:
    """The hop number as digits (``""`` when absent: such hops are not deduplicated)."""
    sequence = value.strip()
    if sequence and not (sequence.isascii() and sequence.isdigit()):
        raise BadRequest("Sequence is not a hop number")
    return str(int(sequence)) if sequence else ""


def session_end(callback: Callback, seen: SessionView | None) -> UssdSessionEnd:
    """The end-of-session notification a ``Release`` or ``Timeout`` stands for: ``success``
    when the menu had ended the session, else ``incomplete``; the last screen, hop count and
    duration come from the session when it is still stored."""
    hop = callback.hop
    return UssdSessionEnd(
        provider=PROVIDER,
        session_id=hop.session_id,
        phone_number=hop.phone_number,
        service_code=hop.service_code,
        network_code=hop.network_code,
        status="success" if seen is not None and seen.reply.end else "incomplete",
        duration_ms=max(0, int((time.time() - seen.started) * 1000)) if seen else None,
        hops=seen.hops if seen else None,
        last_response=seen.reply.text if seen else "",
        error_message="timeout" if callback.kind == TIMEOUT else "",
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        ended_by="timeout" if callback.kind == TIMEOUT else "user",
    )


def reply_fields(reply: Reply, session_id: str, client_state: str) -> dict[str, str]:
    """Hubtel's reply: ``Response`` + ``input`` waits for the subscriber, ``Release`` +
    ``display`` closes the session; ``ClientState`` is echoed as received."""
    return {
        "SessionId": session_id,
        "Type": "Release" if reply.end else "Response",
        "Message": reply.text,
        "Label": label(reply.text),
        "DataType": "display" if reply.end else "input",
        "FieldType": "text",
        "ClientState": client_state,
    }


def render(reply: Reply, session_id: str, client_state: str) -> bytes:
    """The reply body (JSON)."""
    return orjson.dumps(reply_fields(reply, session_id, client_state))


def label(text: str) -> str:
    """A short title for the screen: its first line, at most ``LABEL_MAX`` characters."""
    return text.split("\n", 1)[0].strip()[:LABEL_MAX]
