"""Who may call the ``/v1`` API: named bearer tokens, each allowed a set of scopes.

``JUMBE_API_TOKEN`` (named ``JUMBE_API_TOKEN``) may use every scope. Scoped tokens come from the
YAML file named by ``JUMBE_API_TOKENS_FILE`` (format in ``docs/api.md``)::

    tokens:
      - name: crm                      # lower-case; goes on log lines, never the token
        token: "9f86d081884c7d65…"     # the token itself, or
        # sha256: "<64 hex digits>"    # its SHA-256, so the file need not hold the secret
        scopes: [sms, consent]

Every token is kept as its SHA-256 digest and a call's bearer is compared, digest to digest,
against every entry with ``hmac.compare_digest``: how long a check takes says nothing about
which token (or how much of one) matched. A file that cannot be used is a ``ConfigError``
naming the entry, raised when the app is built (``serve`` refuses to start).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from gateway.config import Settings
from gateway.errors import ConfigError

Scope = Literal[
    "piggyback", "sms", "consent", "rewards", "surveys", "segments", "reports", "subjects"
]
SCOPES: frozenset[Scope] = frozenset(
    ("piggyback", "sms", "consent", "rewards", "surveys", "segments", "reports", "subjects")
)
ENV_TOKEN_NAME = "JUMBE_API_TOKEN"
"""The name of the environment's all-scopes token (file names are lower-case: no clash)."""
MIN_TOKEN_LENGTH = 16
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
_ENTRY_FIELDS = ("name", "token", "sha256", "scopes")


@dataclass(frozen=True, slots=True)
class ApiToken:
    """One configured token: its name, the SHA-256 of its value, and what it may do."""

    name: str
    digest: bytes
    scopes: frozenset[Scope]

    @classmethod
    def plain(cls, name: str, token: str, scopes: Iterable[Scope]) -> ApiToken:
        return cls(name, _digest(token), frozenset(scopes))


class ApiTokens:
    """The configured tokens and the scopes each one grants."""

    def __init__(self, tokens: Iterable[ApiToken]) -> None:
        self._tokens = tuple(tokens)

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiTokens:
        """``JUMBE_API_TOKEN`` (every scope) and the entries of ``JUMBE_API_TOKENS_FILE``."""
        tokens = []
        if settings.api.token:
            tokens.append(ApiToken.plain(ENV_TOKEN_NAME, settings.api.token, SCOPES))
        if settings.api.tokens_file is not None:
            tokens.extend(load_file(settings.api.tokens_file))
        _refuse_duplicates(tokens)
        return cls(tokens)

    @property
    def configured(self) -> bool:
        """Whether any token is configured (if not, the API is off)."""
        return bool(self._tokens)

    def find(self, given: str) -> ApiToken | None:
        """The configured token whose value is ``given``, or ``None``.

        Compares digests against every entry in constant time, so timing says nothing about
        which one (or how much of one) matched.
        """
        candidate = _digest(given)
        found: ApiToken | None = None
        for token in self._tokens:
            if hmac.compare_digest(candidate, token.digest):
                found = token
        return found


def load_file(path: Path) -> list[ApiToken]:
    """The tokens of a tokens file; ``ConfigError`` naming the file, the entry and the problem."""
    where = f"JUMBE_API_TOKENS_FILE {path}"
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read it: {_os_reason(exc)}") from None
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{where}: not valid YAML{at}: {problem}") from None
    if not isinstance(data, dict) or set(data) != {"tokens"}:
        raise ConfigError(f"{where}: expected one top-level key, tokens: [{{name, token | "
                          "sha256, scopes}}, …]")  # fmt: skip
    entries = data["tokens"] if data["tokens"] is not None else []
    if not isinstance(entries, list):
        raise ConfigError(f"{where}: tokens must be a list of entries")
    return [_entry(where, index, entry) for index, entry in enumerate(entries, 1)]


def _entry(where: str, index: int, entry: Any) -> ApiToken:
    label = f"{where}: token #{index}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{label}: expected a mapping with name, token or sha256, and scopes")
    name = entry.get("name")
    if isinstance(name, str):
        label = f"{label} ({name[:64]})"
    unknown = sorted(str(key) for key in entry if key not in _ENTRY_FIELDS)
    if unknown:
        raise ConfigError(f"{label}: unknown key(s) {', '.join(unknown)}; expected "
                          f"{', '.join(_ENTRY_FIELDS)}")  # fmt: skip
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{label}: name must be 1-64 lower-case letters, digits, '.', '_' or "
                          "'-' (it goes on log lines)")  # fmt: skip
    return ApiToken(name, _secret(label, entry), _scopes(label, entry.get("scopes")))


def _secret(label: str, entry: dict[str, Any]) -> bytes:
    token, sha256 = entry.get("token"), entry.get("sha256")
    if (token is None) == (sha256 is None):
        raise ConfigError(f"{label}: give exactly one of token or sha256")
    if token is not None:
        if not isinstance(token, str) or len(token.strip()) < MIN_TOKEN_LENGTH:
            raise ConfigError(f"{label}: token must be a string of at least "
                              f"{MIN_TOKEN_LENGTH} characters")  # fmt: skip
        return _digest(token.strip())
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise ConfigError(f"{label}: sha256 must be 64 hex digits (sha256sum of the token)")
    return bytes.fromhex(sha256)


def _scopes(label: str, raw: Any) -> frozenset[Scope]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{label}: scopes must be a non-empty list, e.g. [sms, consent]")
    scopes: set[Scope] = set()
    for item in raw:
        scope = next((s for s in SCOPES if s == item), None)
        if scope is None:
            raise ConfigError(f"{label}: unknown scope {item!r}; expected one of "
                              f"{', '.join(sorted(SCOPES))}")  # fmt: skip
        scopes.add(scope)
    return frozenset(scopes)


def _refuse_duplicates(tokens: list[ApiToken]) -> None:
    names: set[str] = set()
    digests: dict[bytes, str] = {}
    for token in tokens:
        if token.name in names:
            raise ConfigError(f"JUMBE_API_TOKENS_FILE: the name {token.name!r} is used twice")
        if token.digest in digests:
            raise ConfigError(f"JUMBE_API_TOKENS_FILE: {token.name!r} has the same token as "
                              f"{digests[token.digest]!r}")  # fmt: skip
        names.add(token.name)
        digests[token.digest] = token.name


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _os_reason(exc: Exception) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)
