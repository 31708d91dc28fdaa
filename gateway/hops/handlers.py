"""The table of effect handlers: for each effect a screen kind can return, who performs it.

Adding a kind that needs the outside world is adding its effect here with its handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gateway.config import Settings
from gateway.hops.effects import EffectRunner
from gateway.hops.webhook import WebhookCaller
from gateway.menu.screens.webhook import WebhookCall


@asynccontextmanager
async def effect_runner(settings: Settings) -> AsyncIterator[EffectRunner]:
    """The runner with every handler, open for the life of the app."""
    webhooks = WebhookCaller(settings.webhook_secret)
    runner = EffectRunner({WebhookCall: webhooks})
    try:
        yield runner
    finally:
        await runner.close()
        await webhooks.close()
