"""``create_app(settings)``: the application, its resources (Redis, content) and their lifecycle.

Routes come from the channels (``gateway.channels``: the aggregators' callbacks), the
operator's endpoints (``http.health``, ``http.admin``) and the ``/v1`` API (``http.routes``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from gateway import channels, logs
from gateway.appkeys import (
    DATA_GUARD,
    EMBEDDED,
    FEED,
    HOP_REDIS,
    INCENTIVES,
    PIPELINE,
    PSEUDONYM,
    REDIS,
    REGISTRY,
    SESSION_ENDS,
    SETTINGS,
    SURVEY_STEPS,
    SURVEYS,
)
from gateway.config import Settings
from gateway.content.live import reload_context
from gateway.content.reloader import CONTENT, ContentReloader
from gateway.errors import ConfigError, ContentError
from gateway.feed.runtime import feed_for, setup_feed
from gateway.funnel.counts import FunnelCounts
from gateway.hops import rewards as rewards_effects
from gateway.hops.effects import Handler
from gateway.hops.handlers import effect_runner
from gateway.hops.pipeline import HopPipeline
from gateway.hops.surveys import SurveySteps
from gateway.http import admin, health, metrics
from gateway.http.ads_setup import setup_ads
from gateway.http.routes import setup_api
from gateway.http.v1_surveys import setup_surveys
from gateway.incentives import RecordedIncentives
from gateway.menu.findings import has_errors
from gateway.menu.screens.survey import SurveyStep
from gateway.privacy import Pseudonymizer
from gateway.rewards.runtime import setup_rewards
from gateway.sms.runtime import setup_sms
from gateway.store.cluster import ClusterPipelinedRedis
from gateway.store.connection import connect
from gateway.store.embedded import EmbeddedRedis, supervise
from gateway.store.meta import DataGuard
from gateway.store.pipelined import HopClient, PipelinedRedis
from gateway.store.session_ends import SessionEnds
from gateway.store.session_store import SessionStore

log = logs.get_logger("gateway")

MAX_BODY = 64 * 1024
"""Largest request body accepted (an aggregator's callback is a few hundred bytes)."""


def create_app(settings: Settings, embedded: EmbeddedRedis | None = None) -> web.Application:
    """The gateway application. Loads the content folder now (raising ``ContentError`` on errors).

    ``settings`` name the Redis and the pseudonym key (``serve`` resolves both first, see
    ``gateway.store.connection.prepared_store``); ``embedded`` is the embedded Redis this
    process owns, which the app then restarts whenever it dies.
    """
    if settings.redis_url is None or not settings.pseudonym_key:
        raise ConfigError("create_app needs a Redis URL and the pseudonym key (see prepared_store)")
    app = web.Application(client_max_size=MAX_BODY)
    app[SETTINGS] = settings
    content = ContentReloader(app, settings.menus_dir, channels.content_budget(settings))
    report = content.load()  # every kind installs what it serves (app[REGISTRY], …)
    if has_errors(report.findings):
        raise ContentError([f for f in report.findings if f.severity == "error"])
    for finding in report.findings:
        log.warning("content_check", finding=str(finding))
    app[CONTENT] = content
    app[PSEUDONYM] = Pseudonymizer(settings.pseudonym_key)
    if embedded is not None:
        app[EMBEDDED] = embedded
    app.cleanup_ctx.append(_redis_context)
    app.cleanup_ctx.append(reload_context)
    channels.setup(app)
    health.add_routes(app)
    metrics.add_routes(app)
    admin.add_routes(app)
    setup_sms(app)
    setup_rewards(app)
    setup_ads(app)  # after the Redis and SMS contexts: it uses their clients
    setup_surveys(app)
    setup_feed(app)  # after every engine that publishes events
    setup_api(app)
    return app


async def _redis_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    url = settings.redis_url
    assert url is not None
    timeout = min(2.0, settings.hop_deadline)
    client = connect(url, cluster=settings.redis_cluster, socket_timeout=timeout)
    app[REDIS] = client
    app[SESSION_ENDS] = SessionEnds(client, settings.retention.events_seconds)
    app[FEED] = feed_for(settings, client)
    app[INCENTIVES] = RecordedIncentives(client)
    app[DATA_GUARD] = DataGuard(client, settings.pseudonym_key)
    hop_client: HopClient = (
        ClusterPipelinedRedis(url, timeout=timeout)
        if settings.redis_cluster
        else PipelinedRedis(url, timeout=timeout)
    )
    app[HOP_REDIS] = hop_client
    effects = contextlib.AsyncExitStack()
    funnel = FunnelCounts()
    surveys = SurveySteps(lambda: app[SURVEYS], hop_client, lambda: app[INCENTIVES])
    surveys.feed = app[FEED]
    app[SURVEY_STEPS] = surveys
    steps: dict[type[Any], Handler] = {**rewards_effects.handlers(app), SurveyStep: surveys}
    app[PIPELINE] = HopPipeline(
        app[REGISTRY],
        SessionStore(hop_client, settings.session_ttl),
        app[PSEUDONYM],
        deadline=settings.hop_deadline,
        screen_limits=settings.screen_limits,
        effects=await effects.enter_async_context(effect_runner(settings, steps)),
        funnel=funnel,
    )
    stop = asyncio.Event()
    watchers = [
        asyncio.create_task(app[DATA_GUARD].watch(stop)),
        asyncio.create_task(funnel.run(client, stop)),
    ]
    if EMBEDDED in app:
        watchers.append(asyncio.create_task(supervise(app[EMBEDDED], stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        await effects.aclose()
        await hop_client.close()
        await client.aclose()
