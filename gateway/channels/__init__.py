"""Aggregator channels: one package per aggregator, the only code that knows its wire format.

A channel parses its callbacks into ``channels.base`` types, hands USSD hops to the hop
pipeline and renders the ``Reply`` in its dialect. Adding an aggregator is adding a package
with ``PROVIDER``, ``SCREEN_OVERHEAD`` and ``setup(app)``, and one line in ``CHANNELS``.
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from gateway.channels import africastalking, hubtel
from gateway.text import Budget

if TYPE_CHECKING:
    from aiohttp import web

    from gateway.config import Settings

CHANNELS: tuple[ModuleType, ...] = (africastalking, hubtel)


def setup(app: web.Application) -> None:
    """Register every channel's routes."""
    for channel in CHANNELS:
        channel.setup(app)


def content_budget(settings: Settings) -> Budget:
    """What a screen may hold on every network and every channel: what ``jumbe check``
    measures brand files against (the strictest network, less the largest channel overhead)."""
    strictest = settings.strictest_budget
    overhead = max(channel.SCREEN_OVERHEAD for channel in CHANNELS)
    return Budget(strictest.gsm7 - overhead, strictest.ucs2 - overhead)
