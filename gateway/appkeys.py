"""Typed keys for what the aiohttp application holds (one place, so any module can import them
without importing ``gateway.app``)."""

from __future__ import annotations

import redis.asyncio
from aiohttp import web

from gateway.config import Settings
from gateway.menu.registry import MenuRegistry
from gateway.menu.reloader import MenuReloader
from gateway.privacy import Pseudonymizer
from gateway.sessions import HopPipeline
from gateway.store.session_ends import SessionEnds

SETTINGS = web.AppKey("settings", Settings)
REGISTRY = web.AppKey("registry", MenuRegistry)
REDIS = web.AppKey("redis", redis.asyncio.Redis)
"""redis-py client for everything off the hop path (events, SMS, readiness)."""
PIPELINE = web.AppKey("pipeline", HopPipeline)
PSEUDONYM = web.AppKey("pseudonym", Pseudonymizer)
RELOADER = web.AppKey("reloader", MenuReloader)
SESSION_ENDS = web.AppKey("session_ends", SessionEnds)
