"""``setup_api(app)``: every ``/v1`` route, each with the scope named in its module's table."""

from __future__ import annotations

from aiohttp import web

from gateway.http import (
    api,
    v1_ads,
    v1_consent,
    v1_reports,
    v1_rewards,
    v1_sms,
    v1_subjects,
    v1_surveys,
)


def setup_api(app: web.Application) -> None:
    """Add every ``/v1`` route (its scope is in its module's ``ROUTES`` table)."""
    api.register(
        app,
        [*v1_sms.ROUTES, *v1_consent.ROUTES, *v1_reports.ROUTES, *v1_rewards.ROUTES,
         *v1_ads.ROUTES, *v1_surveys.ROUTES, *v1_subjects.ROUTES],
    )  # fmt: skip
