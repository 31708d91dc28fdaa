"""Short leases in Redis: one holder at a time across every gateway process and machine, for
work that reads, decides and writes (a subscriber's survey replies, which arrive at whichever
process AT's load balancer picks).

A lease is ``SET key token NX PX ttl``; a waiter polls until it gets it or gives up with
``StoreUnavailable`` (a callback then answers 503 and the aggregator retries); it is given back
only by its holder's token. A holder slower than ``ttl`` loses it (a stalled process must not
block a subscriber for ever): the lease bounds the wait, it is not a guarantee for slow work.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections.abc import AsyncIterator

from gateway import logs
from gateway.errors import StoreError, StoreUnavailable
from gateway.store import lua
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.store")
RELEASE = lua.source("lease_release")


class Leases:
    """``async with leases.hold(key):`` — alone on ``key`` while inside."""

    def __init__(
        self, client: StoreClient, ttl: float = 5.0, wait: float = 4.0, poll: float = 0.02
    ) -> None:
        self._client = client
        self._release = client.register_script(RELEASE)
        self.ttl_ms = int(ttl * 1000)
        self.wait = wait
        self.poll = poll

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        token = secrets.token_hex(8)
        give_up = time.monotonic() + self.wait
        while not await self._client.set(key, token, nx=True, px=self.ttl_ms):
            if time.monotonic() > give_up:
                raise StoreUnavailable(f"{key} stayed busy for {self.wait}s")
            await asyncio.sleep(self.poll)
        try:
            yield
        finally:
            try:
                await self._release(keys=[key], args=[token])
            except StoreError as exc:  # the work is done; the lease expires within its TTL
                log.warning("lease_not_released", key=key, error=str(exc))
