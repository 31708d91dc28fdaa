"""``create_app(settings)``: routes, resources (Redis, menus) and their lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import signal
import time
from collections.abc import AsyncIterator

import redis
import redis.asyncio
from aiohttp import web

from gateway import logs
from gateway.appkeys import (
    DATA_GUARD,
    EMBEDDED,
    PIPELINE,
    PSEUDONYM,
    REDIS,
    REGISTRY,
    RELOADER,
    SESSION_ENDS,
    SETTINGS,
)
from gateway.channels.africastalking import ussd as at_ussd
from gateway.channels.base import Refusal, read_callback
from gateway.config import Settings
from gateway.errors import ConfigError, MenuError
from gateway.http.routes import setup_api
from gateway.menu.engine import Engine
from gateway.menu.findings import has_errors
from gateway.menu.registry import MenuRegistry, load_registry
from gateway.menu.reloader import MenuReloader, ReloadReport
from gateway.privacy import Pseudonymizer
from gateway.sessions import HopPipeline, HopResult
from gateway.sms.web import setup_sms
from gateway.store.connection import connect
from gateway.store.embedded import EmbeddedRedis, supervise
from gateway.store.meta import DataGuard
from gateway.store.pipelined import PipelinedRedis
from gateway.store.session_ends import SessionEnds
from gateway.store.session_store import SessionStore
from gateway.text import Budget

log = logs.get_logger("gateway")


def create_app(
    settings: Settings,
    registry: MenuRegistry | None = None,
    embedded: EmbeddedRedis | None = None,
) -> web.Application:
    """The gateway application. Loads menus now (raising ``MenuError`` on errors).

    ``settings`` name the Redis and the pseudonym key (``serve`` resolves both first, see
    ``gateway.store.connection.prepared_store``); ``embedded`` is the embedded Redis this
    process owns, which the app then restarts whenever it dies.
    """
    if settings.redis_url is None or not settings.pseudonym_key:
        raise ConfigError("create_app needs a Redis URL and the pseudonym key (see prepared_store)")
    if registry is None:
        registry, findings = load_registry(settings.menus_dir, settings.strictest_budget)
        if has_errors(findings):
            raise MenuError([f for f in findings if f.severity == "error"])
        for finding in findings:
            log.warning("menu_check", finding=str(finding))
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[REGISTRY] = registry
    app[PSEUDONYM] = Pseudonymizer(settings.pseudonym_key)
    if embedded is not None:
        app[EMBEDDED] = embedded
    app[RELOADER] = MenuReloader(registry, settings.menus_dir, settings.strictest_budget)
    app.cleanup_ctx.append(_redis_context)
    app.cleanup_ctx.append(_reload_context)
    app.router.add_post("/ussd/africastalking", ussd_africastalking)
    app.router.add_post("/ussd/africastalking/events", ussd_africastalking_events)
    app.router.add_post("/admin/reload", admin_reload)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_sms(app)
    setup_api(app)
    return app


async def _redis_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    url = settings.redis_url
    assert url is not None
    client = connect(url, socket_timeout=min(2.0, settings.hop_deadline))
    app[REDIS] = client
    app[SESSION_ENDS] = SessionEnds(client)
    app[DATA_GUARD] = DataGuard(client, settings.pseudonym_key)
    hop_client = PipelinedRedis(url, timeout=min(2.0, settings.hop_deadline))
    store = SessionStore(hop_client, settings.session_ttl)
    engines = {
        network: Engine(Budget(*limits)) for network, limits in settings.screen_limits.items()
    }
    default = engines.pop("default", Engine())
    app[PIPELINE] = HopPipeline(
        app[REGISTRY],
        store,
        default,
        app[PSEUDONYM],
        deadline=settings.hop_deadline,
        network_engines=engines,
    )
    stop = asyncio.Event()
    watchers = [asyncio.create_task(app[DATA_GUARD].watch(stop))]
    if EMBEDDED in app:
        watchers.append(asyncio.create_task(supervise(app[EMBEDDED], stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*watchers, return_exceptions=True)
        await hop_client.close()
        await client.aclose()


async def reload_menus(app: web.Application, trigger: str) -> ReloadReport:
    """Reload the menu folder now (parsing off the event loop) and log what changed."""
    report = await app[RELOADER].reload_async()
    for finding in report.findings:
        log.warning("menu_check", finding=str(finding))
    log.info(
        "menus_reloaded",
        trigger=trigger,
        loaded=report.loaded,
        kept_previous=report.kept,
        rejected=report.rejected,
        removed=report.removed,
        parsed=report.parsed,
    )
    return report


async def _reload_logged(app: web.Application, trigger: str) -> None:
    try:
        await reload_menus(app, trigger)
    except Exception:  # a reload must survive anything a half-written file does
        log.exception("menu_reload_failed", trigger=trigger)


async def _watch_menus(app: web.Application, interval: float) -> None:
    reloader = app[RELOADER]
    while True:
        await asyncio.sleep(interval)
        try:
            changed = reloader.changed()  # a stat per file: cheap enough for the loop
        except OSError:
            log.exception("menu_reload_failed", trigger="file change")
            continue
        if changed:
            await _reload_logged(app, "file change")


async def _reload_context(app: web.Application) -> AsyncIterator[None]:
    """Watch the menu folder (``reload_interval``) and reload on SIGHUP."""
    loop = asyncio.get_running_loop()
    interval = app[SETTINGS].reload_interval
    watcher = asyncio.create_task(_watch_menus(app, interval)) if interval > 0 else None
    signalled: set[asyncio.Task[None]] = set()

    def on_sighup() -> None:
        task = asyncio.create_task(_reload_logged(app, "SIGHUP"))
        signalled.add(task)
        task.add_done_callback(signalled.discard)

    sighup = False
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
        loop.add_signal_handler(signal.SIGHUP, on_sighup)
        sighup = True
    try:
        yield
    finally:
        if sighup:
            loop.remove_signal_handler(signal.SIGHUP)
        for task in [watcher, *signalled]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


async def admin_reload(request: web.Request) -> web.Response:
    """Reload menus now (``Authorization: Bearer <JUMBE_ADMIN_TOKEN>``); 422 if a file failed."""
    token = request.app[SETTINGS].admin_token
    if token is None:
        return web.json_response(
            {"error": "admin endpoints are disabled: set JUMBE_ADMIN_TOKEN"}, status=403
        )
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return web.json_response({"error": "missing or wrong admin token"}, status=403)
    report = await reload_menus(request.app, "admin")
    return web.json_response(report.as_dict(), status=200 if report.ok else 422)


def _refuse(request: web.Request, refusal: Refusal) -> web.Response:
    """A refused USSD callback: the status, and a readable END naming the reason."""
    log.warning("callback_refused", path=request.path, status=refusal.status, reason=refusal.reason)
    label = "Unauthorized" if refusal.status == 403 else "Bad request"
    return web.Response(
        status=refusal.status, text=f"END {label}: {refusal.reason}", content_type="text/plain"
    )


async def ussd_africastalking(request: web.Request) -> web.Response:
    """One USSD hop from Africa's Talking: form in, ``CON …``/``END …`` out."""
    started = time.perf_counter()
    app = request.app
    hop = await read_callback(request, app[SETTINGS], at_ussd.parse_hop)
    if isinstance(hop, Refusal):
        return _refuse(request, hop)
    try:
        result = await app[PIPELINE].handle(hop)
    except Exception:  # the boundary: a subscriber always gets a readable END
        log.exception("ussd_hop_crashed", session_id=hop.session_id)
        result = app[PIPELINE].failure(hop, "crash", "error")
    _log_hop(app[PSEUDONYM], hop.session_id, hop.phone_number, hop.network_code, result, started)
    return web.Response(
        text=at_ussd.render(result.reply.prefix, result.reply.text), content_type="text/plain"
    )


def _log_hop(
    pseudonym: Pseudonymizer,
    session_id: str,
    phone: str,
    network: str,
    result: HopResult,
    started: float,
) -> None:
    logs.emit(
        "ussd_hop",
        session_id=session_id,
        subscriber=pseudonym(phone),
        network=network,
        menu=result.menu_id,
        state_before=result.state_before,
        state_after=result.state_after,
        outcome=result.outcome,
        redis_round_trips=result.round_trips,
        latency_ms=round((time.perf_counter() - started) * 1000, 3),
    )


async def ussd_africastalking_events(request: web.Request) -> web.Response:
    """The end-of-session notification: kept 30 days and streamed for funnel reports, once."""
    app = request.app
    end = await read_callback(request, app[SETTINGS], at_ussd.parse_session_end)
    if isinstance(end, Refusal):
        return _refuse(request, end)
    subscriber = app[PSEUDONYM](end.phone_number)
    try:
        stored = await app[SESSION_ENDS].store(end, subscriber)
    except (redis.RedisError, OSError) as exc:
        log.error("ussd_session_end_not_stored", session_id=end.session_id, error=str(exc))
        return web.Response(status=503, text="store unavailable; retry later")
    log.info(
        "ussd_session_end",
        session_id=end.session_id,
        status=end.status,
        duration_ms=end.duration_ms,
        hops=end.hops,
        subscriber=subscriber,
        duplicate=not stored,
    )
    return web.Response(text="OK")


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: Redis answers PING and at least one menu is loaded. A recorded, not yet
    acknowledged Redis data loss is reported (hops are still served, so still ready)."""
    problems = {}
    body: dict[str, object] = {}
    try:
        await request.app[REDIS].ping()
        lost = await request.app[DATA_GUARD].loss()
        if lost is not None:
            body["data_loss"] = lost
    except (redis.RedisError, OSError) as exc:
        problems["redis"] = f"down: {exc}"
    menus = request.app[REGISTRY].menus
    if not menus:
        problems["menus"] = "no menu loaded"
    if EMBEDDED in request.app:
        body["embedded_redis_restarts"] = request.app[EMBEDDED].restarts
    body = {"status": "ready" if not problems else "not ready", "menus": len(menus),
            **body, **problems}  # fmt: skip
    return web.json_response(body, status=200 if not problems else 503)
