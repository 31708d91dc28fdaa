"""HTTP side of SMS: the three AT callbacks, and the worker inside ``serve``.

``setup_sms(app)`` registers ``POST /sms/africastalking/{inbound,delivery,optout}`` and a
cleanup context (after the Redis one) that builds the outbox and, unless ``sms_worker`` is off,
runs an outbox worker in the same event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import redis
from aiohttp import web

from gateway import logs
from gateway.appkeys import PSEUDONYM, REDIS, SETTINGS
from gateway.channels.africastalking import sms as at_sms
from gateway.channels.base import Refusal, read_callback
from gateway.config import Settings
from gateway.consent import PURPOSES
from gateway.consent.ledger import ConsentLedger
from gateway.privacy import Pseudonymizer
from gateway.sms.inbound import InboundHandler
from gateway.sms.keywords import KeywordRouter, load_router
from gateway.sms.outbox import Outbox, OutboxPolicy
from gateway.sms.worker import Worker, WorkerConfig

log = logs.get_logger("gateway.sms")


@dataclass(frozen=True, slots=True)
class SmsRuntime:
    """What other parts of the app use: ``outbox.send(...)`` and the consent ``ledger``."""

    outbox: Outbox
    ledger: ConsentLedger
    inbound: InboundHandler


SMS = web.AppKey("sms", SmsRuntime)
ROUTER = web.AppKey("sms_router", KeywordRouter)


def setup_sms(app: web.Application) -> None:
    """Add the SMS routes and lifecycle; loads the keyword file now (``ConfigError`` if bad)."""
    app[ROUTER] = load_router(app[SETTINGS].sms_keywords)
    app.cleanup_ctx.append(_sms_context)
    app.router.add_post("/sms/africastalking/inbound", inbound)
    app.router.add_post("/sms/africastalking/delivery", delivery)
    app.router.add_post("/sms/africastalking/optout", optout)


def build_worker(settings: Settings, client: redis.asyncio.Redis, ledger: ConsentLedger) -> Worker:
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
    ledger = ConsentLedger(client, settings.consent_modes)
    policy = OutboxPolicy(settings.sms_max_segments, settings.sms_sender_id,
                          settings.sms_promo_sender_id)  # fmt: skip
    outbox = Outbox(client, ledger, pseudonym, policy)
    handler = InboundHandler(client, app[ROUTER], ledger, outbox, pseudonym)
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


def _bad(request: web.Request, status: int, reason: str) -> web.Response:
    log.warning("sms_callback_refused", path=request.path, status=status, reason=reason)
    return web.Response(status=status, text=reason, content_type="text/plain")


def _pseudonym(request: web.Request) -> Pseudonymizer:
    return request.app[PSEUDONYM]


async def inbound(request: web.Request) -> web.Response:
    """An SMS from a subscriber: handled once per AT ``id``; keywords act and reply."""
    sms = await read_callback(request, request.app[SETTINGS], at_sms.parse_inbound)
    if isinstance(sms, Refusal):
        return _bad(request, sms.status, sms.reason)
    try:
        route = await request.app[SMS].inbound.handle(sms)
    except (redis.RedisError, OSError) as exc:
        log.error("sms_inbound_not_stored", error=str(exc))
        return web.Response(status=503, text="store unavailable; retry later")
    log.info("sms_inbound", inbound_id=sms.inbound_id, subscriber=_pseudonym(request)(
        sms.phone_number), route=route.kind if route else "duplicate",
        keyword=route.keyword if route else "")  # fmt: skip
    return web.Response(text="OK")


async def delivery(request: web.Request) -> web.Response:
    """A delivery report: moves a message's status forward only (an unknown status word is
    kept verbatim); ``UserInBlackList`` records an opt-out whatever the status."""
    report = await read_callback(request, request.app[SETTINGS], at_sms.parse_delivery_report)
    if isinstance(report, Refusal):
        return _bad(request, report.status, report.reason)
    sms = request.app[SMS]
    try:
        outcome, subscriber = await sms.outbox.apply_delivery_report(
            report.at_message_id, report.status, report.reported, report.failure_reason
        )
        if report.opted_out:
            subscriber = subscriber or _pseudonym(request)(report.phone_number)
            await sms.ledger.record(
                subscriber, PURPOSES, "revoked", source="at_dlr_UserInBlackList", channel="sms",
                event_id=f"dlr:{at_sms.PROVIDER}:{report.at_message_id}",
            )  # fmt: skip
    except (redis.RedisError, OSError) as exc:
        log.error("sms_delivery_not_stored", error=str(exc))
        return web.Response(status=503, text="store unavailable; retry later")
    log.info("sms_delivery", at_message_id=report.at_message_id, status=report.status,
             reported=report.reported, outcome=outcome,
             failure_reason=report.failure_reason)  # fmt: skip
    return web.Response(text="OK")


async def optout(request: web.Request) -> web.Response:
    """AT's bulk SMS opt-out notification: recorded in the consent ledger at once (a repeat of
    the current decision changes nothing, so a retry adds no history)."""
    notice = await read_callback(request, request.app[SETTINGS], at_sms.parse_opt_out)
    if isinstance(notice, Refusal):
        return _bad(request, notice.status, notice.reason)
    subscriber = _pseudonym(request)(notice.phone_number)
    try:
        await request.app[SMS].ledger.record(
            subscriber, PURPOSES, "revoked", source=f"at_optout:{notice.sender_id}",
            channel="sms",
        )  # fmt: skip
    except (redis.RedisError, OSError) as exc:
        log.error("sms_optout_not_stored", error=str(exc))
        return web.Response(status=503, text="store unavailable; retry later")
    log.info("sms_optout", subscriber=subscriber, sender_id=notice.sender_id)
    return web.Response(text="OK")
