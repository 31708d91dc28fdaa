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

from gateway.appkeys import DATA_GUARD, KEYWORDS, PSEUDONYM, REDIS, SETTINGS
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
    sender = at_sms.AtSms(settings.at_username, settings.at_api_key, settings.at_base_url,
                          settings.sms_send_timeout)  # fmt: skip
    config = WorkerConfig(
        concurrency=settings.sms_concurrency, rate_per_sender=settings.sms_rate_per_sender,
        max_attempts=settings.sms_max_attempts, retry_base=settings.sms_retry_base,
        claim_idle=settings.sms_claim_idle,
    )  # fmt: skip
    return Worker(client, sender, ledger, config, settings.sms_worker_name)


async def _sms_context(app: web.Application) -> AsyncIterator[None]:
    settings, client, pseudonym = app[SETTINGS], app[REDIS], app[PSEUDONYM]
    ledger = ConsentLedger(client, settings.consent_modes, guard=app[DATA_GUARD])
    policy = OutboxPolicy(settings.sms_max_segments, settings.sms_sender_id,
                          settings.sms_promo_sender_id)  # fmt: skip
    outbox = Outbox(client, ledger, pseudonym, policy)
    handler = InboundHandler(client, app[KEYWORDS], ledger, outbox, pseudonym)
    app[SMS] = SmsRuntime(outbox, ledger, handler)
    stop = asyncio.Event()
    task = None
    if settings.sms_worker:
        task = asyncio.create_task(build_worker(settings, client, ledger).run(stop))
    try:
        yield
    finally:
        if task is not None:
            stop.set()
            task.cancel()  # in-flight sends still finish inside run()'s cleanup
            await asyncio.gather(task, return_exceptions=True)
