"""Typed keys for what the aiohttp application holds (one place, so any module can import them
without importing ``gateway.http.app``). The content reloader's key is ``content.reloader.CONTENT``
(it imports the content kinds, which import these keys)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from gateway.config import Settings
from gateway.hops.pipeline import HopPipeline
from gateway.incentives import IncentiveSink
from gateway.menu.registry import MenuRegistry
from gateway.privacy import Pseudonymizer
from gateway.rewards.catalog import Catalogs
from gateway.sms.keywords import KeywordRoutes
from gateway.store.client import StoreClient
from gateway.store.embedded import EmbeddedRedis
from gateway.store.meta import DataGuard
from gateway.store.session_ends import SessionEnds
from gateway.surveys.catalog import SurveyCatalog

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", MenuRegistry)
"""The menus being served (``kind: menu`` files), installed by ``content.menus``."""
KEYWORDS = web.AppKey("keywords", KeywordRoutes)
"""The inbound SMS keyword routes being served (the ``kind: keywords`` file, or only the
built-ins), installed by ``content.keywords``."""
REDIS: web.AppKey[StoreClient] = web.AppKey("redis")
"""redis-py client for everything off the hop path (events, SMS, readiness); its errors are
already ``StoreUnavailable``/``StoreReplyError``."""
PIPELINE = web.AppKey("pipeline", HopPipeline)
PSEUDONYM = web.AppKey("pseudonym", Pseudonymizer)
SESSION_ENDS = web.AppKey("session_ends", SessionEnds)
DATA_GUARD = web.AppKey("data_guard", DataGuard)
"""Says whether Redis lost its data (marketing that needs remembered opt-outs waits)."""
EMBEDDED = web.AppKey("embedded", EmbeddedRedis)
"""The embedded Redis this process owns, when it owns one."""
INCENTIVES = web.AppKey("incentives", IncentiveSink)
"""Who credits points engines grant (``gateway.incentives``): recorded until the rewards ledger
installs its own sink here."""
CATALOGS = web.AppKey("catalogs", Catalogs)
"""The reward catalogs being served (``kind: catalog`` files), installed by ``content.catalogs``."""

# --- Balance-check ads (issue 11) ---------------------------------------------------------------
from gateway.ads.events import AdEvents  # noqa: E402
from gateway.ads.index import Campaigns  # noqa: E402
from gateway.ads.server import AdServer  # noqa: E402
from gateway.lifecycle.recorder import ActivityRecorder  # noqa: E402
from gateway.store.pipelined import HopClient  # noqa: E402

CAMPAIGNS = web.AppKey("campaigns", Campaigns)
"""The ad campaigns being served (``kind: campaign`` files, indexed), installed by
``content.campaigns`` and swapped on every reload."""
ADS = web.AppKey("ads", AdServer)
"""Decides balance-check ads (``POST /v1/piggyback``, ``ad_slot`` screens)."""
HOP_REDIS: web.AppKey[HopClient] = web.AppKey("hop_redis")
"""The hop path's pipelined Redis client (``store.pipelined``/``store.cluster``): the hop
pipeline's and the ad decision's, for speed."""
ACTIVITY = web.AppKey("activity", ActivityRecorder)
"""Lifecycle activity hook: ``app[ACTIVITY].record(pseudonym, kind)`` (``kind``: ussd, sms,
survey, redemption, purchase) — non-blocking, once a day per subscriber per process."""
AD_EVENTS = web.AppKey("ad_events", AdEvents)
"""Counts ad clicks (dialled codes, SMS keywords) and conversions."""

SURVEYS = web.AppKey("surveys", SurveyCatalog)
"""The surveys being served (``kind: survey`` files), installed by ``content.surveys``."""

# --- Event feed (issue 14) ----------------------------------------------------------------------
from gateway.feed.events import EventFeed  # noqa: E402

FEED = web.AppKey("feed", EventFeed)
SURVEY_STEPS: web.AppKey[Any] = web.AppKey("survey_steps")
"""The USSD survey steps (``hops.surveys.SurveySteps``), for hooks installed after it."""
"""Where engines publish events for the brand's CRM (``gateway.feed``); does nothing without
``JUMBE_EVENT_FEED_URL``."""
