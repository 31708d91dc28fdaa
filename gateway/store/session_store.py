"""Reading and compare-and-set writing of USSD sessions over the pipelined hop-path client."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from gateway.errors import StoreUnavailable
from gateway.store import lua
from gateway.store.pipelined import PipelinedRedis, RedisReplyError

SAVED = 1
EXPIRED = 0
CAS_SCRIPT = lua.source("session_cas")

Command = tuple[Any, ...]


class SessionStore:
    """Sessions are ``<version>\\n<payload>`` strings; writes are compare-and-set on the version."""

    def __init__(self, client: PipelinedRedis, ttl_seconds: int) -> None:
        self.client = client
        self.ttl_ms = ttl_seconds * 1000

    async def load(self, key: str) -> bytes | None:
        """The stored value, or ``None`` when there is no such session (or it expired)."""
        try:
            value: bytes | None = await self.client.execute(b"GET", key)
        except RedisReplyError as exc:
            raise StoreUnavailable(f"redis GET failed: {exc}") from exc
        return value

    async def load_start(
        self, subscriber_key: str, resume_key: str | None
    ) -> tuple[str | None, bytes | None]:
        """A new session's context, in one round trip: (remembered language, resume point)."""
        try:
            language, resume = await asyncio.gather(
                self.client.execute(b"HGET", subscriber_key, b"lang"),
                self.client.execute(b"GET", resume_key) if resume_key else _none(),
            )
        except RedisReplyError as exc:
            raise StoreUnavailable(f"redis subscriber lookup failed: {exc}") from exc
        return (language.decode() if isinstance(language, bytes) else None), resume

    async def save(
        self, key: str, read_version: int, value: bytes, effects: Sequence[Command] = ()
    ) -> int | bytes:
        """Write ``value`` if the stored version is still ``read_version``.

        ``effects`` (e.g. a resume point, a remembered language) are sent in the same round
        trip, after the compare-and-set on the same connection, and run whatever its outcome
        (they live in another Cluster slot, so one script cannot guard them). A caller whose
        compare-and-set lost therefore rewrites them from the winning value with ``apply``.
        Returns ``SAVED``; ``EXPIRED`` when the session vanished; else the value now stored.
        """
        cas = self.client.run_script(CAS_SCRIPT, [key], [read_version, value, self.ttl_ms])
        try:
            if effects:  # gather costs a Task per command: only when there is more than one
                result, *_ = await asyncio.gather(
                    cas, *(self.client.execute(*command) for command in effects)
                )
            else:
                result = await cas
        except RedisReplyError as exc:
            raise StoreUnavailable(f"redis session write failed: {exc}") from exc
        if isinstance(result, bytes):
            return result
        return SAVED if result == 1 else EXPIRED

    async def apply(self, commands: Sequence[Command]) -> None:
        """Send ``commands`` in one round trip (pipelined on the hop-path connection)."""
        try:
            await asyncio.gather(*(self.client.execute(*command) for command in commands))
        except RedisReplyError as exc:
            raise StoreUnavailable(f"redis write failed: {exc}") from exc


async def _none() -> None:
    return None
