"""The operator's ``POST /admin/reload`` (bearer ``JUMBE_ADMIN_TOKEN``)."""

from __future__ import annotations

import hmac

from aiohttp import web

from gateway.appkeys import SETTINGS
from gateway.content.live import reload_content


def add_routes(app: web.Application) -> None:
    app.router.add_post("/admin/reload", admin_reload)


async def admin_reload(request: web.Request) -> web.Response:
    """Reload the content folder now, every kind (``Authorization: Bearer
    <JUMBE_ADMIN_TOKEN>``); 422 if a file failed (its previous version keeps serving)."""
    token = request.app[SETTINGS].admin_token
    if token is None:
        return web.json_response(
            {"error": "admin endpoints are disabled: set JUMBE_ADMIN_TOKEN"}, status=403
        )
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return web.json_response({"error": "missing or wrong admin token"}, status=403)
    report = await reload_content(request.app, "admin")
    return web.json_response(report.as_dict(), status=200 if report.ok else 422)
