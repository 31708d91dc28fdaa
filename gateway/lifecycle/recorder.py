"""``ActivityRecorder``: the one hook every engine calls when a subscriber does something.

``record(pseudonym, kind)`` is synchronous and never raises: it schedules at most one write per
subscriber per day per process (an in-process set remembers who was recorded today), on the
hop path's pipelined client, so that it is written together with whatever else that tick sends
(a hop's session save). Sources today: USSD sessions (the hop pipeline, first hop) and inbound
SMS; the survey and reward engines call ``app[ACTIVITY].record(pseudonym, "survey" |
"redemption" | "purchase")`` the same way.

Counts per stage come from sharded sorted sets (pseudonym → last active day; a second set for
"last active while loyal"), so ``counts()`` is a handful of ``ZCOUNT``s, never a scan.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from gateway import logs
from gateway.background import Background
from gateway.errors import StoreError
from gateway.lifecycle.stages import Thresholds, epoch_day, epoch_week
from gateway.store import keys, lua
from gateway.store.pipelined import HopClient

log = logs.get_logger("gateway.lifecycle")

KINDS = ("ussd", "sms", "survey", "redemption", "purchase")
"""Activity the gateway sees (a kind outside this list is recorded as ``other``)."""
_RECORD = lua.source("lifecycle_record")
MAX_REMEMBERED = 200_000


class ActivityRecorder:
    """Records activity (cheaply, deduplicated per day) and counts subscribers per stage."""

    def __init__(
        self, client: HopClient, thresholds: Thresholds, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self.thresholds = thresholds
        self._clock = clock
        self._today = -1
        self._seen: set[str] = set()
        self._background = Background("gateway.lifecycle", "lifecycle_record_failed")

    def record(self, pseudonym: str, kind: str) -> None:
        """Note that ``pseudonym`` did ``kind`` now (written in the background, once a day)."""
        today = epoch_day(self._clock())
        if today != self._today or len(self._seen) > MAX_REMEMBERED:
            self._today, self._seen = today, set()
        if pseudonym in self._seen:
            return
        self._seen.add(pseudonym)
        self._background.spawn(self._write(pseudonym, today, kind))

    async def record_now(self, pseudonym: str, kind: str) -> None:
        """``record`` and wait until it is written (tests, imports)."""
        await self._write(pseudonym, epoch_day(self._clock()), kind)

    async def _write(self, pseudonym: str, today: int, kind: str) -> None:
        try:
            weeks: Any = await self._client.run_script(
                _RECORD, [keys.lifecycle(pseudonym)],
                [today, epoch_week(today), keys.SUBSCRIBER_TTL],
            )  # fmt: skip
            shard = keys.lifecycle_shard(pseudonym)
            writes = [self._client.execute(b"ZADD", keys.lifecycle_last(shard), today, pseudonym)]
            if int(weeks) >= self.thresholds.loyal_weeks:
                writes.append(
                    self._client.execute(b"ZADD", keys.lifecycle_loyal(shard), today, pseudonym)
                )
            await asyncio.gather(*writes)
        except StoreError as exc:
            self._seen.discard(pseudonym)  # try again at the next activity
            log.warning("lifecycle_record_failed", subscriber=pseudonym, kind=kind, error=str(exc))

    async def counts(self) -> dict[str, int]:
        """Subscribers per stage now (``new`` is not counted: they are not stored)."""
        t = self.thresholds
        today = epoch_day(self._clock())
        ranges = {
            "active": (today - t.active_days, "+inf"),
            "idle": (today - t.lapsing_days, today - t.active_days - 1),
            "lapsing": (today - t.inactive_days, today - t.lapsing_days - 1),
            "inactive": ("-inf", today - t.inactive_days - 1),
        }
        calls = []
        for shard in range(keys.LIFECYCLE_SHARDS):
            last = keys.lifecycle_last(shard)
            calls += [
                self._client.execute(b"ZCOUNT", last, low, high) for low, high in ranges.values()
            ]
            calls.append(
                self._client.execute(
                    b"ZCOUNT", keys.lifecycle_loyal(shard), today - t.active_days, "+inf"
                )
            )
        replies = await asyncio.gather(*calls)
        per = len(ranges) + 1
        counts = dict.fromkeys(["loyal", *ranges], 0)
        for shard in range(keys.LIFECYCLE_SHARDS):
            chunk = replies[shard * per : (shard + 1) * per]
            for name, value in zip(ranges, chunk, strict=False):
                counts[name] += int(value)
            counts["loyal"] += int(chunk[-1])
        counts["active"] -= counts["loyal"]
        return counts

    async def close(self) -> None:
        """Wait for writes in flight (shutdown)."""
        await self._background.close()
