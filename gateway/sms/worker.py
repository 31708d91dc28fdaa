"""The outbox worker: claim ready messages, send them through AT, record the outcome.

Claim/ack over a Redis Stream consumer group. A message id stays in this worker's pending list
from XREADGROUP until the Lua script recording its outcome acknowledges it, so a crash leaves it
pending: a restart under the same name re-reads its own pending list at once, and any other
worker takes it over (XAUTOCLAIM) once it has been idle ``claim_idle`` seconds (the loop is
``gateway.jobs.consumer.StreamConsumer``'s). The record's
status says how far it got: ``sent`` or beyond is never sent again, so only a message whose send
was in flight at the crash (status ``sending``) can reach AT twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from gateway import logs, metrics
from gateway.channels.base import Accepted
from gateway.consent import PURPOSES
from gateway.consent.ledger import ConsentLedger
from gateway.errors import SendError, StoreError
from gateway.jobs import streams
from gateway.jobs.consumer import StreamConsumer
from gateway.sms import quiet
from gateway.sms.countries import country_of
from gateway.sms.scripts import NEEDS_HOUR, Scripts, report_hour
from gateway.store import keys
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.sms")
MAX_BACKOFF_S = 900.0
READ_BLOCK_MS = 200


class Sender(Protocol):
    """Sends one SMS, blocking; raises ``SendError``."""

    def send(self, to: str, message: str, sender_id: str | None) -> Accepted: ...


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    concurrency: int = 8
    rate_per_sender: int = 50
    max_attempts: int = 5
    retry_base: float = 5.0
    claim_idle: float = 60.0
    record_ttl: int = keys.SMS_RECORD_TTL
    """Seconds a record is kept after its final status (``JUMBE_RETENTION_MESSAGES_DAYS``)."""
    dead_consumer_idle: float = 3600.0
    """A consumer with nothing pending and silent this long is a dead worker: removed from the
    group (live workers poll every few seconds; names carry the pid, so restarts leave them)."""


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker(StreamConsumer[tuple[str, str]]):
    """One outbox consumer; ``run()`` until stopped, or ``run_once()`` to drain what is due (the
    loop is ``gateway.jobs.consumer.StreamConsumer``'s, shared with every job queue)."""

    event = "sms"
    block_ms = READ_BLOCK_MS

    def __init__(
        self,
        client: StoreClient,
        sender: Sender,
        ledger: ConsentLedger,
        config: WorkerConfig | None = None,
        name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__()
        self._redis = client
        self._scripts = Scripts.register(client)
        self._sender = sender
        self._ledger = ledger
        self.config = config or WorkerConfig()
        self.name = name or default_name()
        self.concurrency = self.config.concurrency
        self.claim_idle = self.config.claim_idle
        self._clock = clock
        self._executor = ThreadPoolExecutor(self.config.concurrency, "sms-send")

    def started_fields(self) -> dict[str, Any]:
        return {"concurrency": self.config.concurrency}

    async def ensure_group(self) -> None:
        """Create the consumer group (from the stream's start) unless it exists."""
        await streams.ensure_group(self._redis, keys.sms_queue(), keys.SMS_GROUP)

    async def promote(self, limit: int = 500) -> int:
        """Move messages whose due time has come onto the stream."""
        moved: int = await self._scripts.promote(
            keys=[keys.sms_due(), keys.sms_queue()], args=[int(self._clock() * 1000), limit]
        )
        return moved

    def stopped(self) -> None:
        self._executor.shutdown(wait=False)

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    async def read(self, start: str, count: int, block: int | None = None) -> list[tuple[str, str]]:
        entries = await streams.read(self._redis, keys.SMS_GROUP, self.name, keys.sms_queue(),
                                     start, count, block)  # fmt: skip
        return [_entry(eid, fields) for eid, fields in entries]

    async def reclaim(self) -> list[tuple[str, str]]:
        idle_ms = int(self.config.claim_idle * 1000)
        claimed = await streams.take_over(self._redis, keys.sms_queue(), keys.SMS_GROUP,
                                          self.name, idle_ms)  # fmt: skip
        entries = [_entry(eid, fields) for eid, fields in claimed]
        self.reclaimed(len(entries))
        return entries

    async def forget_dead_consumers(self) -> list[str]:
        """Remove consumers that hold nothing and have been silent ``dead_consumer_idle``."""
        removed = await streams.forget_dead_consumers(
            self._redis, keys.sms_queue(), keys.SMS_GROUP, self.name,
            self.config.dead_consumer_idle * 1000,
        )  # fmt: skip
        if removed:
            log.info("sms_dead_consumers_removed", worker=self.name, consumers=removed)
        return removed

    async def process(self, entry: tuple[str, str]) -> None:
        entry_id, message_id = entry
        try:
            await self._deliver(entry_id, message_id)
        except StoreError as exc:  # left pending: reclaimed after claim_idle
            log.error("sms_store_error", message_id=message_id, error=str(exc))

    async def _deliver(self, entry_id: str, message_id: str) -> None:
        raw = await self._scripts.claim(
            keys=[keys.sms_message(message_id), keys.sms_queue()],
            args=[entry_id, keys.SMS_GROUP, f"{self._clock():.3f}"],
        )
        if not raw:
            return
        record = {raw[i].decode(): raw[i + 1].decode() for i in range(0, len(raw), 2)}
        if record["category"] == "promotional" and not await self._may_market(entry_id, record):
            return
        await self._rate_limit(record["sender"] or "default")
        loop = asyncio.get_running_loop()
        try:
            accepted = await loop.run_in_executor(
                self._executor, self._sender.send, record["to"], record["text"],
                record["sender"] or None,
            )  # fmt: skip
        except SendError as exc:
            await self._failed(entry_id, record, exc)
            return
        await self._record_sent(entry_id, message_id, accepted)
        metrics.count_sms("sent")
        log.info("sms_sent", message_id=message_id, subscriber=record["subscriber"],
                 attempt=int(record["attempts"]), segments=int(record["segments"]))  # fmt: skip

    async def _record_sent(self, entry_id: str, message_id: str, accepted: Accepted) -> None:
        """Record the send (and any report that beat it here), counted in this hour's report
        counters; run again with another hour's if the script names one (``NEEDS_HOUR``)."""
        now = f"{self._clock():.3f}"
        hour = report_hour(now)
        for _ in range(2):
            code, needed, *applied = await self._scripts.record_sent(
                keys=[keys.sms_message(message_id),
                      keys.sms_provider_id(accepted.provider_message_id),
                      keys.sms_dlr_stash(accepted.provider_message_id), keys.sms_queue(),
                      keys.sms_stats(hour)],
                args=[message_id, accepted.provider_message_id, accepted.cost, entry_id,
                      keys.SMS_GROUP, self.config.record_ttl, now, hour, keys.SMS_STATS_TTL],
            )  # fmt: skip
            if int(code) != NEEDS_HOUR:
                if applied and applied[0]:  # a delivery report that beat the send here
                    metrics.count_sms(applied[0].decode())
                return
            hour = int(needed)

    async def _may_market(self, entry_id: str, record: dict[str, str]) -> bool:
        """Re-check consent and quiet hours at send time; refuse or defer if needed."""
        message_id, now = record["id"], self._clock()
        refusal = await self._ledger.refusal(record["subscriber"], record["purpose"])  # type: ignore[arg-type]
        if refusal is not None:
            await self._finish(entry_id, message_id, "refused", refusal, dead=False)
            log.info("sms_refused", message_id=message_id, subscriber=record["subscriber"],
                     reason=refusal)  # fmt: skip
            return False
        opens = quiet.next_allowed(country_of(record["to"]), now)
        if opens > now:
            await self._requeue(entry_id, message_id, opens, "scheduled", "quiet hours", undo=True)
            return False
        return True

    async def _rate_limit(self, sender: str) -> None:
        limit = self.config.rate_per_sender
        if limit <= 0:
            return
        while True:  # the window lives in Redis, shared by every worker
            wait_ms = await self._scripts.rate(keys=[keys.sms_rate(sender)], args=[limit])
            if not wait_ms:
                return
            await asyncio.sleep(int(wait_ms) / 1000)

    async def _failed(self, entry_id: str, record: dict[str, str], exc: SendError) -> None:
        message_id, attempts = record["id"], int(record["attempts"])
        if exc.opted_out:
            await self._ledger.record(record["subscriber"], PURPOSES, "revoked",
                                      source=f"at_status_{exc.status_code}", channel="sms",
                                      country=record["country"], msisdn=record["to"])  # fmt: skip
        if not exc.retryable:
            await self._finish(entry_id, message_id, "failed", exc.reason, dead=False)
        elif attempts >= self.config.max_attempts:
            reason = f"gave up after {attempts} tries: {exc.reason}"
            await self._finish(entry_id, message_id, "dead", reason, dead=True)
        else:
            backoff = min(self.config.retry_base * 2 ** (attempts - 1), MAX_BACKOFF_S)
            due = self._clock() + backoff * random.uniform(0.8, 1.0)
            await self._requeue(entry_id, message_id, due, "retrying", exc.reason, undo=False)
        log.warning("sms_send_failed", message_id=message_id, subscriber=record["subscriber"],
                    attempt=attempts, retryable=exc.retryable, reason=exc.reason)  # fmt: skip

    async def _requeue(
        self, entry_id: str, message_id: str, due: float, status: str, reason: str, *, undo: bool
    ) -> None:
        metrics.count_sms(status)
        await self._scripts.requeue(
            keys=[keys.sms_message(message_id), keys.sms_due(), keys.sms_queue()],
            args=[message_id, int(due * 1000), status, reason, entry_id, keys.SMS_GROUP,
                  f"{self._clock():.3f}", "1" if undo else "0"],
        )  # fmt: skip

    async def _finish(
        self, entry_id: str, message_id: str, status: str, reason: str, *, dead: bool
    ) -> None:
        now = f"{self._clock():.3f}"
        metrics.count_sms(status)
        await self._scripts.finish(
            keys=[keys.sms_message(message_id), keys.sms_queue(), keys.sms_dead(),
                  keys.sms_stats(report_hour(now))],
            args=[message_id, status, reason, entry_id, keys.SMS_GROUP, self.config.record_ttl,
                  now, "1" if dead else "0", keys.SMS_DEAD_MAXLEN, keys.SMS_STATS_TTL],
        )  # fmt: skip


def _entry(entry_id: bytes, fields: dict[bytes, bytes] | None) -> tuple[str, str]:
    """(stream entry id, message id); a deleted entry has no message id."""
    return entry_id.decode(), (fields or {}).get(b"id", b"").decode()


async def stop_quietly(task: asyncio.Task[None], stop: asyncio.Event, grace: float) -> None:
    """Ask a ``run()`` task to stop; cancel it if it has not within ``grace`` seconds."""
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, grace)
