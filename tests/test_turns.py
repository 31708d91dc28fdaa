"""One hop of a session at a time: waiting hops get their turn in order, and one that gives up
(its deadline) never strands the session."""

from __future__ import annotations

import asyncio

import pytest

from gateway.turns import Turns


async def test_waiters_get_the_turn_in_arrival_order_and_the_key_is_freed() -> None:
    turns = Turns()
    order: list[int] = []
    assert turns.take_now("s")

    async def hop(n: int) -> None:
        await turns.take("s")
        order.append(n)
        await asyncio.sleep(0)
        turns.give_back("s")

    waiting = [asyncio.create_task(hop(n)) for n in range(3)]
    await asyncio.sleep(0)
    assert order == []  # the holder still has it
    turns.give_back("s")
    await asyncio.gather(*waiting)
    assert order == [0, 1, 2]
    assert "s" not in turns
    assert turns.take_now("s")


async def test_a_waiter_that_times_out_leaves_the_line() -> None:
    turns = Turns()
    assert turns.take_now("s")
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):
            await turns.take("s")
    turns.give_back("s")
    assert "s" not in turns  # nobody is left waiting for a turn that would never end


async def test_a_turn_handed_over_as_the_wait_is_cancelled_is_passed_on() -> None:
    turns = Turns()
    assert turns.take_now("s")
    first = asyncio.create_task(turns.take("s"))
    second = asyncio.create_task(turns.take("s"))
    await asyncio.sleep(0)
    turns.give_back("s")  # the first waiter's turn begins …
    first.cancel()  # … but it is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    await asyncio.wait_for(second, 1)  # the second one gets the turn, not a stuck session
    turns.give_back("s")
    assert "s" not in turns


async def test_other_keys_never_wait() -> None:
    turns = Turns()
    assert turns.take_now("a")
    assert turns.take_now("b")
    assert not turns.take_now("a")


async def test_hold_keeps_one_holder_per_key_and_frees_it_on_error() -> None:
    turns = Turns()
    inside: list[str] = []

    async def reply(n: int) -> None:
        async with turns.hold("subscriber"):
            inside.append(f"in {n}")
            await asyncio.sleep(0)
            inside.append(f"out {n}")
            if n == 0:
                raise ValueError("a reply that fails")

    results = await asyncio.gather(reply(0), reply(1), return_exceptions=True)
    assert isinstance(results[0], ValueError)
    assert inside == ["in 0", "out 0", "in 1", "out 1"]  # never two at once
    assert "subscriber" not in turns
