"""What each hop shows and answers, counted in memory and added to Redis about once a second.

A hop costs a dictionary increment or two, never a Redis command: a busy menu would otherwise
make one hash (one Cluster slot) as hot as all its traffic. Each process adds its counts with one
pipelined ``HINCRBY`` batch per interval. Only hops whose session was saved count (a retried
or stale copy of a hop does not). While Redis is unreachable the counts wait in memory and are
added when it answers again; a batch whose answer was lost to a timeout may be added twice, and
the counts of the last interval before a crash (``kill -9``) are lost: a report can be off by
about a second of traffic, never by a step.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Callable

from gateway import logs
from gateway.errors import StoreError
from gateway.store import keys
from gateway.store.client import StoreClient

log = logs.get_logger("gateway")

NEW, REACHED, ANSWERED, INVALID = "n", "r", "a", "i"
"""Field kinds of ``keys.funnel_hops``: new sessions, screen reached, answered, invalid answer."""
_NEW, _REACHED, _ANSWERED, _INVALID = f"{NEW}|", f"{REACHED}|", f"{ANSWERED}|", f"{INVALID}|"
FLUSH_INTERVAL = 1.0
_NOT_SAVED = {"duplicate", "stale", "after_end"}


class FunnelCounts:
    """Counts of the hops this process answered, not yet in Redis."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._pending: Counter[tuple[str, int, str]] = Counter()
        """(menu id, UTC hour, field ``<kind>|<screen>``) → count."""

    def hop(self, menu_id: str, outcome: str, before: str, after: str, invalid: bool) -> None:
        """Count one saved hop of ``menu_id`` that moved from screen ``before`` to ``after``
        (``before`` empty: the session started, or resumed, on this hop)."""
        if not menu_id or outcome in _NOT_SAVED:
            return
        hour = int(self._clock()) // 3600
        pending = self._pending  # dict.get: Counter's ``+=`` calls __missing__ in Python
        if not before:
            key = (menu_id, hour, _NEW)
            pending[key] = pending.get(key, 0) + 1
            key = (menu_id, hour, _REACHED + after)
            pending[key] = pending.get(key, 0) + 1
        elif after != before:
            key = (menu_id, hour, _ANSWERED + before)
            pending[key] = pending.get(key, 0) + 1
            key = (menu_id, hour, _REACHED + after)
            pending[key] = pending.get(key, 0) + 1
        elif invalid:
            key = (menu_id, hour, _INVALID + before)
            pending[key] = pending.get(key, 0) + 1

    async def flush(self, client: StoreClient, ttl: int = keys.FUNNEL_TTL) -> bool:
        """Add the pending counts to Redis in one pipelined batch; on failure keep them for the
        next flush. ``False`` when Redis could not take them."""
        if not self._pending:
            return True
        taken, self._pending = self._pending, Counter()
        pipe = client.pipeline(transaction=False)
        items = list(taken.items())
        expiring: set[str] = set()
        for (menu_id, hour, field), count in items:
            key = keys.funnel_hops(menu_id, hour // 24)
            pipe.hincrby(key, f"{hour % 24}|{field}", count)
            expiring.add(key)
        for key in expiring:
            pipe.expire(key, ttl)
        try:
            replies = await pipe.execute(raise_on_error=False)
        except StoreError as exc:  # nothing came back: keep every count for the next flush
            self._pending.update(taken)
            log.warning("funnel_counts_not_stored", error=str(exc), pending=len(self._pending))
            return False
        # Commands that failed (a Cluster master down, an out-of-memory Redis) keep their
        # counts; those that succeeded are not sent again.
        failed = [item for item, reply in zip(items, replies, strict=False)
                  if isinstance(reply, Exception)]  # fmt: skip
        for label, count in failed:
            self._pending[label] += count
        if failed:
            first = next(reply for reply in replies if isinstance(reply, Exception))
            log.warning("funnel_counts_not_stored", error=str(first), pending=len(failed))
        return not failed

    async def run(
        self, client: StoreClient, stop: asyncio.Event, ttl: int = keys.FUNNEL_TTL
    ) -> None:
        """Flush every ``FLUSH_INTERVAL`` until ``stop``, then once more."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_INTERVAL)
            await self.flush(client, ttl)
