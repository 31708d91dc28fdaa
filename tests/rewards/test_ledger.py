"""The ledger on a real Redis: earn once per source, hold atomically, oldest lots first,
expiry posted once, points back on reversal, the balance always the sum of the entries."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rewards_fixtures import KE, Domain, domain_fixture  # noqa: F401

from gateway.rewards import daily
from gateway.rewards.ledger import Guards
from gateway.rewards.service import expiry_for
from gateway.store import keys


async def _sum(domain: Domain, subscriber: str) -> int:
    return sum(int(e["pts"]) for e in await domain.ledger.entries(subscriber))


async def test_the_same_source_event_is_credited_once(domain: Domain) -> None:
    """A second earn of one (source, source_id) returns the first entry, balance unchanged."""
    sub = domain.pseudonym(KE)
    first = await domain.rewards.earn(sub, 50, "pos", "receipt-1")
    again = await domain.rewards.earn(sub, 50, "pos", "receipt-1")
    other = await domain.rewards.earn(sub, 20, "pos", "receipt-2")
    assert (again.entry, again.balance, again.new) == (first.entry, 50, False)
    assert (other.balance, other.new) == (70, True)
    assert [e["t"] for e in await domain.ledger.entries(sub)] == ["earn", "earn"]


async def test_fifty_concurrent_holds_with_points_for_one_hold_exactly_one(domain: Domain) -> None:
    """50 redemptions at once of a 30-point item against 30 points: exactly one is held."""
    await domain.rewards.earn(domain.pseudonym(KE), 30, "pos", "r1")
    outcomes = await asyncio.gather(
        *(domain.rewards.redeem(KE, "coffee") for _ in range(50)), return_exceptions=True
    )
    held = [o for o in outcomes if isinstance(o, tuple)]
    refused = [o for o in outcomes if not isinstance(o, tuple)]
    assert len(held) == 1, outcomes
    assert all(getattr(o, "reason", "") == "insufficient_points" for o in refused)
    sub = domain.pseudonym(KE)
    assert [e["t"] for e in await domain.ledger.entries(sub)].count("hold") == 1
    assert len(await domain.ledger.redemptions(sub)) == 1


async def test_a_hold_spends_the_oldest_lot_first(domain: Domain) -> None:
    """Lots of 30 then 50 points; a 40-point hold empties the first and takes 10 of the second."""
    sub = domain.pseudonym(KE)
    await domain.rewards.earn(sub, 30, "pos", "old")
    domain.clock.now += 86400
    await domain.rewards.earn(sub, 50, "pos", "new")
    redemption, state = await domain.rewards.redeem(KE, "air20")
    assert state == "HELD"
    assert [(lot["source"], lot["left"]) for lot in await domain.ledger.lots(sub)] == [
        ("pos", 0), ("pos", 40)]  # fmt: skip
    back = await domain.rewards.settle(sub, redemption, "REVERSED", reason="test")
    assert back == "REVERSED"
    assert [lot["left"] for lot in await domain.ledger.lots(sub)] == [30, 50]
    assert await _sum(domain, sub) == 80


def test_points_last_twelve_months_to_the_end_of_the_month() -> None:
    """Earned on 15 January 2026 (Nairobi): expire at the start of February 2027, local time."""
    expires = expiry_for(1768478400.0, 12, "Africa/Nairobi")
    assert datetime.fromtimestamp(expires, ZoneInfo("Africa/Nairobi")) == datetime(
        2027, 2, 1, tzinfo=ZoneInfo("Africa/Nairobi"))  # fmt: skip
    december = datetime(2026, 12, 31, 23, 0, tzinfo=ZoneInfo("Africa/Nairobi")).timestamp()
    assert datetime.fromtimestamp(expiry_for(december, 12, "Africa/Nairobi"),
                                  ZoneInfo("Africa/Nairobi")) == datetime(
        2028, 1, 1, tzinfo=ZoneInfo("Africa/Nairobi"))  # fmt: skip
    assert expiry_for(1768478400.0, 0, "Africa/Nairobi") == 0


async def test_the_expiry_job_run_twice_posts_once(domain: Domain) -> None:
    """After expiry, the daily job posts one expire entry per lot; a second run posts nothing."""
    sub = domain.pseudonym(KE)
    await domain.rewards.earn(sub, 60, "pos", "a")
    domain.clock.now += 40 * 86400
    await domain.rewards.earn(sub, 25, "pos", "b")
    domain.clock.now = expiry_for(domain.clock.now - 40 * 86400, 12, "Africa/Nairobi") + 1
    assert await daily.expire_all(domain.rewards) == (1, 60)
    assert await daily.expire_all(domain.rewards) == (0, 0)
    kinds = [e["t"] for e in await domain.ledger.entries(sub)]
    assert kinds == ["earn", "earn", "expire"]
    assert await _sum(domain, sub) == 25
    domain.clock.now += 60 * 86400
    assert await daily.expire_all(domain.rewards) == (1, 25)
    assert await _sum(domain, sub) == 0


async def test_expired_points_cannot_be_held_even_before_the_job_runs(domain: Domain) -> None:
    """A lot past its expiry is expired by the hold itself: the hold is refused."""
    sub = domain.pseudonym(KE)
    await domain.rewards.earn(sub, 100, "pos", "a")
    domain.clock.now += 400 * 86400
    refused = await domain.ledger.hold(sub, "r1", 40, {"kind": "voucher"}, None, Guards())
    assert (refused.outcome, refused.reason) == ("refused", "insufficient_points")
    assert [e["t"] for e in await domain.ledger.entries(sub)] == ["earn", "expire"]


async def test_a_final_state_never_moves_and_captures_once(domain: Domain) -> None:
    """SUCCESS twice writes one capture; REVERSED after SUCCESS is refused (no credit)."""
    sub = domain.pseudonym(KE)
    await domain.rewards.earn(sub, 100, "pos", "a")
    redemption, _ = await domain.rewards.redeem(KE, "air50")
    assert await domain.rewards.settle(sub, redemption, "SUBMITTED") == "SUBMITTED"
    assert await domain.rewards.settle(sub, redemption, "SUCCESS") == "SUCCESS"
    assert await domain.rewards.settle(sub, redemption, "SUCCESS") == "SUCCESS"
    assert await domain.rewards.settle(sub, redemption, "REVERSED") == "SUCCESS"
    kinds = [e["t"] for e in await domain.ledger.entries(sub)]
    assert kinds == ["earn", "hold", "capture"]
    assert await _sum(domain, sub) == 0


async def test_a_long_ledger_adds_up_through_its_snapshots(domain: Domain, aredis: Any) -> None:
    """300 lots, a hold of the oldest 30, 100 more lots, then the hold reversed into lots that
    were empty when the snapshot was taken: every point can be held again, the scripts' balance
    is the sum of the entries, with or without the snapshot."""
    sub = domain.pseudonym(KE)
    for i in range(300):
        await domain.ledger.earn(sub, 1, "pos", f"a{i}", 0)
    redemption, _ = await domain.rewards.redeem(KE, "coffee")
    for i in range(100):
        await domain.ledger.earn(sub, 1, "pos", f"b{i}", 0)
    assert await aredis.exists(keys.rewards_snapshot(sub))
    assert await domain.rewards.settle(sub, redemption, "REVERSED") == "REVERSED"
    assert (await domain.ledger.expire(sub))[1] == await _sum(domain, sub) == 400
    await aredis.delete(keys.rewards_snapshot(sub))
    assert (await domain.ledger.expire(sub))[1] == 400
    held = await domain.ledger.hold(sub, "all", 400, {"kind": "voucher"}, None, Guards())
    assert (held.outcome, held.balance) == ("held", 0)
    assert {lot["left"] for lot in await domain.ledger.lots(sub)} == {0}


async def test_a_hold_whose_job_was_lost_is_queued_again(domain: Domain, aredis: Any) -> None:
    """A redemption still HELD 10 minutes after its hold (its job lost) is queued again by the
    hourly job; one sent or too old is not."""
    await domain.rewards.earn(domain.pseudonym(KE), 100, "pos", "a")
    await domain.rewards.redeem(KE, "coffee")
    await aredis.delete(*[domain.rewards.queue.stream(s) for s in range(4)])
    assert await daily.requeue_stuck(domain.rewards) == 0  # not stuck yet
    domain.clock.now += 11 * 60
    assert await daily.requeue_stuck(domain.rewards) == 1
    assert (await domain.rewards.queue.depth())[0] == 1
    domain.clock.now += 3 * 86400
    assert await daily.requeue_stuck(domain.rewards) == 0  # out of the window: reconciliation
