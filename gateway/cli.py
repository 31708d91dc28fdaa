"""The ``jumbe`` command: serve · check · worker · fake-at · sms · graph · simulate."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from pathlib import Path

from gateway import __version__, config, logs
from gateway.errors import ConfigError, MenuError
from gateway.menu.findings import has_errors
from gateway.menu.registry import check_files
from gateway.sms import cli as sms_cli
from gateway.supervisor import run_workers
from gateway.tools import cli as tools_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jumbe", description=__doc__)
    parser.add_argument("--version", action="version", version=f"jumbe {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the gateway")
    serve.add_argument("--menus", type=Path, help="menu folder (default: menus)")
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

    check = commands.add_parser("check", help="validate menu files")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("menus")],
        help="files or folders (default: menus)",
    )
    sms_cli.add_commands(commands)
    tools_cli.add_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check":
            return run_check(args.paths)
        if args.command in sms_cli.COMMANDS:
            return sms_cli.run(args)
        if args.command in ("graph", "simulate"):
            return tools_cli.run(args) or 0
        return run_serve(args)
    except ConfigError as exc:
        print(f"jumbe: {exc}", file=sys.stderr)
        return 2


def run_check(paths: list[Path]) -> int:
    """Print findings as ``path:line:col: severity: message``; 1 when any is an error."""
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"{path}:1:1: error: no such file or folder")
    budget = config.from_env().strictest_budget
    menus, findings = check_files([p for p in paths if p.exists()], budget)
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings) + len(missing)
    warnings = sum(f.severity == "warning" for f in findings)
    print(f"{len(menus)} menu(s) OK, {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors or has_errors(findings) else 0


def run_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    from gateway.app import create_app

    settings = config.from_env().with_overrides(
        menus_dir=args.menus, host=args.host, port=args.port, redis_url=args.redis_url,
        data_dir=args.data_dir, session_ttl=args.session_ttl, log_format=args.log_format,
    )  # fmt: skip
    logs.configure(settings.log_format, settings.log_level)
    log = logs.get_logger("gateway")
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be at least 1")
    try:
        app = create_app(settings)
    except MenuError as exc:
        print("jumbe: menus have errors; not starting:", file=sys.stderr)
        for finding in exc.findings:
            print(finding, file=sys.stderr)
        return 1
    if settings.callback_token is None:
        log.warning(
            "no_callback_token",
            hint="set JUMBE_CALLBACK_TOKEN: anyone who can reach this port can drive sessions",
        )
    if args.workers > 1:
        print(
            f"jumbe {__version__}: {args.workers} workers on http://{settings.host}:"
            f"{settings.port}",
            file=sys.stderr,
        )
        return run_workers(settings, args.workers, _passthrough(args))
    _use_uvloop()
    _tune_gc()
    redis_desc = settings.redis_url or f"embedded, data in {settings.data_dir}"
    print(
        f"jumbe {__version__}: serving {settings.menus_dir} on "
        f"http://{settings.host}:{settings.port} (Redis: {redis_desc})",
        file=sys.stderr,
    )
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        reuse_port=args.reuse_port or None,
    )
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
    import os

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
