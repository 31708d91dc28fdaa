"""The points ledger on Redis: every change is one Lua script on one subscriber's keys.

Entries are append-only (``store/lua/rewards_lib.lua`` describes them); the balance is their
sum, recomputed by the scripts, never stored. Earn is unique per ``(source, source_id)``; a hold
checks the per-number guards and the balance and takes the points oldest lot first, in one
step; lots whose time has come are expired by whichever script touches the ledger next (and by
the daily job), so the points a hold may take are always live ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript

from gateway.store import keys, lua
from gateway.store.client import StoreClient

STATES = ("HELD", "SUBMITTED", "SUCCESS", "REVERSED")
FINAL = frozenset({"SUCCESS", "REVERSED"})


@dataclass(frozen=True, slots=True)
class Earned:
    entry: str
    balance: int
    new: bool


@dataclass(frozen=True, slots=True)
class Hold:
    """A hold's outcome: ``held`` (or the state of a redemption id already used) or refused."""

    outcome: str
    balance: int | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Guards:
    """Per-number limits checked in the hold (airtime only)."""

    velocity: float = 300.0
    daily_cap: float = 1000.0
    monthly_cap: float = 5000.0
    day_field: str = ""
    month_field: str = ""


def entry_ref(entry_id: str) -> str:
    """How an entry is named outside Redis: ``e<ms in hex>-<seq>`` (a stream id's 13 digits
    would look like a phone number to anyone reading logs, and to the log redaction)."""
    ms, _, seq = entry_id.partition("-")
    return f"e{int(ms):x}-{seq}" if ms.isdigit() else entry_id


def _with_lib(name: str) -> str:
    return lua.compose("rewards_lib", name)


@dataclass(frozen=True, slots=True)
class Scripts:
    earn: AsyncScript
    hold: AsyncScript
    move: AsyncScript
    expire: AsyncScript
    request: AsyncScript
    budget: AsyncScript
    voucher: AsyncScript

    @classmethod
    def register(cls, client: StoreClient) -> Scripts:
        return cls(*(client.register_script(src) for src in (
            _with_lib("rewards_earn"), _with_lib("rewards_hold"), _with_lib("rewards_move"),
            _with_lib("rewards_expire"), lua.source("rewards_request"),
            lua.source("rewards_budget"), lua.source("rewards_voucher"),
        )))  # fmt: skip


class Ledger:
    """One subscriber's points, by pseudonym."""

    def __init__(self, client: StoreClient, clock: Callable[[], float] = time.time) -> None:
        self.redis = client
        self.scripts = Scripts.register(client)
        self.clock = clock

    async def earn(
        self, subscriber: str, points: int, source: str, source_id: str, expires_at: float
    ) -> Earned:
        """Credit ``points`` once per ``(source, source_id)``; a repeat returns the first entry."""
        if points <= 0:
            raise ValueError("points must be positive")
        if expires_at:  # listed first: a lot that is credited can always be found by the job
            await self.redis.zadd(keys.rewards_expiry(keys.rewards_shard(subscriber)),
                                  {subscriber: int(expires_at)}, lt=True)  # fmt: skip
        reply: Any = await self.scripts.earn(
            keys=[
                keys.rewards_ledger(subscriber),
                keys.rewards_sources(subscriber),
                keys.rewards_snapshot(subscriber),
            ],
            args=[source, source_id, points, int(expires_at), f"{self.clock():.3f}"],
        )
        return Earned(entry_ref(reply[0].decode()), int(reply[1]), reply[2] == 1)

    async def hold(
        self,
        subscriber: str,
        redemption: str,
        points: int,
        record: Mapping[str, str | int | float],
        airtime_value: float | None,
        guards: Guards,
    ) -> Hold:
        """Check the guards and the balance and hold ``points`` for ``redemption`` (one step)."""
        now = self.clock()
        flat = [str(v) for pair in record.items() for v in pair]
        reply: Any = await self.scripts.hold(
            keys=[keys.rewards_ledger(subscriber), keys.rewards_redemption(subscriber, redemption),
                  keys.rewards_redemptions(subscriber), keys.rewards_guards(subscriber),
                  keys.rewards_snapshot(subscriber)],
            args=[redemption, points, f"{now:.3f}", int(now * 1000),
                  "1" if airtime_value is not None else "0", airtime_value or 0,
                  guards.velocity, guards.day_field, guards.month_field, guards.daily_cap,
                  guards.monthly_cap, keys.REWARDS_GUARDS_TTL, *flat],
        )  # fmt: skip
        outcome = reply[0].decode()
        if outcome == "refused":
            return Hold("refused", reason=reply[1].decode())
        return Hold(outcome.lower() if outcome == "held" else outcome, int(reply[1]))

    async def move(
        self, subscriber: str, redemption: str, to: str, **fields: str | int | float
    ) -> tuple[bool, str, str]:
        """Move a redemption to ``to`` (setting ``fields`` on it); (moved, the state now, the
        credit entry a reversal wrote: ``release`` if nothing was sent, ``reverse`` after AT
        failed it, else ""). ``KeyError`` if there is no such redemption."""
        flat = [str(v) for pair in fields.items() for v in pair]
        reply: Any = await self.scripts.move(
            keys=[keys.rewards_ledger(subscriber), keys.rewards_redemption(subscriber, redemption),
                  keys.rewards_guards(subscriber), keys.rewards_requests(subscriber)],
            args=[redemption, to, f"{self.clock():.3f}", *flat],
        )  # fmt: skip
        if int(reply[0]) == -1:
            raise KeyError(redemption)
        credit = reply[2].decode() if len(reply) > 2 else ""
        return int(reply[0]) == 1, reply[1].decode(), credit

    async def expire(self, subscriber: str) -> tuple[int, int, int]:
        """Expire the lots whose time has come: (points expired, balance, next expiry or 0)."""
        reply: Any = await self.scripts.expire(
            keys=[keys.rewards_ledger(subscriber), keys.rewards_snapshot(subscriber)],
            args=[f"{self.clock():.3f}"],
        )
        return int(reply[0]), int(reply[1]), int(reply[2])

    async def redemption(self, subscriber: str, redemption: str) -> dict[str, str] | None:
        raw: Any = await self.redis.hgetall(keys.rewards_redemption(subscriber, redemption))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    async def redemptions(self, subscriber: str, limit: int = 50) -> list[dict[str, str]]:
        """The newest ``limit`` redemptions, newest first."""
        ids: Any = await self.redis.zrevrange(keys.rewards_redemptions(subscriber), 0, limit - 1)
        found = []
        for raw in ids:
            record = await self.redemption(subscriber, raw.decode())
            if record is not None:
                found.append(record)
        return found

    async def entries(self, subscriber: str) -> list[dict[str, str]]:
        """Every entry, oldest first, with its ``id``."""
        raw: Any = await self.redis.xrange(keys.rewards_ledger(subscriber))
        return [{"id": eid.decode(), **{k.decode(): v.decode() for k, v in f.items()}}
                for eid, f in raw]  # fmt: skip

    async def lots(self, subscriber: str) -> list[dict[str, Any]]:
        """Each earn lot with what is left of it (recomputed from the entries, like the scripts),
        oldest first; the balance is the sum of every entry."""
        lots: dict[str, dict[str, Any]] = {}
        for entry in await self.entries(subscriber):
            if entry["t"] == "earn":
                points = int(entry["pts"])
                lots[entry["id"]] = {"lot": entry["id"], "points": points, "left": points,
                                     "expires_at": int(entry["exp"]), "source": entry["src"],
                                     "earned_at": float(entry["at"])}  # fmt: skip
            for part in filter(None, entry.get("a", "").split(",")):
                lot, n, _exp = part.split(":")
                if lot in lots:
                    lots[lot]["left"] += int(n)
        return [{**lot, "lot": entry_ref(lot["lot"])} for lot in lots.values()]
