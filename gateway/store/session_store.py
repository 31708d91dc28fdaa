"""Reading and compare-and-set writing of USSD sessions over the pipelined hop-path client."""

from __future__ import annotations

from importlib import resources

from gateway.errors import StoreUnavailable
from gateway.store.pipelined import PipelinedRedis, RedisReplyError

SAVED = 1
EXPIRED = 0
CAS_SCRIPT = resources.files("gateway.store").joinpath("session_cas.lua").read_text()


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

    async def save(self, key: str, read_version: int, value: bytes) -> int | bytes:
        """Write ``value`` if the stored version is still ``read_version``.

        Returns ``SAVED``; ``EXPIRED`` when the session vanished; else the value now stored.
        """
        try:
            result = await self.client.run_script(
                CAS_SCRIPT, [key], [read_version, value, self.ttl_ms]
            )
        except RedisReplyError as exc:
            raise StoreUnavailable(f"redis session write failed: {exc}") from exc
        if isinstance(result, bytes):
            return result
        return SAVED if result == 1 else EXPIRED
