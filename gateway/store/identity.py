"""The pseudonym key: part of the data, the same in every process and across restarts.

Everything Jumbe knows about a subscriber is stored under HMAC(key, number). A key that changes
silently orphans all of it: a subscriber's language, their resume points, and — worst — their
opt-outs. So:

- ``JUMBE_PSEUDONYM_KEY`` (any secret of at least 32 characters, used as its UTF-8 bytes) wins;
- with the embedded Redis and no variable, the key lives in ``<data dir>/pseudonym.key`` (mode
  0600), created on first start and reused by every later start and every worker;
- with an external Redis the variable is required (gateways on several machines must agree);
- Redis remembers a check value of the key (``gateway.store.meta``): a gateway whose key differs
  from the one the data was written with refuses to start instead of forgetting everyone.

Rotating the key is not supported: pseudonyms are one-way, so the data cannot be re-keyed
without the numbers (which Jumbe deliberately does not keep).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from gateway.errors import ConfigError

KEY_FILE = "pseudonym.key"
MIN_KEY_LENGTH = 32
ENV = "JUMBE_PSEUDONYM_KEY"
_GENERATE = "generate one with: openssl rand -hex 32"


def validate_key(raw: str, source: str = ENV) -> bytes:
    """``raw`` as key bytes; ``ConfigError`` when it is too short to be a secret."""
    key = raw.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise ConfigError(
            f"{source} must be a secret of at least {MIN_KEY_LENGTH} characters "
            f"(it has {len(key)}); {_GENERATE}"
        )
    return key.encode()


def load_or_create_key(data_dir: Path) -> bytes:
    """The key kept in ``data_dir`` (created with mode 0600 on first use)."""
    path = data_dir / KEY_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32) + "\n")
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        path.chmod(0o600)  # a copy restored with loose permissions: the key is a secret
    return validate_key(path.read_text(), str(path))


def resolve_key(env_key: bytes, data_dir: Path, *, embedded: bool) -> bytes:
    """The key to use: the variable, else the data dir's (embedded Redis only)."""
    if env_key:
        return validate_key(env_key.decode(), ENV)
    if embedded:
        return load_or_create_key(data_dir)
    raise ConfigError(
        f"{ENV} is required with an external Redis: every gateway process must use the same "
        f"key, or subscribers are forgotten and opt-outs orphaned; {_GENERATE}"
    )


def key_check(key: bytes) -> str:
    """A value that tells whether two keys are the same, without revealing the key."""
    return hmac.new(key, b"jumbe:pseudonym-key-check", hashlib.sha256).hexdigest()[:16]
