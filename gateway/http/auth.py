"""Who may call the ``/v1`` API: bearer tokens, each allowed a set of scopes.

``JUMBE_API_TOKEN`` may use every scope. Scoped tokens (``JUMBE_API_TOKENS_FILE``, issue 10)
plug in as more entries of ``ApiTokens``; every route names the one scope it needs.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Literal

from gateway.config import Settings

Scope = Literal["piggyback", "sms", "consent", "rewards", "surveys", "segments", "reports"]
SCOPES: frozenset[Scope] = frozenset(
    ("piggyback", "sms", "consent", "rewards", "surveys", "segments", "reports")
)


class ApiTokens:
    """The configured tokens and the scopes each one grants."""

    def __init__(self, grants: Mapping[str, frozenset[Scope]]) -> None:
        self._grants = [(token.encode(), scopes) for token, scopes in grants.items() if token]

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiTokens:
        """``JUMBE_API_TOKEN``, allowed every scope (when set)."""
        return cls({settings.api_token: SCOPES} if settings.api_token else {})

    @property
    def configured(self) -> bool:
        """Whether any token is configured (if not, the API is off)."""
        return bool(self._grants)

    def scopes(self, given: str) -> frozenset[Scope] | None:
        """The scopes of the token ``given``, or ``None`` if it is not a configured token.

        Compares against every token in constant time, so timing says nothing about which
        one (or how much of one) matched.
        """
        found: frozenset[Scope] | None = None
        candidate = given.encode()
        for token, scopes in self._grants:
            if hmac.compare_digest(candidate, token):
                found = scopes
        return found
