"""``EventFeed``: publish an event for the brand's CRM; nothing is kept when no feed is set."""

from __future__ import annotations

import hashlib
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


def stable_event_id(*parts: str) -> str:
    """The id of an event that must be the same however often it is published (a completion
    computed by two processes, a hop retried after a failed save): the CRM deduplicates on it."""
    return "ev" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


class EventFeed:
    """Publishes events (``None`` queue: the feed is off and publishing does nothing)."""

    def __init__(
        self,
        client: StoreClient,
        queue: JobQueue | None,
        clock: Callable[[], float] = time.time,
        keep: int = 30 * 86400,
    ) -> None:
        self._redis = client
        self._keep = keep
        """Seconds a subscriber's undelivered events are kept after the latest one
        (``JUMBE_RETENTION_EVENTS_DAYS``): a CRM that refuses them for longer loses them."""
        self.queue = queue
        """The delivery jobs' queue; ``None`` when the feed is off."""
        self._clock = clock

    @property
    def enabled(self) -> bool:
        return self.queue is not None

    async def publish(
        self, kind: str, pseudonym: str, msisdn: str, data: dict[str, Any],
        event_id: str | None = None,
    ) -> None:  # fmt: skip
        """Keep ``{"id", "type", "at", "msisdn", "data"}`` for the subscriber and schedule its
        delivery (``event_id``: a stable id, see ``stable_event_id``). The job goes first, so
        an event is never left without a job; a job that finds nothing yet looks once more a
        moment later (``FeedDelivery``)."""
        if self.queue is None:
            return
        if kind not in TYPES:
            raise ValueError(f"unknown event type {kind!r}")
        now = self._clock()
        event_id = event_id or new_event_id(now)
        at = datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")
        body = {"id": event_id, "type": kind, "at": at.replace("+00:00", "Z"),
                "msisdn": msisdn, "data": data}  # fmt: skip
        await self.queue.enqueue(f"{pseudonym}|{event_id}", pseudonym)
        pending = keys.feed_pending(pseudonym)
        await self._redis.rpush(pending, orjson.dumps(body))
        await self._redis.expire(pending, self._keep)
        log.info("feed_event", event_id=event_id, type=kind, subscriber=pseudonym)

    async def publish_quietly(
        self, kind: str, pseudonym: str, msisdn: str, data: dict[str, Any],
        event_id: str | None = None,
    ) -> None:  # fmt: skip
        """``publish`` where the caller's own work is already done and must not fail because
        the feed could not be written (logged at error: the event is lost)."""
        try:
            await self.publish(kind, pseudonym, msisdn, data, event_id)
        except Exception:
            log.exception("feed_event_not_stored", type=kind, subscriber=pseudonym)
