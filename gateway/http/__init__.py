"""The HTTP layer. Today: the ``/v1`` JSON API for brand backends (``setup_api``).

Issue 10 moves ``create_app``, health and admin here as well.
"""

from __future__ import annotations

from aiohttp import web

from gateway.http import api, v1_consent, v1_sms


def setup_api(app: web.Application) -> None:
    """Add every ``/v1`` route (each one's scope is in its module's ``ROUTES`` table)."""
    api.register(app, [*v1_sms.ROUTES, *v1_consent.ROUTES])


__all__ = ["setup_api"]
