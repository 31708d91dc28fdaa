"""The balance-check ads' runtime on an app: the ad server, the ad events and the lifecycle
recorder on the hop path's Redis client, wired to the hop pipeline, SMS, surveys and rewards,
and closed with the app. Apart from the handlers (``http/v1_ads.py``): a cleanup context is an
async generator, which the compiled build does not compile, and the handlers are compiled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from aiohttp import web

from gateway.ads.events import AdEvents
from gateway.ads.server import AdServer
from gateway.appkeys import (
    ACTIVITY,
    AD_EVENTS,
    ADS,
    CAMPAIGNS,
    HOP_REDIS,
    PIPELINE,
    SETTINGS,
    SURVEY_STEPS,
)
from gateway.hops.ad_fill import ad_fill_handler
from gateway.http.v1_ads import FOLLOW_UPS
from gateway.lifecycle.recorder import ActivityRecorder
from gateway.menu.screens.ad_slot import AdFill
from gateway.rewards.runtime import REWARDS
from gateway.sms.runtime import SMS

_REWARDS_ACTIVITY = {"earn": "purchase", "redeem": "redemption"}


def _rewards_activity(recorder: ActivityRecorder) -> Callable[[str, str], Awaitable[None]]:
    """The rewards engine's activity (``earn``, ``redeem``) as lifecycle activity."""

    async def listen(subscriber: str, what: str) -> None:
        recorder.record(subscriber, _REWARDS_ACTIVITY.get(what, what))

    return listen


def setup_ads(app: web.Application) -> None:
    """The ad server and the activity recorder, on the hop path's Redis client (after the
    Redis context has opened it)."""
    app.cleanup_ctx.append(_ads_context)


async def _ads_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    thresholds = settings.lifecycle
    recorder = ActivityRecorder(app[HOP_REDIS], thresholds)
    app[ACTIVITY] = recorder
    app[PIPELINE].activity = recorder
    server = AdServer(
        app[HOP_REDIS], app[CAMPAIGNS], mode=settings.consent_modes.get("ads", "opt_in"),
        per_day=settings.ads.per_day, thresholds=thresholds,
    )  # fmt: skip
    app[ADS] = server
    events = AdEvents(app[HOP_REDIS], app[CAMPAIGNS])
    app[AD_EVENTS] = events
    app[PIPELINE].dialled = events.dialled
    app[PIPELINE].effects.register(AdFill, ad_fill_handler(server, settings.ads.deadline_ms / 1000))
    app[SMS].inbound.activity = recorder
    if SURVEY_STEPS in app:
        app[SURVEY_STEPS].activity = recorder.record
    if REWARDS in app:  # points earned (a brand's purchase, an incentive) and redemptions
        app[REWARDS].listeners.append(_rewards_activity(recorder))
    app[SMS].inbound.replied = events.replied
    app[SMS].outbox.delivered = events.sms_delivered
    try:
        yield
    finally:
        await FOLLOW_UPS.close()
        await server.close()
        await events.close()
        await recorder.close()
