"""Africa's Talking USSD: parse hop and end-of-session callbacks; render ``CON``/``END``.

Facts (../shared/reference/protocols.md §1): form-encoded POST with ``sessionId``,
``serviceCode``, ``phoneNumber`` (E.164, ``+`` arrives as ``%2B``), ``networkCode`` and the
cumulative ``text``; the reply is ``text/plain`` beginning ``CON `` or ``END ``.
"""

from __future__ import annotations

from gateway.channels.africastalking.forms import check_lengths, parse_form, phone, required
from gateway.channels.base import UssdRequest, UssdSessionEnd

PROVIDER = "africastalking"
MAX_TEXT = 4000
HOP_LIMITS = {
    "serviceCode": 64, "sessionId": 128, "phoneNumber": 32, "networkCode": 16, "text": MAX_TEXT,
}  # fmt: skip
"""Longest accepted hop fields, in characters; longer → 400 naming the field."""
_STATUSES = {"success": "success", "incomplete": "incomplete", "failed": "failed"}


def parse_hop(body: bytes) -> UssdRequest:
    """Parse one hop; raises ``BadRequest`` with a reason when fields are missing or malformed."""
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
    )


def _int(value: str | None) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except ValueError:
        return None


def parse_session_end(body: bytes) -> UssdSessionEnd:
    """Parse the end-of-session notification (``status`` Success/Incomplete/Failed)."""
    form = parse_form(body)
    status = required(form, "status")
    return UssdSessionEnd(
        provider=PROVIDER,
        session_id=required(form, "sessionId"),
        phone_number=phone(form),
        service_code=form.get("serviceCode", ""),
        network_code=form.get("networkCode", ""),
        status=_STATUSES.get(status.lower(), status.lower()),
        duration_ms=_int(form.get("durationInMillis")),
        hops=_int(form.get("hopsCount")),
        last_response=form.get("lastAppResponse", ""),
        error_message=form.get("errorMessage", ""),
        date=form.get("date", ""),
    )


def render(prefix: str, text: str) -> str:
    """The reply body: ``CON …`` or ``END …`` (no leading whitespace, never empty)."""
    return prefix + text
