"""Outbound SMS throughput of one worker: enqueue N messages, drain them through the fake
Africa's Talking.

The fake AT runs as its own process (``jumbe fake-at``); the worker runs in this process with
the real AT SDK in its thread pool, on the embedded Redis or ``--redis URL``. The clock starts
when the worker starts and stops when every message is acknowledged (sent and recorded).

The mix: ``--campaign`` of the messages (a fraction, default 0.8) are one campaign text to as
many recipients (what a brand's bulk send or a survey invitation is); the rest are receipts,
each its own text (what transactional traffic is).

    python bench/sms_throughput.py --messages 2000 --concurrency 16 --campaign 0.8
    python bench/sms_throughput.py --redis redis://127.0.0.1:6379/9
    python bench/sms_throughput.py --redis redis://127.0.0.1:7000/0   # any node of a Cluster

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
from gateway.store.connection import connect, detect_cluster
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
    for shard in keys.sms_shards(keys.SMS_SHARDS):
        pending = await client.xpending(keys.sms_queue(shard), keys.SMS_GROUP)
        if int(await client.xlen(keys.sms_queue(shard))) or int(pending["pending"]):
            return False
    return True


async def run(
    url: str, fake_url: str, messages: int, concurrency: int, campaign: float, limit_s: float
) -> tuple[float, float]:
    cluster = detect_cluster(url)
    client = connect(url, cluster=cluster, socket_timeout=5.0)
    await client.flushdb(**({"target_nodes": "primaries"} if cluster else {}))
    ledger = ConsentLedger(client)
    outbox = Outbox(client, ledger, Pseudonymizer(b"bench"))
    in_ten = round(campaign * 10)
    for i in range(messages):  # the receipts interleaved with the campaign, as they would come
        text = ("Bundles: 1 GB for KES 50 this weekend only. Dial *544#" if i % 10 < in_ten
                else f"Your receipt number {i}: KES 100 paid. Thank you!")  # fmt: skip
        await outbox.send(f"+2547{i:08d}", text)
    sender = AtSms("sandbox", "bench-key", fake_url, timeout=5.0)
    config = WorkerConfig(concurrency=concurrency, rate_per_sender=0, claim_idle=60)
    worker = Worker(client, sender, ledger, config, name="bench")
    await worker.ensure_group()
    stop = asyncio.Event()
    started, cpu = time.perf_counter(), time.process_time()
    task = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(limit_s):
            while not await _drained(client):  # noqa: ASYNC110 - polling Redis
                await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
    finally:
        stop.set()
        await task
        await client.aclose()
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--campaign", type=float, default=0.8,
                        help="the share of messages with one text (default 0.8)")  # fmt: skip
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
        fake_url = f"http://127.0.0.1:{port}"
        elapsed, cpu = asyncio.run(run(url, fake_url, args.messages, args.concurrency,
                                       args.campaign, min(args.timeout, 300.0)))  # fmt: skip
    finally:
        fake.terminate()
        fake.wait(timeout=10)
        if embedded is not None:
            embedded.stop()
    rate = args.messages / elapsed
    print(f"{args.messages} messages through the fake AT in {elapsed:.2f} s: "
          f"{rate:.0f} messages/s (concurrency {args.concurrency}, {args.campaign:.0%} one "
          f"campaign text, the rest distinct, real AT SDK, "
          f"{'embedded Redis' if args.redis is None else 'Redis ' + args.redis}); the worker's "
          f"process used {cpu:.2f} s of CPU, {cpu / args.messages * 1e3:.2f} ms a message"
          )  # fmt: skip


if __name__ == "__main__":
    main()
