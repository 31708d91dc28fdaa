"""Rewards inside ``serve``: the service, its fulfilment worker and the daily jobs.

``setup_rewards(app)`` adds a cleanup context (after SMS: receipts go through the outbox) that
builds ``Rewards`` under ``app[REWARDS]``, installs it as ``app[INCENTIVES]`` (engines that grant
points now credit the ledger directly), drains grants recorded before, and, unless
``rewards.worker`` is off, runs the fulfilment worker and the daily jobs (expiry, stuck
holds; each idempotent, run at start and every ``DAILY_EVERY`` seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import logs
from gateway.appkeys import CATALOGS, FEED, INCENTIVES, PSEUDONYM, REDIS, SETTINGS
from gateway.channels.africastalking.airtime import AtAirtime
from gateway.config import Settings
from gateway.errors import ConfigError, StoreError
from gateway.incentives import RecordedIncentives
from gateway.jobs.queue import JobQueue
from gateway.jobs.worker import JobWorker, WorkerConfig
from gateway.rewards import daily
from gateway.rewards.catalog import Catalogs
from gateway.rewards.fulfil import Fulfilment
from gateway.rewards.ledger import Ledger
from gateway.rewards.notify import SmsReceipts
from gateway.rewards.service import QUEUE, Rewards
from gateway.sms.runtime import SMS
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.rewards")

REWARDS = web.AppKey("rewards", Rewards)
QUEUE_SHARDS = 4
DAILY_EVERY = 3600.0
"""The daily jobs run hourly: each is idempotent, so running often only shortens delays."""


def setup_rewards(app: web.Application) -> None:
    app.cleanup_ctx.append(_rewards_context)


def build_worker(settings: Settings, rewards: Rewards) -> tuple[JobWorker, Fulfilment]:
    at, r = settings.at, settings.rewards
    airtime = AtAirtime(at.username, at.api_key, at.base_url, r.send_timeout)
    fulfilment = Fulfilment(rewards, airtime, r.recheck, r.concurrency)
    config = WorkerConfig(concurrency=r.concurrency, claim_idle=r.claim_idle)
    return JobWorker(rewards.queue, fulfilment, config, settings.sms.worker_name), fulfilment


def build_rewards(settings: Settings, client: StoreClient, app: web.Application) -> Rewards:
    ledger = Ledger(client)
    queue = JobQueue(client, QUEUE, QUEUE_SHARDS)
    return Rewards(ledger, app[CATALOGS], app[PSEUDONYM], queue, settings.rewards)


async def work(settings: Settings) -> None:
    """``jumbe worker --queue rewards``: the fulfilment worker and the daily jobs on their own,
    until SIGTERM/SIGINT (receipts go through the SMS outbox, sent by the SMS workers)."""
    import signal

    from gateway.consent.ledger import ConsentLedger
    from gateway.content.check import check_files
    from gateway.feed.runtime import feed_for
    from gateway.privacy import Pseudonymizer
    from gateway.sms.outbox import Outbox, OutboxPolicy
    from gateway.store.connection import connect, detect_cluster
    from gateway.store.meta import DataGuard

    assert settings.redis_url is not None
    if not settings.pseudonym_key:
        raise ConfigError("jumbe worker --queue rewards needs JUMBE_PSEUDONYM_KEY")
    good, _findings = check_files([settings.menus_dir])
    catalogs = Catalogs([b.value for b in good if b.kind == "catalog" and b.value is not None])
    client = connect(settings.redis_url, cluster=detect_cluster(settings.redis_url),
                     socket_timeout=5.0)  # fmt: skip
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    pseudonym = Pseudonymizer(settings.pseudonym_key)
    rewards = Rewards(Ledger(client), catalogs, pseudonym, JobQueue(client, QUEUE, QUEUE_SHARDS),
                      settings.rewards)  # fmt: skip
    consent = ConsentLedger(client, settings.consent_modes, guard=DataGuard(client, b""))
    rewards.feed = consent.feed = feed_for(settings, client)  # settled redemptions, opt-outs
    sms = settings.sms
    policy = OutboxPolicy(sms.max_segments, sms.sender_id, shards=sms.shards)
    outbox = Outbox(client, consent, pseudonym, policy)
    rewards.notify = SmsReceipts(outbox)
    worker, fulfilment = build_worker(settings, rewards)
    try:
        await asyncio.gather(worker.run(stop), _daily(rewards, RecordedIncentives(client), stop))
    finally:
        fulfilment.close()
        await client.aclose()


async def _daily(rewards: Rewards, recorded: RecordedIncentives, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await daily.drain_incentives(rewards, recorded)
            await daily.expire_all(rewards)
            await daily.requeue_stuck(rewards)
            await daily.trim_index(rewards)
        except StoreError as exc:
            log.error("rewards_daily_redis_error", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), DAILY_EVERY)


async def _rewards_context(app: web.Application) -> AsyncIterator[None]:
    settings, client = app[SETTINGS], app[REDIS]
    rewards = build_rewards(settings, client, app)
    rewards.notify = SmsReceipts(app[SMS].outbox)
    rewards.feed = app[FEED]
    app[REWARDS] = rewards
    app[INCENTIVES] = rewards
    if settings.rewards.daily_budget is None:
        log.warning("rewards_no_daily_budget", hint="set JUMBE_REWARDS_DAILY_BUDGET to cap the "
                    "airtime all numbers may get per day")  # fmt: skip
    stop = asyncio.Event()
    tasks = []
    fulfilment = None
    if settings.rewards.worker:
        worker, fulfilment = build_worker(settings, rewards)
        tasks.append(asyncio.create_task(worker.run(stop)))
        tasks.append(asyncio.create_task(_daily(rewards, RecordedIncentives(client), stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        if fulfilment is not None:
            fulfilment.close()
