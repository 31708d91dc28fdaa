"""Africa's Talking USSD: parse hop and end-of-session callbacks; render ``CON``/``END``.

Facts (../shared/reference/protocols.md §1): form-encoded POST with ``sessionId``,
``serviceCode``, ``phoneNumber`` (E.164, ``+`` arrives as ``%2B``), ``networkCode`` and the
cumulative ``text``; the reply is ``text/plain`` beginning ``CON `` or ``END ``.
"""

from __future__ import annotations

import re

from gateway.channels.africastalking import PROVIDER, SCREEN_OVERHEAD
from gateway.channels.africastalking.forms import (
    check_lengths,
    parse_form,
    phone,
    required,
    unescape,
)
from gateway.channels.base import Reply, UssdRequest, UssdSessionEnd
from gateway.errors import BadRequest

CONTINUE, END = "CON ", "END "
MAX_TEXT = 4000
HOP_LIMITS = {
    "serviceCode": 64, "sessionId": 128, "phoneNumber": 32, "networkCode": 16, "text": MAX_TEXT,
}  # fmt: skip
"""Longest accepted hop fields, in characters; longer → 400 naming the field."""
_STATUSES = {"success": "success", "incomplete": "incomplete", "failed": "failed"}


_COMMON_HOP = re.compile(
    r"sessionId=([^&%+]{1,128})&serviceCode=([^&]{1,192})&phoneNumber=(?:%2[Bb]|\+)?([0-9]{6,15})"
    r"&networkCode=([^&%+]{0,16})&text=([^&]{0,12000})"
)
"""The hop AT sends: its five fields in its order, the phone number as digits, no escape in
``sessionId`` or ``networkCode``. Bounds are on the escaped values; decoded lengths are checked."""

_SERVICE_CODES: dict[str, str] = {}
"""Escaped ``serviceCode`` → as ``parse_hop_general`` returns it (a gateway serves a few codes)."""
_SERVICE_CODES_MAX = 256


def parse_hop(body: bytes) -> UssdRequest:
    """Parse one hop; raises ``BadRequest`` with a reason when fields are missing or malformed.

    AT's usual body (``_COMMON_HOP``, with the escapes it uses) is decoded here in ~1.5 µs;
    anything else, and every refusal, goes through ``parse_hop_general`` (~5.4 µs), whose result
    this is for every body (tests/channels/africastalking/test_hop_fast_path.py)."""
    try:
        match = _COMMON_HOP.fullmatch(body.decode())
    except UnicodeDecodeError:
        match = None
    if match is None:
        return parse_hop_general(body)
    session_id, code, number, network, text = match.groups()
    session_id = session_id.strip()
    service_code = _SERVICE_CODES.get(code)
    if service_code is None:
        service_code = _service_code(code)
    if "+" in text or "%" in text:
        text = unescape(text)
    if not session_id or not service_code or text is None or len(text) > MAX_TEXT:
        return parse_hop_general(body)
    return UssdRequest(
        PROVIDER, session_id, "+" + number, service_code, network.strip(), text, True,
        text == "", SCREEN_OVERHEAD,
    )  # fmt: skip


def _service_code(code: str) -> str:
    """``serviceCode`` as ``parse_hop_general`` takes it, or ``""`` when the general path must
    say what is wrong with it (remembered when good: a gateway serves a few codes)."""
    decoded = unescape(code)
    if decoded is None or len(decoded) > HOP_LIMITS["serviceCode"]:
        return ""
    service_code = decoded.strip().replace(" ", "")
    if service_code and len(_SERVICE_CODES) < _SERVICE_CODES_MAX:
        _SERVICE_CODES[code] = service_code
    return service_code


def parse_hop_general(body: bytes) -> UssdRequest:
    """Parse any hop body (``parse_hop``'s fallback, and the reference its fast path is tested
    against)."""
    form = parse_form(body)
    check_lengths(form, HOP_LIMITS)
    return UssdRequest(
        provider=PROVIDER,
        session_id=required(form, "sessionId"),
        phone_number=phone(form),
        service_code=required(form, "serviceCode").replace(" ", ""),
        network_code=form.get("networkCode", "").strip(),
        text=form.get("text", ""),
        cumulative=True,
        first=form.get("text", "") == "",
        screen_overhead=SCREEN_OVERHEAD,
    )


MAX_DURATION_MS = 24 * 3600 * 1000
MAX_HOPS = 100_000


def _count(value: str | None, highest: int) -> int | None:
    """A whole number in 0 … ``highest``; anything else (empty, a word, NaN, ``1e309``, a
    20-digit count, negative) is treated as absent: the notification is still worth keeping."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return int(number) if 0 <= number <= highest else None  # NaN fails both comparisons


def _phone_as_given(form: dict[str, str]) -> str:
    """The number normalized when it is one, else as sent: only its pseudonym is stored."""
    try:
        return phone(form)
    except BadRequest:
        return form.get("phoneNumber", "").strip()


def parse_session_end(body: bytes) -> UssdSessionEnd:
    """Parse the end-of-session notification (``status`` Success/Incomplete/Failed).

    Liberal: only a body without ``sessionId`` or ``status`` is refused (400); odd numbers and
    counts are kept as given or treated as absent, so AT does not retry a notification for hours.
    """
    form = parse_form(body)
    status = required(form, "status")
    return UssdSessionEnd(
        provider=PROVIDER,
        session_id=required(form, "sessionId"),
        phone_number=_phone_as_given(form),
        service_code=form.get("serviceCode", ""),
        network_code=form.get("networkCode", ""),
        status=_STATUSES.get(status.lower(), status.lower()),
        duration_ms=_count(form.get("durationInMillis"), MAX_DURATION_MS),
        hops=_count(form.get("hopsCount"), MAX_HOPS),
        last_response=form.get("lastAppResponse", ""),
        error_message=form.get("errorMessage", ""),
        date=form.get("date", ""),
    )


def render(reply: Reply) -> str:
    """The reply body: ``CON …`` or ``END …`` (no leading whitespace, never empty)."""
    return (END if reply.end else CONTINUE) + reply.text
