"""The daily jobs: expire points whose time has come, drain recorded incentive grants, and the
reconciliation report (AT's answers against the ledger). Each is safe to run twice: expiry
posts nothing the second time, draining credits nothing twice (earn is unique per source)."""

from __future__ import annotations

from typing import Any

from gateway import logs
from gateway.incentives import RecordedIncentives
from gateway.rewards.ledger import FINAL
from gateway.rewards.service import Rewards
from gateway.store import keys

log = logs.get_logger("gateway.rewards")

UNSETTLED_AFTER = 3600.0
"""A redemption SUBMITTED longer than this without a final answer is flagged."""
STUCK_AFTER = 600.0
"""A redemption still HELD this long lost its job (a crash between hold and enqueue)."""
STUCK_WINDOW = 2 * 86400.0
"""How far back the hourly job looks for such redemptions (it runs every hour)."""
INDEX_KEPT = 400 * 86400.0
"""Redemptions stay in the reconciliation index this long (their records stay for good)."""


async def expire_all(rewards: Rewards) -> tuple[int, int]:
    """Post expiry entries for every subscriber whose points are due: (subscribers, points)."""
    ledger, now = rewards.ledger, rewards.now()
    touched = expired_points = 0
    for shard in range(keys.REWARDS_SHARDS):
        index = keys.rewards_expiry(shard)
        due: Any = await ledger.redis.zrangebyscore(index, "-inf", now)
        for raw in due:
            subscriber = raw.decode()
            expired, _balance, soonest = await ledger.expire(subscriber)
            if soonest:
                await ledger.redis.zadd(index, {subscriber: soonest})
            else:
                await ledger.redis.zrem(index, subscriber)
            if expired:
                touched += 1
                expired_points += expired
                log.info("rewards_expired", subscriber=subscriber, points=expired)
    return touched, expired_points


async def drain_incentives(rewards: Rewards, recorded: RecordedIncentives) -> int:
    """Credit every grant recorded before the ledger took over; the number credited now."""
    credited = 0
    for source, source_id, subscriber, points, _at in await recorded.recorded():
        earned = await rewards.earn(subscriber, points, source, source_id)
        credited += earned.new
        await rewards.redis.hdel(keys.incentives_granted(source), source_id)
    if credited:
        log.info("rewards_incentives_drained", credited=credited)
    return credited


async def requeue_stuck(rewards: Rewards) -> int:
    """Queue again redemptions still HELD long after their hold (their job was lost)."""
    now, count = rewards.now(), 0
    since, until = (now - STUCK_WINDOW) * 1000, (now - STUCK_AFTER) * 1000
    for subscriber, redemption in await _indexed(rewards, since, until):
        record = await rewards.ledger.redemption(subscriber, redemption)
        if record and record.get("state") == "HELD":
            await rewards.queue.enqueue(redemption, subscriber)
            count += 1
    return count


async def trim_index(rewards: Rewards) -> None:
    """Drop index entries older than ``INDEX_KEPT`` (the index would otherwise only grow)."""
    oldest = (rewards.now() - INDEX_KEPT) * 1000
    for shard in range(keys.REWARDS_SHARDS):
        await rewards.redis.zremrangebyscore(keys.rewards_index(shard), "-inf", oldest)


async def _indexed(rewards: Rewards, since_ms: float, until_ms: float) -> list[tuple[str, str]]:
    found = []
    for shard in range(keys.REWARDS_SHARDS):
        raw: Any = await rewards.redis.zrangebyscore(keys.rewards_index(shard), since_ms, until_ms)
        for member in raw:
            subscriber, _, redemption = member.decode().partition("|")
            found.append((subscriber, redemption))
    return found


async def reconcile(rewards: Rewards, since: float, until: float) -> dict[str, Any]:
    """Compare what AT answered for each airtime redemption created in ``[since, until)`` with
    the ledger: counts per state and every mismatch (by redemption id and pseudonym)."""
    states: dict[str, int] = {}
    sent_value: dict[str, float] = {}
    mismatches: list[dict[str, str]] = []
    now = rewards.now()
    for subscriber, redemption in await _indexed(rewards, since * 1000, until * 1000 - 1):
        record = await rewards.ledger.redemption(subscriber, redemption)
        if record is None:
            continue
        state = record["state"]
        states[state] = states.get(state, 0) + 1
        refs = {e["t"] for e in await rewards.ledger.entries(subscriber)
                if e.get("ref") == redemption}  # fmt: skip
        problem = _problem(record, refs, now)
        if problem:
            mismatches.append({"redemption": redemption, "subscriber": subscriber,
                               "state": state, "problem": problem})  # fmt: skip
        if state == "SUCCESS" and record.get("kind") == "airtime":
            currency = record.get("currency", "")
            sent_value[currency] = sent_value.get(currency, 0.0) + float(record.get("value") or 0)
    return {"redemptions": sum(states.values()), "states": states, "airtime_sent": sent_value,
            "mismatches": mismatches}  # fmt: skip


def _problem(record: dict[str, str], refs: set[str], now: float) -> str:  # noqa: PLR0911 (a table of checks)
    state, callback = record["state"], record.get("callback", "").lower()
    if record.get("conflict"):
        return record["conflict"]
    if "hold" not in refs:
        return "no hold entry in the ledger"
    if state == "SUCCESS" and "capture" not in refs:
        return "SUCCESS without a capture entry"
    if state == "REVERSED" and not refs & {"release", "reverse"}:
        return "REVERSED without a credit entry"
    if state == "SUCCESS" and callback == "failed":
        return "AT reported Failed; the ledger captured the points"
    if state == "REVERSED" and callback == "success":
        return "AT reported Success; the ledger gave the points back"
    updated = float(record.get("updated") or 0)
    if state == "SUBMITTED" and now - updated > UNSETTLED_AFTER:
        return "SUBMITTED with no final answer from AT (check AT's transaction log)"
    if state == "HELD" and now - updated > STUCK_AFTER:
        return "HELD and never sent"
    if state not in FINAL and state not in ("HELD", "SUBMITTED"):
        return f"unknown state {state}"
    return ""
