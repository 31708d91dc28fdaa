"""Incentives: points an engine grants a subscriber for something they did (completing a survey),
credited by the rewards ledger.

The contract between the engines that grant (surveys) and the one that credits (rewards):

- a grant is identified by ``(source, source_id)`` — e.g. ``("survey:nps1", <pseudonym>)`` —
  and is credited **exactly once**, however often it is granted (a retried hop, a completion
  recorded twice);
- ``IncentiveSink.grant`` never loses a grant: it returns once the grant is durably recorded.

``RecordedIncentives`` (the sink used until a ledger is installed) keeps each source's grants in
one hash, ``keys.incentives_granted(source)``, field ``<source_id>`` → ``<pseudonym>|<points>|
<time>``, written with ``HSETNX`` (a repeat changes nothing), and the sources in
``keys.incentive_sources()``. The rewards ledger credits new grants directly and drains these
hashes at start-up: its earn is unique per ``(source, source_id)``, so draining twice credits
nothing twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from gateway.store import keys
from gateway.store.client import StoreClient


class IncentiveSink(Protocol):
    """Whoever credits granted points."""

    async def grant(self, subscriber: str, points: int, source: str, source_id: str) -> None:
        """Credit ``points`` to ``subscriber`` (a pseudonym), once per ``(source, source_id)``."""


class RecordedIncentives:
    """Records grants for the ledger to credit (idempotent on ``(source, source_id)``)."""

    def __init__(self, client: StoreClient, clock: Callable[[], float] = time.time) -> None:
        self._redis = client
        self._clock = clock

    async def grant(self, subscriber: str, points: int, source: str, source_id: str) -> None:
        if points <= 0:
            raise ValueError(f"an incentive is a positive number of points, not {points}")
        # The source first: a grant whose source is listed can always be found by a drain.
        await self._redis.sadd(keys.incentive_sources(), source)
        await self._redis.hsetnx(
            keys.incentives_granted(source), source_id,
            f"{subscriber}|{points}|{self._clock():.3f}",
        )  # fmt: skip

    async def recorded(self) -> list[tuple[str, str, str, int, float]]:
        """Every recorded grant, oldest first: (source, source_id, subscriber, points, time)."""
        grants = []
        sources: Any = await self._redis.smembers(keys.incentive_sources())
        for raw_source in sources:
            source = raw_source.decode()
            recorded: Any = await self._redis.hgetall(keys.incentives_granted(source))
            for field, value in recorded.items():
                subscriber, points, at = value.decode().split("|")
                grants.append((source, field.decode(), subscriber, int(points), float(at)))
        return sorted(grants, key=lambda grant: grant[4])
