"""Jumbe's exception tree. Third-party exceptions are translated into these at one boundary each.

::

    JumbeError                      base of everything Jumbe raises on purpose
    ├── ConfigError                 bad setting, flag, tokens file or content folder (at start-up
    │   │                           or by a command, never per hop)
    │   └── KeyMismatch             the pseudonym key differs from the one the data was written
    │                               with (``store.meta``)
    ├── ContentError                brand files failed the check; carries ``findings``
    ├── StoreError                  Redis could not do what was asked (translated in ``store/``
    │   │                           only: ``store.client``, ``store.pipelined``)
    │   ├── StoreUnavailable        Redis cannot be reached, or did not answer in time
    │   └── StoreReplyError         Redis answered with an error (``NOGROUP``, a failing script)
    ├── BadRequest                  an aggregator's callback cannot be used (→ 400 with reason)
    ├── ApiError                    a ``/v1`` call answered with a 4xx/503 (``error``, ``reason``)
    ├── HopError                    a hop could not be answered normally (→ readable END)
    │   └── SessionConflict         the session kept changing under us (concurrent hops)
    ├── SendError                   an aggregator did not take a message (``retryable``,
    │                               ``opted_out``; translated in the channel's SDK wrapper)
    ├── SendRefused                 we refuse to send a message (bad number, too long, …)
    │   └── NoConsent               … because the consent ledger says no
    ├── AirtimeError                an airtime send got no ``Sent`` (``sent``: False = nothing
    │                               was sent, None = unknown; translated in the channel's wrapper)
    ├── RedeemRefused               a redemption refused before any hold (``status``, ``reason``)
    └── ClientError                 a ``jumbe`` command could not use the gateway's API
        ├── GatewayUnreachable      no HTTP answer at all (refused, DNS, timeout)
        └── ReportError             a report could not be fetched
            └── NotAvailable        the gateway does not serve that report

Parsing helpers raise their own ``ValueError`` subclasses (``TemplateError``,
``ConditionError``, ``ValidatorError``, ``ItemTooLong``, YAML refusals), which never leave the
check that turns them into findings (``path:line:col: error: …``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.menu.findings import Finding


class JumbeError(Exception):
    """Base class of all deliberate Jumbe errors."""


class ConfigError(JumbeError):
    """A setting, flag, environment variable or configuration file is invalid."""


class KeyMismatch(ConfigError):
    """The pseudonym key differs from the one this Redis's data was written with."""


class ContentError(JumbeError):
    """One or more brand files failed the check; ``findings`` lists them."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


class StoreError(JumbeError):
    """Redis could not do what was asked."""


class StoreUnavailable(StoreError):
    """Redis is down, unreachable or too slow."""


class StoreReplyError(StoreError):
    """Redis answered a command with an error reply (the message is Redis's)."""


class BadRequest(JumbeError):
    """An aggregator's request is malformed; the message is safe to send back."""


class ApiError(JumbeError):
    """A ``/v1`` call we answer with a 4xx (or 503): ``error`` is a short word, ``reason`` a
    sentence, both sent back as JSON."""

    def __init__(self, status: int, error: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason


class HopError(JumbeError):
    """A hop failed in a way the subscriber should hear about as a readable END."""


class SessionConflict(HopError):
    """The session changed concurrently more times than we retry."""


class SendError(JumbeError):
    """Sending one message failed; ``retryable`` says whether trying again may help, and
    ``opted_out`` that the aggregator refused because the subscriber blocked us."""

    def __init__(
        self,
        reason: str,
        *,
        retryable: bool,
        status_code: int | None = None,
        opted_out: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.status_code = status_code
        self.opted_out = opted_out


class SendRefused(JumbeError):
    """``send()`` refused a message (bad number, empty, too long, …); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NoConsent(SendRefused):
    """A marketing send refused by the consent ledger (opted out, or no recorded consent)."""


class AirtimeError(JumbeError):
    """An airtime send that did not get a ``Sent``. ``sent is False``: the aggregator certainly
    sent nothing (the points may go back); ``sent is None``: the outcome is unknown (retry with
    the same idempotency key, never a new one)."""

    def __init__(self, reason: str, sent: bool | None, *, unsent_request: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.sent = sent
        self.unsent_request = unsent_request
        """The request never left (the SDK refused its input): nothing can have been sent."""


class RedeemRefused(JumbeError):
    """A redemption refused (no points held, no redemption created): ``status`` (404 unknown
    item, 409 insufficient points / velocity / caps / budget, 422 not possible for this number)
    and ``reason`` (a short word); ``detail`` is for people."""

    def __init__(self, status: int, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.reason = reason
        self.detail = detail


class ClientError(JumbeError):
    """A ``jumbe`` command could not use the gateway's API; the message is one line."""


class GatewayUnreachable(ClientError):
    """No HTTP answer from the gateway at all (refused, DNS, timeout)."""


class ReportError(ClientError):
    """The report could not be fetched; the message is one line for the terminal."""


class NotAvailable(ReportError):
    """The gateway does not serve this report (an older gateway, or one not built yet)."""
