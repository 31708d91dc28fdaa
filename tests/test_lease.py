"""``store.lease``: one holder across processes, a bounded wait, and a lease that outlives its
holder's work is never given back by that holder over the next one's."""

from __future__ import annotations

import asyncio

import pytest
from conftest import RedisProcess

from gateway.errors import StoreUnavailable
from gateway.store.client import StoreClient
from gateway.store.connection import connect
from gateway.store.lease import Leases


async def test_two_holders_take_turns(aredis: StoreClient) -> None:
    """Two "processes" (two Leases objects) on one key: never inside at the same time."""
    inside: list[str] = []
    overlaps = 0

    async def work(leases: Leases, name: str) -> None:
        nonlocal overlaps
        for _ in range(5):
            async with leases.hold("j:test:lease:{a}"):
                overlaps += bool(inside)
                inside.append(name)
                await asyncio.sleep(0.01)
                inside.remove(name)

    await asyncio.gather(work(Leases(aredis), "one"), work(Leases(aredis), "two"))
    assert overlaps == 0


async def test_a_waiter_gives_up_with_store_unavailable(aredis: StoreClient) -> None:
    """A key held longer than the wait: the waiter raises StoreUnavailable (a callback answers
    503 and the aggregator retries) instead of waiting for ever."""
    holder, waiter = Leases(aredis), Leases(aredis, wait=0.2)
    async with holder.hold("j:test:lease:{b}"):
        with pytest.raises(StoreUnavailable, match="busy"):
            async with waiter.hold("j:test:lease:{b}"):
                pass


async def test_an_expired_holder_does_not_release_the_next_ones_lease(aredis: StoreClient) -> None:
    """A holder slower than the TTL loses the lease to the next one; its late give-back leaves
    the new holder's lease in place."""
    key = "j:test:lease:{c}"
    slow, fast = Leases(aredis, ttl=0.1), Leases(aredis, ttl=5.0, wait=2.0)
    slow_left = asyncio.Event()
    still_held: list[bool] = []

    async def slow_work() -> None:
        async with slow.hold(key):
            await asyncio.sleep(0.3)  # the lease expires meanwhile
        slow_left.set()

    async def fast_work() -> None:
        await asyncio.sleep(0.15)
        async with fast.hold(key):
            await slow_left.wait()  # the slow holder gives back while this one holds
            still_held.append(await aredis.get(key) is not None)

    await asyncio.gather(slow_work(), fast_work())
    assert still_held == [True]


async def test_a_give_back_redis_refuses_does_not_fail_the_finished_work(
    own_redis: RedisProcess,
) -> None:
    """Redis goes away while the holder works: the work's result stands (the lease expires by
    itself), instead of the caller answering 503 for work already done."""
    client = connect(own_redis.url, socket_timeout=0.5)
    try:
        async with Leases(client).hold("j:test:lease:{d}"):
            own_redis.stop()
            done = True
        assert done
    finally:
        await client.aclose()
