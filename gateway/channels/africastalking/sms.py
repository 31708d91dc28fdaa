"""Africa's Talking SMS: the SDK wrapper (off the event loop) and the three SMS callbacks.

Facts: ../shared/reference/protocols.md §2 and §4. The SDK is synchronous (``requests``), so
``AtSms.send`` is meant to run in a worker thread. This module is the one place where the SDK's
``AfricasTalkingException``, its ``ValueError`` and ``requests`` errors become ``SendError``.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from africastalking.Service import AfricasTalkingException
from africastalking.SMS import SMSService

from gateway.channels.africastalking.forms import parse_form, required
from gateway.channels.base import Accepted, DeliveryReport, InboundSms, OptOutNotice
from gateway.errors import BadRequest, SendError
from gateway.privacy import redact_numbers

ACCEPTED = {100: "Processed", 101: "Sent", 102: "Queued"}
RETRYABLE = {405: "InsufficientBalance", 500: "InternalServerError", 501: "GatewayError",
             502: "RejectedByGateway"}  # fmt: skip
FINAL_FAILURES = {401: "RiskHold", 402: "InvalidSenderId", 403: "InvalidPhoneNumber",
                  404: "UnsupportedNumberType", 406: "UserInBlacklist", 407: "CouldNotRoute",
                  409: "DoNotDisturbRejection"}  # fmt: skip
OPT_OUT_CODES = frozenset({406, 409})
"""Per-recipient codes that mean the subscriber opted out (domain C2): ``SendError.opted_out``."""

DLR_STATUSES = {"sent": "sent", "submitted": "submitted", "buffered": "buffered",
                "success": "delivered", "failed": "failed", "rejected": "rejected"}  # fmt: skip
"""AT's delivery statuses we understand → ours. Any other word is kept verbatim, non-final."""
OPT_OUT_REASON = "userinblacklist"
"""A ``failureReason`` that means the subscriber opted out (whatever the status says)."""
MAX_INBOUND_TEXT = 2000
MAX_NUMBER = 32


class AtSms:
    """One SDK ``SMSService`` built from settings, optionally pointed at another base URL."""

    def __init__(
        self, username: str, api_key: str, base_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self._service = SMSService(username, api_key)
        if base_url:
            self._service._baseUrl = base_url.rstrip("/") + "/version1"
            self._service._contentUrl = self._service._baseUrl
        self._timeout = (min(3.05, timeout), timeout)

    def send(self, to: str, message: str, sender_id: str | None) -> Accepted:
        """Send one SMS (blocking). Raises ``SendError`` with ``retryable`` set."""
        try:
            result = self._service.send(message, [to], sender_id=sender_id, timeout=self._timeout)
        except ValueError:
            raise SendError("invalid phone number", retryable=False, status_code=403) from None
        except AfricasTalkingException as exc:
            raise SendError(f"AT refused the request: {_short(exc)}", retryable=True) from None
        except requests.RequestException as exc:
            raise SendError(f"network error: {type(exc).__name__}", retryable=True) from None
        return _accepted(result)


def _short(exc: Exception) -> str:
    return redact_numbers(str(exc).strip())[:200]


def _accepted(result: Any) -> Accepted:
    """Read the one recipient of a send response, or raise ``SendError``."""
    if isinstance(result, str):  # the SDK returns text unless content-type is exact
        try:
            result = json.loads(result)
        except ValueError:
            raise SendError("AT answered with a non-JSON body", retryable=True) from None
    try:
        recipient = result["SMSMessageData"]["Recipients"][0]
        code = int(recipient["statusCode"])
    except (KeyError, IndexError, TypeError, ValueError):
        raise SendError("AT answered without a recipient status", retryable=True) from None
    if code in ACCEPTED:
        return Accepted(str(recipient.get("messageId", "")), code, str(recipient.get("cost", "")))
    name = RETRYABLE.get(code) or FINAL_FAILURES.get(code) or str(recipient.get("status", ""))
    raise SendError(f"{code} {name}", retryable=code in RETRYABLE, status_code=code,
                    opted_out=code in OPT_OUT_CODES)  # fmt: skip


def _number(form: dict[str, str], name: str) -> str:
    """A number as AT sent it (an odd one is kept, not refused); ``+`` restored if lost."""
    number = form.get(name, "").strip().replace(" ", "")[:MAX_NUMBER]
    return "+" + number if number.isdigit() else number


def parse_inbound(body: bytes) -> InboundSms:
    """Parse an inbound SMS callback; only a missing ``id`` or sender is a ``BadRequest``."""
    form = parse_form(body)
    text = form.get("text", "")
    if len(text) > MAX_INBOUND_TEXT:
        raise BadRequest(f"text longer than {MAX_INBOUND_TEXT} characters")
    sender = _number(form, "from")
    if not sender:
        raise BadRequest("missing field from")
    return InboundSms(
        inbound_id=required(form, "id")[:200],
        phone_number=sender,
        to=form.get("to", "").strip()[:64],
        text=text,
        link_id=form.get("linkId", "").strip()[:200],
        network_code=form.get("networkCode", "").strip()[:16],
        date=form.get("date", "").strip()[:64],
    )


def parse_delivery_report(body: bytes) -> DeliveryReport:
    """Parse a delivery report. Liberal: an unknown status or an odd number is kept as sent;
    only a report without the message ``id`` cannot be used (``BadRequest``)."""
    form = parse_form(body)
    word = form.get("status", "").strip()[:40]
    return DeliveryReport(
        provider_message_id=required(form, "id")[:200],
        status=DLR_STATUSES.get(word.lower()),
        reported=word,
        phone_number=_number(form, "phoneNumber"),
        network_code=form.get("networkCode", "").strip()[:16],
        failure_reason=form.get("failureReason", "").strip()[:100],
        opted_out=form.get("failureReason", "").strip().lower() == OPT_OUT_REASON,
    )


def parse_opt_out(body: bytes) -> OptOutNotice:
    """Parse a bulk SMS opt-out notification (``senderId``, ``phoneNumber``, kept as sent)."""
    form = parse_form(body)
    number = _number(form, "phoneNumber")
    if not number:
        raise BadRequest("missing field phoneNumber")
    return OptOutNotice(number, form.get("senderId", "").strip()[:64])
