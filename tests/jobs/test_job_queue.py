"""The durable job queue: spread over shards, retried with backoff, dead-lettered, and taken
over from a worker that died holding a job."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from gateway.jobs.queue import Job, JobQueue
from gateway.jobs.worker import Done, JobWorker, Outcome, Retry, WorkerConfig


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_jobs_spread_over_shards_and_each_runs_once(aredis: Any) -> None:
    """40 jobs land in all 4 shards; one drain runs each exactly once and leaves nothing."""
    queue = JobQueue(aredis, "t", shards=4)
    seen: Counter[str] = Counter()

    async def handler(job: Job) -> Outcome:
        seen[job.id] += 1
        return Done()

    for i in range(40):
        await queue.enqueue(f"job-{i}", f"data {i}")
    assert len({queue.shard_of(f"job-{i}") for i in range(40)}) == 4
    assert await JobWorker(queue, handler, name="w").run_once() == 40
    assert seen == Counter({f"job-{i}": 1 for i in range(40)})
    assert await queue.depth() == (0, 0)


async def test_a_retry_waits_its_delay_then_dead_letters_after_the_last_try(aredis: Any) -> None:
    """Retry(delay) keeps the job aside until its time; after max_attempts it is dead with the
    reason, and the attempt number grows by one per try."""
    clock = Clock()
    queue = JobQueue(aredis, "t", shards=2, clock=clock)
    attempts: list[int] = []

    async def handler(job: Job) -> Outcome:
        attempts.append(job.attempt)
        return Retry("AT is down", delay=30)

    worker = JobWorker(queue, handler, WorkerConfig(max_attempts=3), name="w")
    await queue.enqueue("j1", "x")
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0  # not due yet
    assert await queue.depth() == (0, 1)
    for _ in range(2):
        clock.now += 31
        assert await worker.run_once() == 1
    assert attempts == [0, 1, 2]
    dead = await queue.dead_letters()
    assert [(d["id"], d["data"], d["attempt"]) for d in dead] == [("j1", "x", "3")]
    assert "gave up after 3 tries: AT is down" in dead[0]["reason"]


async def test_a_job_held_by_a_dead_worker_is_taken_over(aredis: Any) -> None:
    """A job read but never settled (its worker died) is reclaimed by another after claim_idle;
    a restarted worker of the same name re-reads its own pending jobs at once."""
    queue = JobQueue(aredis, "t", shards=2)
    await queue.enqueue("j1", "x")
    dying = JobWorker(queue, lambda job: _never(), name="dying")
    await dying.ensure_group()
    read = await dying.read(">", 10)
    assert [j.id for j in read] == ["j1"]
    done: list[str] = []

    async def handler(job: Job) -> Outcome:
        done.append(job.id)
        return Done()

    other = JobWorker(queue, handler, WorkerConfig(claim_idle=0.05), name="other")
    await asyncio.sleep(0.1)
    for job in await other.reclaim():
        await other.process(job)
    assert done == ["j1"]
    assert await queue.depth() == (0, 0)


async def _never() -> Outcome:
    raise AssertionError("the dying worker never runs a job")


async def test_a_handler_bug_is_retried_not_lost(aredis: Any) -> None:
    """An exception in the handler becomes a retry (then a dead letter), never a lost job."""
    clock = Clock()
    queue = JobQueue(aredis, "t", shards=1, clock=clock)

    async def handler(job: Job) -> Outcome:
        raise RuntimeError("bug")

    worker = JobWorker(queue, handler, WorkerConfig(max_attempts=1), name="w")
    await queue.enqueue("j1")
    await worker.run_once()
    assert [d["id"] for d in await queue.dead_letters()] == ["j1"]
