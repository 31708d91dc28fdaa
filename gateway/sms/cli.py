"""``jumbe worker`` (the outbox worker on its own) and ``jumbe fake-at`` (a local fake AT)."""

from __future__ import annotations

import argparse
import asyncio
import signal
from typing import Any

from gateway import config, logs
from gateway.errors import ConfigError

COMMANDS = ("worker", "fake-at")


def add_commands(commands: Any) -> None:
    """Register the SMS subcommands on ``jumbe``'s subparsers."""
    worker = commands.add_parser("worker", help="run the SMS outbox worker (scale it separately)")
    worker.add_argument("--redis", dest="redis_url", help="Redis URL (required: JUMBE_REDIS_URL)")
    worker.add_argument("--concurrency", type=int, help="sends in flight (default: 8)")
    worker.add_argument("--name", help="stable consumer name (default: host:pid)")
    worker.add_argument("--log-format", choices=["auto", "json", "console"])

    fake = commands.add_parser("fake-at", help="run a local fake Africa's Talking SMS API")
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8900)
    fake.add_argument("--callback", help="delivery report URL, e.g. http://127.0.0.1:8000/"
                      "sms/africastalking/delivery")  # fmt: skip
    fake.add_argument("--fail", action="append", default=[], metavar="NUMBER=CODE",
                      help="always answer CODE (e.g. 406) for NUMBER; repeatable")  # fmt: skip
    fake.add_argument("--out-of-order", action="store_true", help="final report first")


def run(args: argparse.Namespace) -> int:
    if args.command == "fake-at":
        return _run_fake(args)
    settings = config.from_env().with_overrides(
        redis_url=args.redis_url, sms_concurrency=args.concurrency, sms_worker_name=args.name,
        log_format=args.log_format,
    )  # fmt: skip
    if settings.redis_url is None:
        raise ConfigError("jumbe worker needs --redis URL (or JUMBE_REDIS_URL)")
    logs.configure(settings.log_format, settings.log_level)
    asyncio.run(_work(settings))
    return 0


async def _work(settings: config.Settings) -> None:
    from gateway.consent.ledger import ConsentLedger
    from gateway.sms.web import build_worker
    from gateway.store.connection import connect
    from gateway.store.meta import DataGuard

    assert settings.redis_url is not None
    client = connect(settings.redis_url, socket_timeout=5.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        ledger = ConsentLedger(client, settings.consent_modes, guard=DataGuard(client, b""))
        await build_worker(settings, client, ledger).run(stop)
    finally:
        await client.aclose()


def _run_fake(args: argparse.Namespace) -> int:
    from gateway.devtools.fake_at import FakeAT, run

    always = {}
    for item in args.fail:
        number, _, code = item.partition("=")
        if not code.isdigit():
            raise ConfigError(f"--fail {item!r}: expected NUMBER=CODE")
        always[number] = int(code)
    run(args.host, args.port, FakeAT(args.callback, always=always, out_of_order=args.out_of_order))
    return 0
