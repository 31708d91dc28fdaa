"""The event feed in ``serve``: ``feed_for(settings, client)`` builds ``app[FEED]`` (which the
engines publish to), ``setup_feed(app)`` runs its delivery worker when
``JUMBE_EVENT_FEED_URL`` is set."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import logs
from gateway.appkeys import FEED, REDIS, SETTINGS
from gateway.config import Settings
from gateway.feed.delivery import FeedDelivery
from gateway.feed.events import QUEUE, EventFeed
from gateway.jobs.queue import JobQueue
from gateway.jobs.worker import JobWorker, WorkerConfig
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.feed")

QUEUE_SHARDS = 8
NEVER_GIVE_UP = 1_000_000
"""Attempts before a delivery is dead-lettered: in effect never (backoff tops out at 15
minutes, so a CRM that is down for days still gets every event when it is back)."""


def feed_for(settings: Settings, client: StoreClient) -> EventFeed:
    """The feed engines publish to: off (publishing keeps nothing) without a feed URL."""
    queue = JobQueue(client, QUEUE, QUEUE_SHARDS) if settings.feed.url else None
    return EventFeed(client, queue, keep=settings.retention.events_seconds)


def setup_feed(app: web.Application) -> None:
    """Run the delivery worker (when a feed URL is set) for the life of the app."""
    app.cleanup_ctx.append(_feed_context)


async def _feed_context(app: web.Application) -> AsyncIterator[None]:
    settings, client, queue = app[SETTINGS], app[REDIS], app[FEED].queue
    feed_settings = settings.feed
    stop = asyncio.Event()
    task = None
    delivery = None
    if queue is not None and feed_settings.worker:
        assert feed_settings.url and feed_settings.secret  # checked by config
        delivery = FeedDelivery(client, feed_settings.url, feed_settings.secret,
                                feed_settings.timeout)  # fmt: skip
        config = WorkerConfig(concurrency=16, max_attempts=NEVER_GIVE_UP,
                              retry_base=feed_settings.retry_base)  # fmt: skip
        task = asyncio.create_task(JobWorker(queue, delivery, config).run(stop))
    try:
        yield
    finally:
        stop.set()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        if delivery is not None:
            await delivery.close()
