"""``store.lease``: one holder across processes, a bounded wait, and a lease that outlives its
holder's work is never given back by that holder over the next one's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from conftest import ON_CLUSTER

from gateway.errors import StoreUnavailable
from gateway.store.client import StoreClient
from gateway.store.connection import connect
from gateway.store.lease import Leases


@pytest.fixture
async def client(redis_url: str) -> AsyncIterator[StoreClient]:
    found = connect(redis_url, cluster=ON_CLUSTER)
    try:
        yield found
    finally:
        await found.aclose()


async def test_two_holders_take_turns(client: StoreClient) -> None:
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

    await asyncio.gather(work(Leases(client), "one"), work(Leases(client), "two"))
    assert overlaps == 0


async def test_a_waiter_gives_up_with_store_unavailable(client: StoreClient) -> None:
    """A key held longer than the wait: the waiter raises StoreUnavailable (a callback answers
    503 and the aggregator retries) instead of waiting for ever."""
    holder, waiter = Leases(client), Leases(client, wait=0.2)
    async with holder.hold("j:test:lease:{b}"):
        with pytest.raises(StoreUnavailable, match="busy"):
            async with waiter.hold("j:test:lease:{b}"):
                pass


async def test_an_expired_holder_does_not_release_the_next_ones_lease(client: StoreClient) -> None:
    """A holder slower than the TTL loses the lease to the next one; its late give-back leaves
    the new holder's lease in place."""
    key = "j:test:lease:{c}"
    slow, fast = Leases(client, ttl=0.1), Leases(client, ttl=5.0, wait=2.0)
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
            still_held.append(await client.get(key) is not None)

    await asyncio.gather(slow_work(), fast_work())
    assert still_held == [True]
