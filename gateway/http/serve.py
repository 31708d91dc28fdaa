"""``jumbe serve``: check the settings, prepare the store, and serve (or run ``--workers``).

Start-up tells the truth: a bad setting, an unreachable Redis or a broken content folder is one
line and a non-zero exit, and the "serving" line is printed only once the port is bound.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import sys
from pathlib import Path
from typing import Any

from gateway import __version__, channels, config, logs
from gateway.errors import ConfigError, ContentError
from gateway.store.urls import describe

COMMANDS = ("serve",)


def add_commands(commands: Any) -> None:
    """Register ``serve`` on ``jumbe``'s subparsers."""
    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument(
        "--menus", type=Path, help="content folder: menus, keywords, … (default: menus)"
    )
    serve.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default: 8000)")
    serve.add_argument("--redis", dest="redis_url", help="Redis URL (default: embedded Redis)")
    serve.add_argument("--data-dir", type=Path, help="embedded Redis data folder (default: ./var)")
    serve.add_argument("--session-ttl", type=int, help="seconds a session lives (default: 180)")
    serve.add_argument("--log-format", choices=["auto", "json", "console"])
    serve.add_argument(
        "--workers", type=int, default=1, help="gateway processes sharing the port (default: 1)"
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """``jumbe serve``."""
    return run_serve(args)


def run_serve(args: argparse.Namespace) -> int:
    from gateway.store.connection import prepared_store

    config.refuse_retired()
    settings = config.from_env().with_overrides(
        menus_dir=args.menus, host=args.host, port=args.port, redis_url=args.redis_url,
        data_dir=args.data_dir, session_ttl=args.session_ttl, log_format=args.log_format,
    )  # fmt: skip
    logs.configure(settings.log_format, settings.log_level)
    if args.port is not None:
        config.check_port(args.port, "--port")
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be at least 1")
    _check_api_tokens(settings)
    if settings.callback_token is None:
        logs.get_logger("gateway").warning(
            "no_callback_token",
            hint="set JUMBE_CALLBACK_TOKEN: anyone who can reach this port can drive sessions",
        )
    with prepared_store(settings) as (settings, embedded):
        if args.workers > 1:
            if not _menus_ok(settings):
                return 1
            print(f"jumbe {__version__}: {args.workers} workers on http://{settings.host}:"
                  f"{settings.port}", file=sys.stderr)  # fmt: skip
            from gateway.supervisor import run_workers

            return run_workers(settings, embedded, args.workers, _passthrough(args))
        return _serve_one(settings, embedded, args.reuse_port)


def _check_api_tokens(settings: config.Settings) -> None:
    """A bad ``JUMBE_API_TOKENS_FILE`` stops ``serve`` before Redis or any worker starts."""
    from gateway.http.auth import ApiTokens

    ApiTokens.from_settings(settings)


def _menus_ok(settings: config.Settings) -> bool:
    """Check the content folder before starting anything; print the errors if not."""
    folder = settings.menus_dir
    if not folder.is_dir():
        _print_menu_errors([f"{folder}:1:1: error: no such content folder"])
        return False
    from gateway.content.check import check_files

    _good, findings = check_files([folder], channels.content_budget(settings))
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        _print_menu_errors(errors)
    return not errors


def _print_menu_errors(findings: list[Any]) -> None:
    print("jumbe: the content folder has errors; not starting:", file=sys.stderr)
    for finding in findings:
        print(finding, file=sys.stderr)


def _serve_one(settings: config.Settings, embedded: Any, reuse_port: bool) -> int:
    """Serve in this process until a signal; the exit code."""
    from aiohttp import web

    from gateway.http.app import create_app

    try:
        app = create_app(settings, embedded=embedded)
    except ContentError as exc:
        _print_menu_errors(exc.findings)
        return 1
    _use_uvloop()
    _tune_gc()
    where = f"http://{settings.host}:{settings.port}"
    redis_desc = (
        f"embedded, data in {embedded.data_dir}" if embedded is not None
        else describe(settings.redis_url or "")
    )  # fmt: skip

    def banner(_aiohttp_message: str) -> None:  # called once every socket is bound
        print(f"jumbe {__version__}: serving {settings.menus_dir} on {where} "
              f"(Redis: {redis_desc})", file=sys.stderr, flush=True)  # fmt: skip

    try:
        web.run_app(app, host=settings.host, port=settings.port, access_log=None,
                    print=banner, reuse_port=reuse_port or None)  # fmt: skip
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        print(f"jumbe: cannot listen on {settings.host}:{settings.port}: {reason}",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


def _passthrough(args: argparse.Namespace) -> list[str]:
    """The serve flags a worker process inherits (everything but --redis and --workers)."""
    flags = {
        "--menus": args.menus,
        "--host": args.host,
        "--port": args.port,
        "--data-dir": args.data_dir,
        "--session-ttl": args.session_ttl,
        "--log-format": args.log_format,
    }
    return [
        part for flag, value in flags.items() if value is not None for part in (flag, str(value))
    ]


def _tune_gc() -> None:
    """Start-up objects (menus, machines, modules) never die: move them out of the collector's
    sight, and collect the young generation less often (hops allocate many short-lived objects)."""
    if os.environ.get("JUMBE_GC_TUNING", "1") == "0":
        return
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _use_uvloop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - optional on platforms without it
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
