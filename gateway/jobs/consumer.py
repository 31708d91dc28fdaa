"""``StreamConsumer``: the loop every worker on a Redis stream consumer group runs — the SMS
outbox worker (``gateway.sms.worker``) and ``JobWorker`` (``gateway.jobs.worker``).

A subclass says how to read, take over, promote and process its entries; the loop gives both
the same guarantees: on start, the consumer's own pending entries first (a restart under the
same name resumes its claims); then, until stopped, due entries promoted, entries idle longer
than ``claim_idle`` taken over (XAUTOCLAIM) every few seconds, dead consumers forgotten, new
entries read as slots free up; a Redis error pauses a second, a vanished consumer group is
recreated at once; on stop, entries in flight finish first (bounded).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, Generic, TypeVar

from gateway import logs
from gateway.errors import StoreError, StoreReplyError

log = logs.get_logger("gateway.jobs")
E = TypeVar("E")
STOP_GRACE_S = 15.0


class StreamConsumer(Generic[E]):
    """The consumer loop; subclasses implement the hooks below."""

    name: str
    event: str
    """Log events are ``<event>_worker_started``, ``<event>_reclaimed``, …"""
    concurrency: int
    claim_idle: float
    block_ms: int | None = None
    """Block on one read for this long; ``None``: poll every ``poll`` seconds when idle."""
    poll: float = 0.2
    promote_every: float = 0.0
    """While running, promote due entries at most this often (seconds; 0: every turn)."""

    def __init__(self) -> None:
        self._inflight: set[asyncio.Task[None]] = set()
        self._last_promote = self._last_reclaim = float("-inf")

    # --- hooks -----------------------------------------------------------------------------

    async def ensure_group(self) -> None:
        raise NotImplementedError

    async def promote(self) -> int:
        """Move entries whose time has come onto the stream(s)."""
        return 0

    async def read(self, start: str, count: int, block: int | None = None) -> list[E]:
        raise NotImplementedError

    async def reclaim(self) -> list[E]:
        raise NotImplementedError

    async def forget_dead_consumers(self) -> Any:
        raise NotImplementedError

    async def process(self, entry: E) -> None:
        """Handle one entry (a ``StoreError`` leaves it pending, to be taken over)."""
        raise NotImplementedError

    def stopped(self) -> None:
        """Called once ``run`` has finished (free threads and the like)."""

    def started_fields(self) -> dict[str, Any]:
        return {}

    # --- the loop --------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set; entries in flight finish first."""
        log.info(f"{self.event}_worker_started", worker=self.name, **self.started_fields())
        try:
            while not stop.is_set():  # Redis may be away at start-up too: keep trying
                try:
                    await self.ensure_group()
                    for entry in await self.read("0", 10_000):
                        self._spawn(entry)
                    break
                except StoreError as exc:
                    await self._recover(exc)
            while not stop.is_set():
                try:
                    await self._upkeep()
                    free = self.concurrency - len(self._inflight)
                    if free <= 0:
                        await asyncio.wait(self._inflight, timeout=0.5,
                                           return_when=asyncio.FIRST_COMPLETED)  # fmt: skip
                        continue
                    entries = await self.read(">", free, block=self.block_ms)
                    for entry in entries:
                        self._spawn(entry)
                    if not entries and self.block_ms is None:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(stop.wait(), self.poll)
                except StoreError as exc:
                    await self._recover(exc)
        finally:
            if self._inflight:
                await asyncio.wait(self._inflight, timeout=STOP_GRACE_S)
            self.stopped()
            log.info(f"{self.event}_worker_stopped", worker=self.name)

    async def _upkeep(self) -> None:
        """Once a turn: promote due entries (at most every ``promote_every`` s); every few
        seconds, take over idle entries and forget dead consumers."""
        now = asyncio.get_running_loop().time()
        if now - self._last_promote >= self.promote_every:
            self._last_promote = now
            await self.promote()
        if now - self._last_reclaim > min(self.claim_idle / 2, 5.0):
            self._last_reclaim = now
            for entry in await self.reclaim():
                self._spawn(entry)
            await self.forget_dead_consumers()

    async def run_once(self) -> int:
        """Promote what is due, then process everything ready (own pending first); the count."""
        await self.ensure_group()
        await self.promote()
        done = 0
        for start in ("0", ">"):
            while entries := await self.read(start, self.concurrency):
                for entry in entries:
                    self._spawn(entry)
                await asyncio.gather(*self._inflight)
                done += len(entries)
                if start == "0":
                    break
        return done

    async def _recover(self, exc: Exception) -> None:
        """After a Redis error in the loop: recreate a vanished consumer group at once (Redis
        lost its data: restart without persistence, FLUSHALL), else pause a second."""
        if isinstance(exc, StoreReplyError) and "NOGROUP" in str(exc):
            log.error(f"{self.event}_consumer_group_recreated", worker=self.name, error=str(exc))
            with contextlib.suppress(StoreError):
                await self.ensure_group()
                return
        log.error(f"{self.event}_worker_redis_error", worker=self.name, error=str(exc))
        await asyncio.sleep(1.0)

    def _spawn(self, entry: E) -> None:
        task = asyncio.create_task(self.process(entry))
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def reclaimed(self, count: int) -> None:
        if count:
            log.warning(f"{self.event}_reclaimed", worker=self.name, count=count)
