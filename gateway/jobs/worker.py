"""``JobWorker``: claim jobs from every shard of a queue, run the handler, settle the outcome.

The loop is ``gateway.jobs.consumer.StreamConsumer``'s, the same as the SMS outbox worker's:
own pending entries first after a restart, XAUTOCLAIM of entries idle longer than
``claim_idle``, removal of dead consumers, a vanished consumer group recreated. A Cluster
cannot block on streams of several slots at once, so the worker polls the shards in turn and
sleeps ``poll`` seconds when all are empty.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from gateway import logs
from gateway.errors import StoreError
from gateway.jobs import streams
from gateway.jobs.consumer import StreamConsumer
from gateway.jobs.queue import Job, JobQueue
from gateway.store import keys

log = logs.get_logger("gateway.jobs")
MAX_BACKOFF_S = 900.0


@dataclass(frozen=True, slots=True)
class Done:
    """The job is finished: acknowledge it."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again after ``delay`` seconds (dead-lettered after ``max_attempts``)."""

    reason: str
    delay: float | None = None
    """``None``: the worker's exponential backoff."""


@dataclass(frozen=True, slots=True)
class Dead:
    """Give up: the job goes to the dead letters with ``reason``."""

    reason: str


Outcome = Done | Retry | Dead
Handler = Callable[[Job], Awaitable[Outcome]]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    concurrency: int = 8
    max_attempts: int = 8
    retry_base: float = 5.0
    claim_idle: float = 60.0
    poll: float = 0.2
    dead_consumer_idle: float = 3600.0


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class JobWorker(StreamConsumer[Job]):
    """One consumer of a queue; ``run(stop)`` until stopped, or ``run_once()`` to drain."""

    def __init__(
        self,
        queue: JobQueue,
        handler: Handler,
        config: WorkerConfig | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__()
        self.queue = queue
        self.handler = handler
        self.config = config or WorkerConfig()
        self.name = name or default_name()
        self.event = queue.name
        self.concurrency = self.config.concurrency
        self.claim_idle = self.config.claim_idle
        self.poll = self.config.poll
        self._redis = queue.client

    async def ensure_group(self) -> None:
        for shard in range(self.queue.shards):
            await streams.ensure_group(self._redis, self.queue.stream(shard), keys.JOBS_GROUP)

    async def promote(self, limit: int = 500) -> int:
        now_ms = int(self.queue.clock() * 1000)
        moved = 0
        for shard in range(self.queue.shards):
            moved += int(await self.queue.scripts.promote(
                keys=[self.queue.due_set(shard), self.queue.stream(shard)], args=[now_ms, limit]
            ))  # fmt: skip
        return moved

    async def read(self, start: str, count: int, block: int | None = None) -> list[Job]:
        """Up to ``count`` jobs over every shard (a Cluster cannot block on several slots:
        ``block`` is ignored and the loop polls)."""
        jobs: list[Job] = []
        shards = list(range(self.queue.shards))
        random.shuffle(shards)  # no shard starves the others when the worker is full
        for shard in shards:
            if len(jobs) >= count:
                break
            stream = self.queue.stream(shard)
            entries = await streams.read(self._redis, keys.JOBS_GROUP, self.name, stream, start,
                                         count - len(jobs))  # fmt: skip
            jobs.extend(_job(shard, eid, fields) for eid, fields in entries)
        return jobs

    async def reclaim(self) -> list[Job]:
        """Take over jobs other consumers left pending longer than ``claim_idle``."""
        idle_ms = int(self.config.claim_idle * 1000)
        jobs: list[Job] = []
        for shard in range(self.queue.shards):
            claimed = await streams.take_over(self._redis, self.queue.stream(shard),
                                              keys.JOBS_GROUP, self.name, idle_ms)  # fmt: skip
            jobs.extend(_job(shard, eid, fields) for eid, fields in claimed)
        self.reclaimed(len(jobs))
        return jobs

    async def forget_dead_consumers(self) -> None:
        for shard in range(self.queue.shards):
            await streams.forget_dead_consumers(self._redis, self.queue.stream(shard),
                                                keys.JOBS_GROUP, self.name,
                                                self.config.dead_consumer_idle * 1000)  # fmt: skip

    async def process(self, job: Job) -> None:
        if not job.id:  # an entry deleted under us (settled by another worker)
            with contextlib.suppress(StoreError):
                await self._settle(job, Done())
            return
        try:
            outcome = await self.handler(job)
        except StoreError as exc:  # left pending: reclaimed after claim_idle
            log.error(f"{self.event}_store_error", job=job.id, error=str(exc))
            return
        except Exception as exc:  # a bug in the handler: retried, then dead-lettered
            log.exception(f"{self.event}_handler_crashed", job=job.id)
            outcome = Retry(f"{type(exc).__name__} in the handler")
        try:
            await self._settle(job, outcome)
        except StoreError as exc:
            log.error(f"{self.event}_store_error", job=job.id, error=str(exc))

    async def _settle(self, job: Job, outcome: Outcome) -> None:
        attempt = job.attempt + 1
        if isinstance(outcome, Retry) and attempt >= self.config.max_attempts:
            outcome = Dead(f"gave up after {attempt} tries: {outcome.reason}")
        now = self.queue.clock()
        extra: list[Any] = ["", now, keys.JOBS_DEAD_MAXLEN]
        if isinstance(outcome, Retry):
            delay = outcome.delay
            if delay is None:
                delay = min(self.config.retry_base * 2 ** (attempt - 1), MAX_BACKOFF_S)
                delay *= random.uniform(0.8, 1.0)
            extra[0] = int((now + delay) * 1000)
        elif isinstance(outcome, Dead):
            extra[0] = outcome.reason
            log.error(f"{self.event}_dead_letter", job=job.id, reason=outcome.reason)
        word = {Done: "done", Retry: "retry", Dead: "dead"}[type(outcome)]
        await self.queue.scripts.settle(
            keys=[self.queue.stream(job.shard), self.queue.due_set(job.shard),
                  self.queue.dead(job.shard)],
            args=[keys.JOBS_GROUP, job.entry, word, job.id, attempt, job.data, *extra],
        )  # fmt: skip


def _job(shard: int, entry: bytes, fields: dict[bytes, bytes] | None) -> Job:
    f = fields or {}
    return Job(f.get(b"id", b"").decode(), f.get(b"data", b"").decode(),
               int(f.get(b"attempt", b"0") or 0), shard, entry.decode())  # fmt: skip
