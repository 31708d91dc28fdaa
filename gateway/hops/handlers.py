"""The table of effect handlers: for each effect a screen kind can return, who performs it.

Adding a kind that needs the outside world is adding its effect here with its handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from gateway.config import Settings
from gateway.hops.effects import EffectRunner, Handler
from gateway.hops.webhook import WebhookCaller
from gateway.menu.screens.webhook import WebhookCall


@asynccontextmanager
async def effect_runner(
    settings: Settings, handlers: Mapping[type[Any], Handler] | None = None
) -> AsyncIterator[EffectRunner]:
    """The runner with every handler, open for the life of the app; ``handlers`` adds those
    built from the app's own parts (the survey steps: ``hops.surveys``)."""
    webhooks = WebhookCaller(settings.webhook_secret)
    runner = EffectRunner({WebhookCall: webhooks, **(handlers or {})})
    try:
        yield runner
    finally:
        await runner.close()
        await webhooks.close()
