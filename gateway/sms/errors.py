"""SMS errors: a send that failed (``SendError``) and a send we refuse to make (``SendRefused``;
``NoConsent`` when the consent ledger is the reason).

``SendError`` is the only exception the Africa's Talking SDK wrapper lets out
(``gateway.channels.africastalking.sms`` translates the SDK's and ``requests``' errors into it).
"""

from __future__ import annotations

from gateway.errors import JumbeError


class SendError(JumbeError):
    """Sending one SMS failed; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status_code = status_code


class SendRefused(JumbeError):
    """``send()`` refused a message (no consent, too long, bad number); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoConsent(SendRefused):
    """A marketing send refused by the consent ledger (opted out, or no recorded consent)."""
