"""Outbound SMS throughput: enqueue N messages, drain them through the fake Africa's Talking.

The fake AT runs as its own process (``jumbe fake-at``); the worker runs in this process with
the real AT SDK in its thread pool, on the embedded Redis or ``--redis URL``. The clock starts
when the worker starts and stops when every message is acknowledged (sent and recorded).

    python bench/sms_throughput.py --messages 2000 --concurrency 16
    python bench/sms_throughput.py --redis redis://127.0.0.1:6379/9

Only loopback addresses are used; the run is bounded by ``--timeout`` (default 120 s).
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from gateway import logs
from gateway.channels.africastalking.sms import AtSms
from gateway.consent.ledger import ConsentLedger
from gateway.privacy import Pseudonymizer
from gateway.sms.outbox import Outbox
from gateway.sms.worker import Worker, WorkerConfig
from gateway.store import keys
from gateway.store.connection import connect
from gateway.store.embedded import EmbeddedRedis

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_fake(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "fake-at", "--port", str(port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)
        except urllib.error.HTTPError:
            return process  # answering (404 on /)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("fake AT did not start")


async def _drained(client: Any) -> bool:
    pending = await client.xpending(keys.sms_queue(), keys.SMS_GROUP)
    return int(await client.xlen(keys.sms_queue())) == 0 and int(pending["pending"]) == 0


async def run(url: str, fake_url: str, messages: int, concurrency: int, limit_s: float) -> float:
    client = connect(url, socket_timeout=5.0)
    await client.flushdb()
    ledger = ConsentLedger(client)
    outbox = Outbox(client, ledger, Pseudonymizer(b"bench"))
    for i in range(messages):
        await outbox.send(f"+2547{i:08d}", f"Your receipt number {i}: KES 100 paid. Thank you!")
    sender = AtSms("sandbox", "bench-key", fake_url, timeout=5.0)
    config = WorkerConfig(concurrency=concurrency, rate_per_sender=0, claim_idle=60)
    worker = Worker(client, sender, ledger, config, name="bench")
    await worker.ensure_group()
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(limit_s):
            while not await _drained(client):  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await task
        await client.aclose()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--redis", help="Redis URL (default: embedded, in a temp folder)")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    logs.configure("json", "warning")
    port = _free_port()
    fake = _start_fake(port)
    embedded = None
    try:
        url = args.redis
        if url is None:
            embedded = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="jumbe-bench-")))
            embedded.start()
            url = embedded.url
        elapsed = asyncio.run(run(url, f"http://127.0.0.1:{port}", args.messages,
                                  args.concurrency, min(args.timeout, 300.0)))  # fmt: skip
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        if embedded is not None:
            embedded.stop()
    rate = args.messages / elapsed
    print(f"{args.messages} messages through the fake AT in {elapsed:.2f} s: "
          f"{rate:.0f} messages/s (concurrency {args.concurrency}, real AT SDK, "
          f"{'embedded Redis' if args.redis is None else 'Redis ' + args.redis})")  # fmt: skip


if __name__ == "__main__":
    main()
