"""Jumbe's exception tree. Third-party exceptions are translated into these at one boundary each.

::

    JumbeError                      base of everything Jumbe raises on purpose
    ├── ConfigError                 bad setting or flag (raised at start-up, never per hop)
    ├── MenuError                   a menu file is invalid; carries ``findings`` (path:line:col)
    ├── StoreUnavailable            Redis cannot be reached or timed out (redis-py errors → here,
    │                               in ``gateway.store``)
    ├── BadRequest                  an aggregator request is malformed (→ HTTP 400 with reason)
    └── HopError                    a hop could not be answered normally (→ readable END)
        └── SessionConflict         the session kept changing under us (concurrent hops)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gateway.menu.findings import Finding


class JumbeError(Exception):
    """Base class of all deliberate Jumbe errors."""


class ConfigError(JumbeError):
    """A setting, flag or environment variable is invalid."""


class MenuError(JumbeError):
    """One or more menu files failed the check; ``findings`` lists them."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        super().__init__("\n".join(str(f) for f in findings))


class StoreUnavailable(JumbeError):
    """Redis is down, unreachable or too slow."""


class BadRequest(JumbeError):
    """An aggregator's request is malformed; the message is safe to send back."""


class HopError(JumbeError):
    """A hop failed in a way the subscriber should hear about as a readable END."""


class SessionConflict(HopError):
    """The session changed concurrently more times than we retry."""
