"""Performing effects (``gateway.menu.effects``) for the hop pipeline.

One handler per effect type, listed in the runner's table. A handler gets the effect, the hop
it belongs to and the seconds it may take (what is left of the hop deadline, never more than
the effect asks for), and answers an ``EffectResult`` — it never raises: a failure is a result
(``ok=False`` with the reason) that the screen turns into its ``on_error`` route.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gateway import logs
from gateway.menu.effects import Effect, EffectResult

log = logs.get_logger("gateway.effects")


@dataclass(frozen=True, slots=True)
class HopContext:
    """What an effect may know about the hop it runs for."""

    provider: str
    session_id: str
    msisdn: str
    subscriber: str
    """The keyed pseudonym (what logs and events carry)."""
    variables: Mapping[str, Any]
    deadline: float
    """``time.monotonic()`` by which the hop must answer."""
    network: str = ""
    """The subscriber's network (MCC+MNC) when the aggregator says it."""


Handler = Callable[[Any, HopContext, float], Awaitable[EffectResult]]


class EffectRunner:
    """Performs effects with the handler registered for their type."""

    def __init__(self, handlers: Mapping[type[Effect], Handler]) -> None:
        self._handlers = dict(handlers)
        self._later: set[asyncio.Task[EffectResult]] = set()

    def register(self, effect: type[Effect], handler: Handler) -> None:
        """Add the handler of an effect whose engine starts with the app (ad fills)."""
        self._handlers[effect] = handler

    async def perform(self, effect: Effect, hop: HopContext, wanted: float) -> EffectResult:
        """Perform ``effect`` within ``wanted`` seconds and what is left of the hop deadline."""
        handler = self._handlers.get(type(effect))
        if handler is None:
            return EffectResult(False, error=f"no handler for {type(effect).__name__}")
        budget = min(wanted, hop.deadline - time.monotonic())
        if budget <= 0:
            return EffectResult(False, error="no time left in the hop")
        try:
            async with asyncio.timeout(budget):
                return await handler(effect, hop, budget)
        except TimeoutError:
            return EffectResult(False, error=f"timed out after {budget:.2f}s")
        except Exception as exc:  # a handler bug must not cost the subscriber the hop
            log.exception("effect_crashed", effect=type(effect).__name__)
            return EffectResult(False, error=f"{type(exc).__name__} in the effect handler")

    def later(self, effect: Effect, hop: HopContext, wanted: float) -> None:
        """Perform ``effect`` after the reply, in the background (its result only logged)."""
        background = HopContext(hop.provider, hop.session_id, hop.msisdn, hop.subscriber,
                                hop.variables, time.monotonic() + wanted,
                                hop.network)  # fmt: skip
        task = asyncio.ensure_future(self.perform(effect, background, wanted))
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def close(self) -> None:
        """Let background effects finish (bounded by their own timeouts)."""
        if self._later:
            await asyncio.gather(*self._later, return_exceptions=True)
