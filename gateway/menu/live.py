"""Live reload of the menu folder inside ``serve``: a file watcher, SIGHUP, and the reload
that ``POST /admin/reload`` asks for. The reloading itself is ``menu.reloader``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import logs
from gateway.appkeys import RELOADER, SETTINGS
from gateway.menu.reloader import ReloadReport

log = logs.get_logger("gateway")


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


async def reload_context(app: web.Application) -> AsyncIterator[None]:
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
