"""Hubtel (Ghana): USSD hops as JSON in and out at ``POST /ussd/hubtel``, with the session's end
(``Release``/``Timeout``) arriving in band.

Importing this package is cheap (``jumbe check`` needs only its screen overhead); ``setup``
loads the routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

PROVIDER = "hubtel"
SCREEN_OVERHEAD = 0
"""Hubtel's reply is JSON with ``Type`` beside ``Message``: the whole screen is the subscriber's."""

if TYPE_CHECKING:
    from aiohttp import web


def setup(app: web.Application) -> None:
    """Register Hubtel's route (``/ussd/hubtel``)."""
    from gateway.channels.hubtel.routes import add_routes

    add_routes(app)
