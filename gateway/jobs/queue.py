"""``JobQueue``: put a job on a durable queue, now or at a due time, in the shard of its id."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.commands.core import AsyncScript

from gateway.store import keys, lua
from gateway.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Job:
    """One delivery of a job: its id, its data, how many times it was tried before."""

    id: str
    data: str
    attempt: int
    shard: int
    entry: str
    """The stream entry id (what settles it)."""


@dataclass(frozen=True, slots=True)
class Scripts:
    enqueue: AsyncScript
    promote: AsyncScript
    settle: AsyncScript

    @classmethod
    def register(cls, client: StoreClient) -> Scripts:
        return cls(*(client.register_script(lua.source(name))
                     for name in ("jobs_enqueue", "jobs_promote", "jobs_settle")))  # fmt: skip


class JobQueue:
    """The queue ``name``: ``shards`` streams (with due sets and dead letters), one tag each."""

    def __init__(
        self,
        client: StoreClient,
        name: str,
        shards: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if shards < 1:
            raise ValueError("a queue needs at least one shard")
        self.client = client
        self.name = name
        self.shards = shards
        self.clock = clock
        self.scripts = Scripts.register(client)

    def shard_of(self, job_id: str) -> int:
        return keys.jobs_shard(job_id, self.shards)

    def stream(self, shard: int) -> str:
        return keys.jobs_queue(self.name, shard)

    def due_set(self, shard: int) -> str:
        return keys.jobs_due(self.name, shard)

    def dead(self, shard: int) -> str:
        return keys.jobs_dead(self.name, shard)

    async def enqueue(self, job_id: str, data: str = "", at: float | None = None) -> None:
        """Put a job on the queue (``at``: not before this time). ``id`` and ``data`` must not
        contain a newline."""
        if "\n" in job_id or "\n" in data:
            raise ValueError("a job's id and data are one line each")
        shard = self.shard_of(job_id)
        now = self.clock()
        await self.scripts.enqueue(
            keys=[self.due_set(shard), self.stream(shard)],
            args=[job_id, 0, data, int((at or now) * 1000), int(now * 1000)],
        )

    async def depth(self) -> tuple[int, int]:
        """(jobs ready or in flight, jobs waiting for their time), over every shard."""
        ready = waiting = 0
        for shard in range(self.shards):
            ready += int(await self.client.xlen(self.stream(shard)))
            waiting += int(await self.client.zcard(self.due_set(shard)))
        return ready, waiting

    async def dead_letters(self) -> list[dict[str, str]]:
        """Every dead-lettered job (id, attempt, data, reason, at), oldest first per shard."""
        found = []
        for shard in range(self.shards):
            entries: Any = await self.client.xrange(self.dead(shard))
            for _eid, fields in entries:
                found.append({k.decode(): v.decode() for k, v in fields.items()})
        return found
