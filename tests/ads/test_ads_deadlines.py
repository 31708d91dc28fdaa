"""Decision deadlines share one loop timer (``gateway.ads.server.Deadlines``): a decision past
its deadline is still stopped (at most ``DEADLINE_SLACK_S`` late), one that finished in time is
never cancelled, and a shorter deadline kept after a longer one still ends on time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from gateway.ads.engine import BalanceCheck
from gateway.ads.server import DEADLINE_SLACK_S, Deadlines, Decision, decide_within

CHECK = BalanceCheck("p_x", "254700000001", "Balance 1", "63902")
LIMITS = (182, 91)


class _Server:
    """What ``decide_within`` needs of an ``AdServer``: its deadlines and a decision that
    takes ``delays`` (popped one per decision) seconds."""

    def __init__(self, *delays: float) -> None:
        self.deadlines = Deadlines()
        self.delays = list(delays)

    async def decide(self, check: BalanceCheck, limits: tuple[int, int]) -> Decision:
        await asyncio.sleep(self.delays.pop(0))
        return Decision(check.text + "\nAd", None, "")

    def release(self, placement: Any) -> None:
        raise AssertionError("nothing was placed")


async def timed(server: Any, deadline: float) -> tuple[Decision, float]:
    began = time.perf_counter()
    decision = await decide_within(server, CHECK, LIMITS, deadline)
    return decision, time.perf_counter() - began


async def test_a_slow_decision_is_stopped_at_its_deadline() -> None:
    server = _Server(5.0)
    decision, took = await timed(server, 0.05)
    assert (decision.text, decision.reason) == (CHECK.text, "timeout")
    assert 0.05 <= took + 0.001 < 0.05 + DEADLINE_SLACK_S + 0.05  # a loaded test machine


async def test_decisions_in_time_are_never_cancelled_and_the_slow_ones_among_them_are() -> None:
    """Many decisions in flight at once, every third one too slow: exactly those time out."""
    delays = [0.2 if i % 3 == 0 else 0.001 * (i % 7) for i in range(60)]
    server = _Server(*delays)
    outcomes = await asyncio.gather(*(timed(server, 0.1) for _ in delays))
    reasons = [decision.reason for decision, _ in outcomes]
    assert reasons == ["timeout" if i % 3 == 0 else "" for i in range(60)]
    assert all(took < 0.1 + DEADLINE_SLACK_S + 0.05 for _, took in outcomes)


async def test_a_shorter_deadline_after_a_longer_one_ends_on_time() -> None:
    """A USSD hop's remaining budget can be shorter than the ads deadline of a decision that
    started before it: it is not made to wait for the longer one."""
    server = _Server(5.0, 5.0)
    long = asyncio.ensure_future(timed(server, 1.0))
    await asyncio.sleep(0)
    decision, took = await timed(server, 0.03)
    assert decision.reason == "timeout"
    assert took < 0.03 + 0.05
    assert not long.done()
    long.cancel()


async def test_the_callers_own_cancellation_is_not_taken_for_the_deadline() -> None:
    server = _Server(5.0)
    task = asyncio.ensure_future(timed(server, 1.0))
    await asyncio.sleep(0.01)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the caller's cancellation was swallowed")
