"""``ActivityRecorder``: the one hook every engine calls when a subscriber does something.

``record(pseudonym, kind)`` is synchronous and never raises: it notes at most one write per
subscriber per day per process (an in-process set remembers who was recorded today). Notes are
written in batches, ``FLUSH_DELAY`` after the first one, by one background task: the
subscribers' scripts sent ``CHUNK`` at a time in one write each (no task per subscriber), then
one ``ZADD`` per index shard for all of them. Sources: USSD
sessions (the hop pipeline, first hop), inbound SMS, survey answers (``surveys.steps``), and
points earned and redeemed (``Rewards.listeners``), as ``app[ACTIVITY].record(pseudonym, kind)``.

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
FLUSH_DELAY = 0.2
"""Seconds between a first note and the batch that writes it (and every note since)."""
CHUNK = 64
"""Scripts sent together: a busy gateway's batch (hundreds of new subscribers) would otherwise
hold the event loop for milliseconds, which every hop in flight waits out (its p99)."""


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
        self._pending: dict[str, tuple[int, str]] = {}
        """Noted, not yet written: pseudonym → (day, kind)."""
        self._writing: list[tuple[dict[str, tuple[int, str]], asyncio.Future[None]]] = []
        """Batches being written, each with a future settled when its write ends."""
        self._background = Background("gateway.lifecycle", "lifecycle_record_failed")

    def record(self, pseudonym: str, kind: str) -> None:
        """Note that ``pseudonym`` did ``kind`` now (written in the background, once a day)."""
        today = epoch_day(self._clock())
        if today != self._today or len(self._seen) > MAX_REMEMBERED:
            self._today, self._seen = today, set()
        if pseudonym in self._seen:
            return
        self._seen.add(pseudonym)
        if not self._pending:
            self._background.spawn(self._flush_soon())
        self._pending[pseudonym] = (today, kind)

    async def record_now(self, pseudonym: str, kind: str) -> None:
        """``record`` and wait until it is written (tests, imports)."""
        await self._write({pseudonym: (epoch_day(self._clock()), kind)})

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_DELAY)
        batch, self._pending = self._pending, {}
        if not batch:  # every note in it was forgotten (an erasure)
            return
        writing = (batch, asyncio.get_running_loop().create_future())
        self._writing.append(writing)
        try:
            await self._write(batch)
        finally:
            self._writing.remove(writing)
            writing[1].set_result(None)

    async def forget(self, pseudonym: str) -> None:
        """Drop ``pseudonym``'s note not yet written, and wait out a write of it in flight: an
        erasure that follows then finds everything this process was going to write (a note
        written after it would bring the subscriber's activity back)."""
        self._pending.pop(pseudonym, None)
        self._seen.discard(pseudonym)
        for batch, written in list(self._writing):
            if pseudonym in batch:
                await asyncio.shield(written)

    async def _write(self, batch: dict[str, tuple[int, str]]) -> None:
        """Each subscriber's activity script, then each index shard's members: one write each,
        no task per subscriber (``run_together``). A subscriber whose script failed is
        forgotten from today's set, so their next activity tries again."""
        items = list(batch.items())
        replies: list[Any] = []
        for start in range(0, len(items), CHUNK):  # the loop serves hops between chunks
            replies += await self._client.run_together([
                (_RECORD, [keys.lifecycle(pseudonym)], [day, epoch_week(day), keys.SUBSCRIBER_TTL])
                for pseudonym, (day, _kind) in items[start : start + CHUNK]
            ])  # fmt: skip
        last: dict[str, list[Any]] = {}
        loyal: dict[str, list[Any]] = {}
        failed: list[str] = []
        for (pseudonym, (day, _kind)), weeks in zip(items, replies, strict=True):
            if isinstance(weeks, StoreError):
                failed.append(pseudonym)
                continue
            shard = keys.lifecycle_shard(pseudonym)
            last.setdefault(keys.lifecycle_last(shard), []).extend((day, pseudonym))
            if int(weeks) >= self.thresholds.loyal_weeks:
                loyal.setdefault(keys.lifecycle_loyal(shard), []).extend((day, pseudonym))
        indexes = (*last.items(), *loyal.items())
        indexed = await self._client.run_together(
            [(b"ZADD", index.encode(), *members) for index, members in indexes]
        )
        errors = [reply for reply in (*replies, *indexed) if isinstance(reply, StoreError)]
        if any(isinstance(reply, StoreError) for reply in indexed):
            failed = list(batch)  # which shard's members were lost is not worth tracking
        if errors:
            self._seen.difference_update(failed)  # try again at their next activity
            log.warning("lifecycle_record_failed", subscribers=len(failed), error=str(errors[0]))

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
        """Write what is noted and wait for writes in flight (shutdown)."""
        await self._background.close()
        if self._pending:
            batch, self._pending = self._pending, {}
            await self._write(batch)
