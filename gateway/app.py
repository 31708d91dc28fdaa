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
from redis.typing import EncodableT, FieldT

from gateway import logs
from gateway.appkeys import PIPELINE, PSEUDONYM, REDIS, REGISTRY, RELOADER, SETTINGS
from gateway.channels.africastalking import ussd as at_ussd
from gateway.channels.base import Refusal, UssdSessionEnd, read_callback
from gateway.config import Settings
from gateway.errors import MenuError
from gateway.menu.engine import Engine
from gateway.menu.findings import has_errors
from gateway.menu.registry import MenuRegistry, load_registry
from gateway.menu.reloader import MenuReloader, ReloadReport
from gateway.privacy import Pseudonymizer, redact_numbers
from gateway.sessions import HopPipeline, HopResult
from gateway.sms.web import setup_sms
from gateway.store import keys
from gateway.store.connection import connect, redis_for
from gateway.store.pipelined import PipelinedRedis
from gateway.store.session_store import SessionStore
from gateway.text import Budget

log = logs.get_logger("gateway")


def create_app(settings: Settings, registry: MenuRegistry | None = None) -> web.Application:
    """The gateway application. Loads menus now (raising ``MenuError`` on errors)."""
    if registry is None:
        registry, findings = load_registry(settings.menus_dir, settings.strictest_budget)
        if has_errors(findings):
            raise MenuError([f for f in findings if f.severity == "error"])
        for finding in findings:
            log.warning("menu_check", finding=str(finding))
    app = web.Application(client_max_size=64 * 1024)
    app[SETTINGS] = settings
    app[REGISTRY] = registry
    app[PSEUDONYM] = Pseudonymizer(settings.effective_pseudonym_key)
    app[RELOADER] = MenuReloader(registry, settings.menus_dir, settings.strictest_budget)
    app.cleanup_ctx.append(_redis_context)
    app.cleanup_ctx.append(_reload_context)
    app.router.add_post("/ussd/africastalking", ussd_africastalking)
    app.router.add_post("/ussd/africastalking/events", ussd_africastalking_events)
    app.router.add_post("/admin/reload", admin_reload)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    setup_sms(app)
    return app


async def _redis_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    url, embedded = redis_for(settings.redis_url, settings.data_dir)
    if embedded is not None:
        log.info("embedded_redis_started", data_dir=str(settings.data_dir))
    client = connect(url, socket_timeout=min(2.0, settings.hop_deadline))
    app[REDIS] = client
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
    try:
        yield
    finally:
        await hop_client.close()
        await client.aclose()
        if embedded is not None:
            embedded.stop()
            log.info("embedded_redis_stopped")


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
    """The end-of-session notification: kept 30 days and streamed for funnel reports."""
    app = request.app
    end = await read_callback(request, app[SETTINGS], at_ussd.parse_session_end)
    if isinstance(end, Refusal):
        return _refuse(request, end)
    try:
        await _store_session_end(app[REDIS], app[PSEUDONYM](end.phone_number), end)
    except (redis.RedisError, OSError) as exc:
        log.error("ussd_session_end_not_stored", session_id=end.session_id, error=str(exc))
        return web.Response(status=503, text="store unavailable; retry later")
    log.info(
        "ussd_session_end",
        session_id=end.session_id,
        status=end.status,
        duration_ms=end.duration_ms,
        hops=end.hops,
        subscriber=app[PSEUDONYM](end.phone_number),
    )
    return web.Response(text="OK")


async def _store_session_end(
    client: redis.asyncio.Redis, subscriber: str, end: UssdSessionEnd
) -> None:
    # Funnel reports are exports: a number typed into a menu (and echoed in the last screen)
    # or named in an error is redacted like in the logs.
    fields: dict[FieldT, EncodableT] = {
        "provider": end.provider, "session_id": end.session_id,
        "subscriber": subscriber,
        "service_code": redact_numbers(end.service_code), "network": end.network_code,
        "status": end.status, "duration_ms": end.duration_ms if end.duration_ms is not None else "",
        "hops": end.hops if end.hops is not None else "",
        "last_response": redact_numbers(end.last_response),
        "error": redact_numbers(end.error_message), "date": end.date,
    }  # fmt: skip
    key = keys.session_end(end.provider, end.session_id)
    async with client.pipeline(transaction=False) as pipe:
        pipe.hset(key, mapping=fields)
        pipe.expire(key, keys.USSD_EVENT_TTL)
        pipe.xadd(keys.ussd_ends_stream(), fields, maxlen=keys.USSD_ENDS_MAXLEN, approximate=True)
        await pipe.execute()


async def healthz(_request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: Redis answers PING and at least one menu is loaded."""
    problems = {}
    try:
        await request.app[REDIS].ping()
    except (redis.RedisError, OSError) as exc:
        problems["redis"] = f"down: {exc}"
    menus = request.app[REGISTRY].menus
    if not menus:
        problems["menus"] = "no menu loaded"
    body = {"status": "ready" if not problems else "not ready", "menus": len(menus), **problems}
    return web.json_response(body, status=200 if not problems else 503)
