"""Rewards: how many earns and holds per second the ledger scripts take, and what a subscriber
with a long ledger costs (a hold replays the entries after the last snapshot, at most ~64).

Runs in-process against an embedded redis-server (or ``--redis URL``): ``--subscribers``
numbers earn points, then redeem a voucher item concurrently (``--concurrency`` in flight);
then one subscriber with ``--history`` entries redeems, to show the cost of a long ledger.

    python bench/rewards_redeem.py
    python bench/rewards_redeem.py --subscribers 2000 --history 2000

Nothing is sent anywhere (no worker runs); every run is bounded by its counts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import tempfile
import time
from pathlib import Path

from gateway import logs
from gateway.errors import RedeemRefused
from gateway.jobs.queue import JobQueue
from gateway.privacy import Pseudonymizer
from gateway.rewards.catalog import Catalog, Catalogs, Item, Voucher
from gateway.rewards.ledger import Ledger
from gateway.rewards.service import QUEUE, Policy, Rewards
from gateway.store.connection import connect
from gateway.store.embedded import EmbeddedRedis


async def bounded(tasks: list, concurrency: int) -> float:  # type: ignore[type-arg]
    """Run coroutine factories ``concurrency`` at a time; seconds taken."""
    slots = asyncio.Semaphore(concurrency)

    async def one(factory):  # type: ignore[no-untyped-def]
        async with slots:
            with contextlib.suppress(RedeemRefused):
                await factory()

    started = time.perf_counter()
    await asyncio.gather(*(one(t) for t in tasks))
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> None:
    logs.configure("json", "warning")  # one line per earn and hold would be the benchmark
    server = None
    url = args.redis
    if url is None:
        server = EmbeddedRedis(Path(tempfile.mkdtemp(prefix="jumbe-bench-")))
        server.start()
        url = server.url
    client = connect(url, cluster=False, socket_timeout=10.0)
    try:
        await client.flushdb()
        items = (Item("cup", "b", {"en": "Cup"}, 10, Voucher(("x",))),)
        rewards = Rewards(Ledger(client), Catalogs([Catalog("b", items)]), Pseudonymizer(b"k" * 32),
                          JobQueue(client, QUEUE), Policy())  # fmt: skip
        numbers = [f"+2547{i:08d}" for i in range(args.subscribers)]
        pseudo = rewards.pseudonym
        earn = [lambda n=n: rewards.earn(pseudo(n), 100, "bench", "1") for n in numbers]
        took = await bounded(earn, args.concurrency)
        print(f"earn:   {len(earn) / took:8.0f}/s  ({len(earn)} numbers)")
        redeem = [lambda n=n: rewards.redeem(n, "cup") for n in numbers]
        took = await bounded(redeem, args.concurrency)
        print(f"redeem: {len(redeem) / took:8.0f}/s  (hold + index + enqueue, {len(redeem)})")
        hot = "+254799999999"
        for i in range(args.history):
            await rewards.earn(pseudo(hot), 1, "bench", f"h{i}")
        started = time.perf_counter()
        for _ in range(20):
            with contextlib.suppress(RedeemRefused):
                await rewards.redeem(hot, "cup")
        each = (time.perf_counter() - started) / 20 * 1000
        print(f"redeem with {args.history} entries in one ledger: {each:.2f} ms each")
    finally:
        await client.aclose()
        if server is not None:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis", help="Redis URL (default: an embedded redis-server)")
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--history", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
