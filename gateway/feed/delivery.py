"""Delivering a subscriber's pending events: the feed queue's job handler."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

from gateway import logs
from gateway.jobs.queue import Job
from gateway.jobs.worker import Done, Outcome, Retry
from gateway.signing import SIGNATURE_HEADER, signature
from gateway.store import keys, lua
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.feed")

MAX_PER_JOB = 100
"""Events one job delivers before it lets others run (each event has a job of its own too)."""
_DELIVERED = lua.source("feed_delivered")


class FeedDelivery:
    """POSTs pending events to the CRM, oldest first per subscriber, each removed after a 2xx."""

    def __init__(self, client: StoreClient, url: str, secret: str, timeout: float = 10.0) -> None:
        self._redis = client
        self._url = url
        self._secret = secret.encode()
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._delivered = client.register_script(_DELIVERED)
        self._session: aiohttp.ClientSession | None = None
        self._busy: dict[str, tuple[asyncio.Lock, list[int]]] = {}
        """One delivery at a time per subscriber in this process (each event has a job, so
        several may run at once): the others then find the events already delivered."""

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(headers={"User-Agent": "jumbe-event-feed"})
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __call__(self, job: Job) -> Outcome:
        lock, users = self._busy.setdefault(job.data, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                return await self._deliver(job)
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._busy[job.data]

    async def _deliver(self, job: Job) -> Outcome:
        pending = keys.feed_pending(job.data)
        for _ in range(MAX_PER_JOB):
            head: Any = await self._redis.lindex(pending, 0)
            if head is None:
                if job.attempt == 0:  # its event may be a moment from being kept: look again
                    return Retry("no event yet", delay=1.0)
                return Done()
            failure = await self._post(head)
            event = orjson.loads(head)
            if failure is not None:
                log.warning("feed_delivery_failed", event_id=event["id"], type=event["type"],
                            subscriber=job.data, attempt=job.attempt, reason=failure)  # fmt: skip
                return Retry(failure)
            await self._delivered(keys=[pending], args=[head])
            log.info("feed_delivered", event_id=event["id"], type=event["type"],
                     subscriber=job.data)  # fmt: skip
        return Done()

    async def _post(self, body: bytes) -> str | None:
        """``None`` when the CRM answered 2xx, else why not."""
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: signature(self._secret, body)}  # fmt: skip
        try:
            async with self._client().post(self._url, data=body, headers=headers,
                                           timeout=self._timeout) as response:  # fmt: skip
                if 200 <= response.status < 300:
                    return None
                return f"HTTP {response.status}"
        except TimeoutError:
            return "timed out"
        except aiohttp.ClientError as exc:
            return f"{type(exc).__name__}"
