"""``GET /healthz`` (the process serves) and ``GET /readyz`` (it can serve subscribers)."""

from __future__ import annotations

from aiohttp import web

from gateway.appkeys import DATA_GUARD, EMBEDDED, REDIS, REGISTRY, SETTINGS
from gateway.content.reloader import CONTENT
from gateway.errors import StoreError
from gateway.rewards.runtime import REWARDS


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers (no Redis check: restarting would not help Redis)."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: Redis answers PING and at least one menu is loaded; what the content folder
    serves, per kind. A recorded, not yet acknowledged Redis data loss is reported (hops are
    still served, so still ready)."""
    problems = {}
    details: dict[str, object] = {}
    try:
        await request.app[REDIS].ping()
        lost = await request.app[DATA_GUARD].loss()
        if lost is not None:
            details["data_loss"] = lost
    except StoreError as exc:
        problems["redis"] = f"down: {exc}"
    menus = request.app[REGISTRY].menus
    if not menus:
        problems["menus"] = "no menu loaded"
    if CONTENT in request.app:
        details["content"] = request.app[CONTENT].served()
    embedded = EMBEDDED in request.app
    cluster = request.app[SETTINGS].redis_cluster
    details["redis_mode"] = "cluster" if cluster else "embedded" if embedded else "standalone"
    if EMBEDDED in request.app:
        details["embedded_redis_restarts"] = request.app[EMBEDDED].restarts
    if REWARDS in request.app:  # the daily airtime budget's breaker (gateway.rewards)
        try:
            details["rewards_breaker"] = await request.app[REWARDS].breaker()
        except StoreError:
            details["rewards_breaker"] = "unknown (Redis down)"
    body = {"status": "ready" if not problems else "not ready", "menus": len(menus),
            **details, **problems}  # fmt: skip
    return web.json_response(body, status=200 if not problems else 503)
