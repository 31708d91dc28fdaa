"""Africa's Talking airtime: the SDK wrapper (blocking: run it in a worker thread) and the two
airtime callbacks (status, validation). Facts: ../shared/reference/protocols.md §3-4.

The one place where the SDK's ``AfricasTalkingException``, its ``ValueError`` and ``requests``
errors become ``AirtimeError``. A fresh ``AirtimeService`` per send: the SDK keeps the
``Idempotency-Key`` header on the instance for every later call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import orjson
import requests
from africastalking.Airtime import AirtimeService
from africastalking.Service import AfricasTalkingException

from gateway.channels.africastalking.forms import parse_form, phone, required
from gateway.errors import AirtimeError, BadRequest
from gateway.privacy import redact_numbers
from gateway.rewards.amounts import at_amount

STATUSES = {"success": "SUCCESS", "failed": "FAILED"}
"""AT's final airtime statuses → ours."""


@dataclass(frozen=True, slots=True)
class AirtimeSent:
    request_id: str
    status: str
    discount: str


class AtAirtime:
    """Sends one airtime top-up per call through the official SDK."""

    def __init__(
        self, username: str, api_key: str, base_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self._username = username
        self._api_key = api_key
        self._base_url = base_url.rstrip("/") + "/version1/airtime" if base_url else None
        self._timeout = (min(3.05, timeout), timeout)

    def service(self) -> AirtimeService:
        svc = AirtimeService(self._username, self._api_key)
        if self._base_url:
            svc._baseUrl = self._base_url
        return svc

    def send(self, to: str, amount: float, currency: str, key: str) -> AirtimeSent:
        """Send ``amount`` ``currency`` to ``to`` with ``key`` as ``Idempotency-Key``
        (blocking). Raises ``AirtimeError``."""
        try:
            result = self.service().send(phone_number=to, amount=at_amount(amount),
                                         currency_code=currency, idempotency_key=key,
                                         timeout=self._timeout)  # fmt: skip
        except ValueError as exc:  # the SDK refused it before sending anything
            raise AirtimeError(
                f"refused before sending: {_short(exc)}", sent=False, unsent_request=True
            ) from None
        except AfricasTalkingException as exc:
            raise AirtimeError(f"AT answered an error: {_short(exc)}", sent=None) from None
        except requests.RequestException as exc:
            raise AirtimeError(f"network error: {type(exc).__name__}", sent=None) from None
        return _sent(result)


def _short(exc: Exception) -> str:
    return redact_numbers(str(exc).strip())[:200]


def _sent(result: Any) -> AirtimeSent:
    if isinstance(result, str):  # the SDK returns text unless content-type is exact
        try:
            result = json.loads(result)
        except ValueError:
            raise AirtimeError("AT answered with a non-JSON body", sent=None) from None
    responses = result.get("responses") if isinstance(result, dict) else None
    if not responses:
        message = str(result.get("errorMessage", "")) if isinstance(result, dict) else ""
        raise AirtimeError(f"AT answered without a recipient: {_short(Exception(message))}",
                           sent=None)  # fmt: skip
    first = responses[0]
    status = str(first.get("status", ""))
    if status.lower() == "failed":
        reason = redact_numbers(str(first.get("errorMessage", "Failed")))[:200]
        raise AirtimeError(f"AT refused the top-up: {reason}", sent=False)
    if status.lower() != "sent" or not first.get("requestId"):
        raise AirtimeError(f"AT answered status {status[:40]!r}", sent=None)
    return AirtimeSent(str(first["requestId"])[:200], status, str(first.get("discount", "")))


@dataclass(frozen=True, slots=True)
class AirtimeStatus:
    request_id: str
    status: str | None
    """``SUCCESS``/``FAILED``, or ``None`` for a word we do not know (kept, not applied)."""
    reported: str
    phone_number: str
    description: str
    value: tuple[str, float] | None = None
    """``value`` as (currency, amount), e.g. ``"KES 50.0000"`` → ("KES", 50.0); ``None`` if
    absent or unreadable."""


@dataclass(frozen=True, slots=True)
class AirtimeValidation:
    transaction_id: str
    phone_number: str
    currency: str
    amount: float


def _fields(body: bytes) -> dict[str, str]:
    """JSON or form, whichever AT sent (protocols §3: the encoding is not documented)."""
    if body.lstrip()[:1] == b"{":
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise BadRequest("body is not JSON") from None
        if not isinstance(data, dict):
            raise BadRequest("body is not a JSON object")
        return {str(k): str(v) for k, v in data.items() if v is not None}
    return parse_form(body)


def parse_status(body: bytes) -> AirtimeStatus:
    form = _fields(body)
    word = form.get("status", "").strip()[:40]
    description = redact_numbers(form.get("description", ""))[:200]
    return AirtimeStatus(required(form, "requestId")[:200], STATUSES.get(word.lower()), word,
                         phone(form), description, _value(form.get("value", "")))  # fmt: skip


def _value(raw: str) -> tuple[str, float] | None:
    currency, _, amount = raw.strip().partition(" ")
    try:
        return (currency.upper()[:3], float(amount)) if len(currency) == 3 else None
    except ValueError:
        return None


def parse_validation(body: bytes) -> AirtimeValidation:
    form = _fields(body)
    try:
        amount = float(required(form, "amount"))
    except ValueError:
        raise BadRequest("amount is not a number") from None
    return AirtimeValidation(form.get("transactionId", "")[:200], phone(form),
                             required(form, "currencyCode")[:3].upper(), amount)  # fmt: skip
