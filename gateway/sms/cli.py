"""``jumbe worker`` (the outbox worker on its own), ``jumbe fake-at`` (a local fake AT) and
``jumbe sms send`` (a client of a running gateway's ``POST /v1/sms``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from typing import Any

from gateway import config, logs
from gateway.errors import ConfigError
from gateway.http.client import DEFAULT_URL

COMMANDS = ("worker", "fake-at", "sms")


def add_commands(commands: Any) -> None:
    """Register the SMS subcommands on ``jumbe``'s subparsers."""
    worker = commands.add_parser("worker", help="run the SMS outbox worker (scale it separately)")
    worker.add_argument("--redis", dest="redis_url", help="Redis URL (required: JUMBE_REDIS_URL)")
    worker.add_argument("--concurrency", type=int, help="SDK calls in flight (default: 8)")
    worker.add_argument("--name", help="stable consumer name (default: host:pid)")
    worker.add_argument("--log-format", choices=["auto", "json", "console"])
    worker.add_argument("--queue", choices=["sms", "rewards"], default="sms",
                        help="which queue: the SMS outbox (default) or reward fulfilment "
                        "(airtime, vouchers; reads the catalogs in JUMBE_MENUS)")  # fmt: skip

    fake = commands.add_parser(
        "fake-at",
        help="run a local fake Africa's Talking SMS API",
        description="A local fake of Africa's Talking's SMS API that prints every message it "
        "'sends' (time, to, sender, text) and posts delivery reports to --callback.",
    )
    fake.add_argument("--host", default="127.0.0.1")
    fake.add_argument("--port", type=int, default=8900)
    fake.add_argument("--callback", help="delivery report URL, e.g. http://127.0.0.1:8000/"
                      "sms/africastalking/delivery")  # fmt: skip
    fake.add_argument("--fail", action="append", default=[], metavar="NUMBER=CODE",
                      help="always answer CODE (e.g. 406) for NUMBER; repeatable")  # fmt: skip
    fake.add_argument("--out-of-order", action="store_true", help="final report first")
    fake.add_argument("--airtime-callback", help="airtime status callback URL, e.g. http://"
                      "127.0.0.1:8000/airtime/africastalking/status")  # fmt: skip
    fake.add_argument("--airtime-fail", action="append", default=[], metavar="NUMBER=REASON",
                      help="refuse airtime to NUMBER with REASON; repeatable")  # fmt: skip

    sms = commands.add_parser("sms", help="send SMS through a running gateway's /v1 API")
    sms_commands = sms.add_subparsers(dest="sms_command", required=True)
    send = sms_commands.add_parser(
        "send",
        help="send one SMS (POST /v1/sms); prints its id and status",
        description="Send one SMS through a running gateway (consent-checked when "
        "--promotional). Prints the message id and status; a refusal prints the reason to "
        "stderr and exits 1.",
    )
    send.add_argument("to", metavar="TO", help="E.164 number, e.g. +254711000111")
    send.add_argument("text", metavar="TEXT", help="the message")
    send.add_argument("--promotional", action="store_true",
                      help="marketing: needs consent, gets the opt-out line, waits out quiet "
                      "hours (default: transactional)")  # fmt: skip
    send.add_argument("--at", metavar="ISO", help="send later: ISO 8601 with an offset "
                      "(2025-03-05T09:00:00+03:00) or epoch seconds")  # fmt: skip
    send.add_argument("--url", default=DEFAULT_URL, help="the gateway (default: %(default)s)")
    send.add_argument("--token", help="API token (default: JUMBE_API_TOKEN)")


def run(args: argparse.Namespace) -> int:
    if args.command == "fake-at":
        return _run_fake(args)
    if args.command == "sms":
        return _run_send(args)
    settings = config.from_env().with_overrides(
        redis_url=args.redis_url, sms_concurrency=args.concurrency, sms_worker_name=args.name,
        log_format=args.log_format,
    )  # fmt: skip
    if settings.redis_url is None:
        raise ConfigError("jumbe worker needs --redis URL (or JUMBE_REDIS_URL)")
    logs.configure(settings.log_format, settings.log_level)
    if args.queue == "rewards":
        from gateway.rewards.runtime import work

        asyncio.run(work(settings))
    else:
        asyncio.run(_work(settings))
    return 0


async def _work(settings: config.Settings) -> None:
    from gateway.consent.ledger import ConsentLedger
    from gateway.feed.runtime import feed_for
    from gateway.sms.runtime import build_worker
    from gateway.store.connection import connect, detect_cluster
    from gateway.store.meta import DataGuard

    assert settings.redis_url is not None
    cluster = detect_cluster(settings.redis_url)
    client = connect(settings.redis_url, cluster=cluster, socket_timeout=5.0)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        ledger = ConsentLedger(client, settings.consent_modes, guard=DataGuard(client, b""))
        ledger.feed = feed_for(settings, client)  # opt-outs AT reports on a send: published
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
    airtime_fail = {}
    for item in args.airtime_fail:
        number, _, reason = item.partition("=")
        airtime_fail[number] = reason or "Failed"
    fake = FakeAT(
        args.callback,
        always=always,
        out_of_order=args.out_of_order,
        echo=sys.stdout,
        airtime_callback_url=args.airtime_callback,
        airtime_fail=airtime_fail,
    )
    run(args.host, args.port, fake)
    return 0


def _run_send(args: argparse.Namespace) -> int:
    """``POST /v1/sms``: ``<id> <status>`` on stdout, or the reason on stderr and exit 1."""
    from gateway.errors import GatewayUnreachable
    from gateway.http.client import call

    body: dict[str, Any] = {
        "to": args.to,
        "text": args.text,
        "category": "promotional" if args.promotional else "transactional",
    }
    if args.at is not None:
        body["send_at"] = _epoch_or_text(args.at)
    token = args.token or os.environ.get("JUMBE_API_TOKEN") or None
    try:
        answer = call(args.url, "POST", "/v1/sms", token, body)
    except GatewayUnreachable as exc:
        print(f"jumbe: {exc} (is `jumbe serve` running?)", file=sys.stderr)
        return 1
    if answer.status != 202:
        error = answer.body.get("error", "error")
        print(f"jumbe: {error} (HTTP {answer.status}): {answer.reason}", file=sys.stderr)
        return 1
    print(f"{answer.body.get('id')} {answer.body.get('status')}")
    return 0


def _epoch_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value
