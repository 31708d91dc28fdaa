"""SMS inside ``serve``: the outbox, the consent ledger, the inbound handler and a worker.

``setup_sms(app)`` adds a cleanup context (after the Redis one) that builds them and, unless
``sms_worker`` is off, runs an outbox worker in the same event loop. The keyword routes come
from the content folder (``app[KEYWORDS]``, swapped on reload). The aggregators' SMS callbacks
live with their channel (``gateway.channels``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from gateway.appkeys import DATA_GUARD, FEED, KEYWORDS, PSEUDONYM, REDIS, SETTINGS
from gateway.channels.africastalking import sms as at_sms
from gateway.config import Settings
from gateway.consent.ledger import ConsentLedger
from gateway.sms.inbound import InboundHandler
from gateway.sms.outbox import Outbox, OutboxPolicy
from gateway.sms.worker import Worker, WorkerConfig
from gateway.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class SmsRuntime:
    """What other parts of the app use: ``outbox.send(...)`` and the consent ``ledger``."""

    outbox: Outbox
    ledger: ConsentLedger
    inbound: InboundHandler


SMS = web.AppKey("sms", SmsRuntime)


def setup_sms(app: web.Application) -> None:
    """Add the SMS lifecycle (the content folder has installed the keyword routes)."""
    app.cleanup_ctx.append(_sms_context)


def build_worker(settings: Settings, client: StoreClient, ledger: ConsentLedger) -> Worker:
    """A worker configured from settings, sending through the real AT SDK."""
    at, sms = settings.at, settings.sms
    sender = at_sms.AtSms(at.username, at.api_key, at.base_url, sms.send_timeout)
    config = WorkerConfig(
        concurrency=sms.concurrency, rate_per_sender=sms.rate_per_sender,
        max_attempts=sms.max_attempts, retry_base=sms.retry_base, claim_idle=sms.claim_idle,
        record_ttl=settings.retention.messages_seconds, shards=sms.shards,
    )  # fmt: skip
    return Worker(client, sender, ledger, config, sms.worker_name)


async def _sms_context(app: web.Application) -> AsyncIterator[None]:
    settings, client, pseudonym = app[SETTINGS], app[REDIS], app[PSEUDONYM]
    ledger = ConsentLedger(client, settings.consent_modes, guard=app[DATA_GUARD])
    ledger.feed = app[FEED]
    sms = settings.sms
    retention = settings.retention
    policy = OutboxPolicy(sms.max_segments, sms.sender_id, sms.promo_sender_id,
                          retention.messages_seconds, sms.shards)  # fmt: skip
    outbox = Outbox(client, ledger, pseudonym, policy)
    handler = InboundHandler(client, app[KEYWORDS], ledger, outbox, pseudonym,
                             keep=retention.events_seconds)  # fmt: skip
    app[SMS] = SmsRuntime(outbox, ledger, handler)
    stop = asyncio.Event()
    task = None
    if sms.worker:
        task = asyncio.create_task(build_worker(settings, client, ledger).run(stop))
    try:
        yield
    finally:
        if task is not None:
            stop.set()
            task.cancel()  # in-flight sends still finish inside run()'s cleanup
            await asyncio.gather(task, return_exceptions=True)
