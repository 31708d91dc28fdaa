"""Typed keys for what the aiohttp application holds (one place, so any module can import them
without importing ``gateway.http.app``)."""

from __future__ import annotations

from aiohttp import web

from gateway.config import Settings
from gateway.hops.pipeline import HopPipeline
from gateway.menu.registry import MenuRegistry
from gateway.menu.reloader import MenuReloader
from gateway.privacy import Pseudonymizer
from gateway.store.client import StoreClient
from gateway.store.embedded import EmbeddedRedis
from gateway.store.meta import DataGuard
from gateway.store.session_ends import SessionEnds

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", MenuRegistry)
REDIS = web.AppKey("redis", StoreClient)
"""redis-py client for everything off the hop path (events, SMS, readiness); its errors are
already ``StoreUnavailable``/``StoreReplyError``."""
PIPELINE = web.AppKey("pipeline", HopPipeline)
PSEUDONYM = web.AppKey("pseudonym", Pseudonymizer)
RELOADER = web.AppKey("reloader", MenuReloader)
SESSION_ENDS = web.AppKey("session_ends", SessionEnds)
DATA_GUARD = web.AppKey("data_guard", DataGuard)
"""Says whether Redis lost its data (marketing that needs remembered opt-outs waits)."""
EMBEDDED = web.AppKey("embedded", EmbeddedRedis)
"""The embedded Redis this process owns, when it owns one."""
