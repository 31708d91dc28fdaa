"""Africa's Talking SMS: the SDK wrapper (off the event loop) and the three SMS callbacks.

Facts: ../shared/reference/protocols.md §2 and §4. The SDK is synchronous (``requests``), so
``AtSms.send`` and ``AtSms.send_many`` (one text to many numbers in one request, as AT's bulk API
takes them) are meant to run in a worker thread. This module is the one place where the SDK's
``AfricasTalkingException``, its ``ValueError`` and ``requests`` errors become ``SendError``.
"""

from __future__ import annotations

import json
import re
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
        outcome = self.send_many([to], message, sender_id)[0]
        if isinstance(outcome, SendError):
            raise outcome
        return outcome

    def send_many(
        self, to: list[str], message: str, sender_id: str | None
    ) -> list[Accepted | SendError]:
        """Send one text to several numbers in one request (blocking): each number's outcome,
        in the order of ``to`` (distinct numbers: AT's answer is matched by number). A failure
        of the whole request raises ``SendError``; a number AT refused is its own
        ``SendError``."""
        valid = [number for number in to if _SDK_NUMBER.match(number)]
        outcomes: dict[str, Accepted | SendError] = {
            number: SendError("invalid phone number", retryable=False, status_code=403)
            for number in to if number not in valid
        }  # fmt: skip
        if valid:
            try:
                result = self._service.send(message, valid, sender_id=sender_id,
                                            timeout=self._timeout)  # fmt: skip
            except ValueError:
                raise SendError("invalid phone number", retryable=False,
                                status_code=403) from None  # fmt: skip
            except AfricasTalkingException as exc:
                raise SendError(f"AT refused the request: {_short(exc)}", retryable=True) from None
            except requests.RequestException as exc:
                raise SendError(f"network error: {type(exc).__name__}", retryable=True) from None
            outcomes.update(_recipients(result, valid))
        return [outcomes[number] for number in to]


_SDK_NUMBER = re.compile(r"^\+\d{1,3}\d{3,}$")
"""What the SDK accepts as a number (anything else makes it refuse the whole request)."""


def _short(exc: Exception) -> str:
    return redact_numbers(str(exc).strip())[:200]


def _recipients(result: Any, numbers: list[str]) -> dict[str, Accepted | SendError]:
    """Each number's outcome in a send response (matched by ``number``; one AT left out is a
    retryable ``SendError``), or raise ``SendError`` for a response that is not one."""
    if isinstance(result, str):  # the SDK returns text unless content-type is exact
        try:
            result = json.loads(result)
        except ValueError:
            raise SendError("AT answered with a non-JSON body", retryable=True) from None
    try:
        recipients = result["SMSMessageData"]["Recipients"]
        by_number = {str(r["number"]).replace(" ", ""): r for r in recipients}
    except (KeyError, TypeError, AttributeError):
        raise SendError("AT answered without a recipient status", retryable=True) from None
    if len(numbers) == 1 and len(recipients) == 1:  # one number: whatever AT wrote it as
        by_number = {numbers[0]: recipients[0]}
    return {number: _outcome(by_number.get(number)) for number in numbers}


def _outcome(recipient: Any) -> Accepted | SendError:
    """One ``Recipients`` entry as an acceptance or a ``SendError``."""
    try:
        code = int(recipient["statusCode"])
    except (KeyError, TypeError, ValueError):
        return SendError("AT answered without a recipient status", retryable=True)
    if code in ACCEPTED:
        return Accepted(str(recipient.get("messageId", "")), code, str(recipient.get("cost", "")))
    name = RETRYABLE.get(code) or FINAL_FAILURES.get(code) or str(recipient.get("status", ""))
    return SendError(f"{code} {name}", retryable=code in RETRYABLE, status_code=code,
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
