"""When the hop path's client writes what callers queued: a long loop pass does not hold its
commands back until the pass ends."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis
from conftest import ON_CLUSTER

from gateway.store.pipelined import EARLY_WRITE_AT, PipelinedRedis

pytestmark = pytest.mark.skipif(
    ON_CLUSTER, reason="the one-Redis client (the Cluster's runs one per node)"
)


async def _counter_in_redis(url: str, key: str, awaited: int, patience: float) -> int:
    """``key``'s value read on another connection once it is ``awaited`` or ``patience`` seconds
    have passed, blocking this thread: the event loop gets no pass meanwhile."""
    other = redis.Redis.from_url(url)
    try:
        deadline = time.monotonic() + patience
        while True:
            value = int(other.get(key) or 0)
            if value == awaited or time.monotonic() > deadline:
                return value
            time.sleep(0.005)  # noqa: ASYNC251 - on purpose: the loop must get no pass
    finally:
        other.close()


async def test_a_long_pass_writes_its_commands_before_it_ends(redis_url: str) -> None:
    """Once ``EARLY_WRITE_AT`` commands are queued in one pass, Redis runs them while the pass
    goes on (a burst of balance checks gets its replies a pass sooner); fewer wait for the
    pass's end as before; every caller gets its own reply, in order."""
    client = PipelinedRedis(redis_url)
    key = f"test:early:{uuid.uuid4().hex}"
    incr = (b"INCR", key.encode())
    try:
        await client.run_together([(b"PING",)])  # connected: the calls below queue at once
        burst = [asyncio.ensure_future(client.run_together([incr])) for _ in range(EARLY_WRITE_AT)]
        # a task of the same pass, after the burst's: it sees what reached Redis meanwhile
        seen = await asyncio.ensure_future(_counter_in_redis(redis_url, key, EARLY_WRITE_AT, 2))
        assert seen == EARLY_WRITE_AT, "the burst's commands waited for the pass to end"
        assert [reply for (reply,) in await asyncio.gather(*burst)] == list(
            range(1, EARLY_WRITE_AT + 1)
        )

        fewer = [asyncio.ensure_future(client.run_together([incr])) for _ in range(3)]
        seen = await asyncio.ensure_future(_counter_in_redis(redis_url, key, -1, 0.05))
        assert seen == EARLY_WRITE_AT, "a usual pass's commands are written once, at its end"
        assert [reply for (reply,) in await asyncio.gather(*fewer)] == [
            EARLY_WRITE_AT + 1, EARLY_WRITE_AT + 2, EARLY_WRITE_AT + 3,
        ]  # fmt: skip
    finally:
        await client.close()
