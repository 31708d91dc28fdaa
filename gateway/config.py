"""One frozen ``Settings``: environment (``JUMBE_*``) overridden by command-line flags.

Every field is documented where it is declared; README's configuration table mirrors this file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Settings:
    """Runtime configuration of one gateway process."""

    menus_dir: Path = Path("menus")
    """Folder of menu files (``*.yaml``), one service per file."""
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = None
    """Redis to use; ``None`` starts the embedded Redis under ``data_dir``."""
    data_dir: Path = Path("var")
    """Where the embedded Redis persists (append-only file)."""
    session_ttl: int = 180
    """Seconds a USSD session lives after its last hop (AT/Safaricom cap a session at 180 s)."""
    hop_deadline: float = 5.0
    """Seconds a hop may take (lock waits and Redis included) before the subscriber gets an END."""
    callback_token: str | None = None
    """Secret the aggregator sends as the ``token`` query parameter; ``None`` = open (warned)."""
    allowed_ips: tuple[str, ...] = ()
    """Optional allow-list of callback source addresses (exact IPs); empty = any."""
    pseudonym_key: bytes = field(default=b"", repr=False)
    """HMAC key for phone-number pseudonyms in logs and exports. Empty = random per process."""
    log_format: str = "auto"
    """``json``, ``console`` or ``auto`` (console on a TTY, JSON otherwise)."""
    log_level: str = "info"
    at_username: str = "sandbox"
    at_api_key: str = field(default="", repr=False)
    at_base_url: str | None = None
    """Override Africa's Talking's API base (tests point it at the local fake)."""
    admin_token: str | None = field(default=None, repr=False)

    def with_overrides(self, **overrides: Any) -> Settings:
        """Return a copy with every non-``None`` override applied (flags beat environment)."""
        known = {f.name for f in fields(self)}
        unknown = set(overrides) - known
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def effective_pseudonym_key(self) -> bytes:
        return self.pseudonym_key or _PROCESS_KEY


_PROCESS_KEY = secrets.token_bytes(32)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number") from None


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from ``JUMBE_*`` variables (plain ``REDIS_URL`` is accepted too)."""
    env = os.environ if env is None else env
    log_format = env.get("JUMBE_LOG_FORMAT", "auto").lower()
    if log_format not in {"auto", "json", "console"}:
        raise ConfigError(f"JUMBE_LOG_FORMAT={log_format!r}: expected json, console or auto")
    ttl = _int(env, "JUMBE_SESSION_TTL", 180)
    if ttl <= 0:
        raise ConfigError(f"JUMBE_SESSION_TTL={ttl}: must be positive")
    ips = tuple(ip.strip() for ip in env.get("JUMBE_ALLOWED_IPS", "").split(",") if ip.strip())
    return Settings(
        menus_dir=Path(env.get("JUMBE_MENUS", "menus")),
        host=env.get("JUMBE_HOST", "127.0.0.1"),
        port=_int(env, "JUMBE_PORT", 8000),
        redis_url=env.get("JUMBE_REDIS_URL") or env.get("REDIS_URL") or None,
        data_dir=Path(env.get("JUMBE_DATA_DIR", "var")),
        session_ttl=ttl,
        hop_deadline=_float(env, "JUMBE_HOP_DEADLINE", 5.0),
        callback_token=env.get("JUMBE_CALLBACK_TOKEN") or None,
        allowed_ips=ips,
        pseudonym_key=env.get("JUMBE_PSEUDONYM_KEY", "").encode(),
        log_format=log_format,
        log_level=env.get("JUMBE_LOG_LEVEL", "info").lower(),
        at_username=env.get("JUMBE_AT_USERNAME", "sandbox"),
        at_api_key=env.get("JUMBE_AT_API_KEY", ""),
        at_base_url=env.get("JUMBE_AT_BASE_URL") or None,
        admin_token=env.get("JUMBE_ADMIN_TOKEN") or None,
    )
