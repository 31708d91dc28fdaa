"""The table of effect handlers: for each effect a screen kind can return, who performs it.

Adding a kind that needs the outside world is adding its effect here with its handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from gateway.config import Settings
from gateway.hops.effects import EffectRunner
from gateway.hops.webhook import WebhookCaller
from gateway.menu.effects import Effect
from gateway.menu.screens.webhook import WebhookCall


@asynccontextmanager
async def effect_runner(
    settings: Settings, more: Mapping[type[Effect], Any] | None = None
) -> AsyncIterator[EffectRunner]:
    """The runner with every handler (``more``: handlers that need the app, e.g. rewards'),
    open for the life of the app."""
    webhooks = WebhookCaller(settings.webhook_secret)
    runner = EffectRunner({WebhookCall: webhooks, **(more or {})})
    try:
        yield runner
    finally:
        await runner.close()
        await webhooks.close()
