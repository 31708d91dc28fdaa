"""``EventFeed``: publish an event for the brand's CRM; nothing is kept when no feed is set."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway import logs
from gateway.jobs.queue import JobQueue
from gateway.store import keys
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.feed")

QUEUE = "feed"
TYPES = ("consent.changed", "survey.completed", "redemption.settled", "ad.conversion")


def new_event_id(now: float) -> str:
    """A unique, roughly time-ordered event id."""
    return f"ev{int(now * 1000):x}{secrets.token_hex(6)}"


class EventFeed:
    """Publishes events (``None`` queue: the feed is off and publishing does nothing)."""

    def __init__(
        self,
        client: StoreClient,
        queue: JobQueue | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.queue = queue
        """The delivery jobs' queue; ``None`` when the feed is off."""
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.queue is not None

    async def publish(self, kind: str, pseudonym: str, msisdn: str, data: dict[str, Any]) -> None:
        """Keep ``{"id", "type", "at", "msisdn", "data"}`` for the subscriber and schedule its
        delivery. The job goes first: an event is never left without a job to deliver it
        (a job that finds nothing to send does nothing)."""
        if self.queue is None:
            return
        if kind not in TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        now = self._clock()
        event_id = new_event_id(now)
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        body = {"id": event_id, "type": kind, "at": at.replace("+00:00", "Z"),
                "msisdn": msisdn, "data": data}  # fmt: skip
        await self.queue.enqueue(f"{pseudonym}|{event_id}", pseudonym)
        await self._redis.rpush(keys.feed_pending(pseudonym), orjson.dumps(body))
        log.info("feed_event", event_id=event_id, type=kind, subscriber=pseudonym)

    async def publish_quietly(
        self, kind: str, pseudonym: str, msisdn: str, data: dict[str, Any]
    ) -> None:
        """``publish`` where the caller's own work is already done and must not fail because
        the feed could not be written (logged at error: the event is lost)."""
        try:
            await self.publish(kind, pseudonym, msisdn, data)
        except Exception:
            log.exception("feed_event_not_stored", type=kind, subscriber=pseudonym)
