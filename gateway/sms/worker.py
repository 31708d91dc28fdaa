"""The outbox worker: claim ready messages, send them through AT, record the outcome.

Claim/ack over a Redis Stream consumer group. A message id stays in this worker's pending list
from XREADGROUP until the Lua script recording its outcome acknowledges it, so a crash leaves it
pending: a restart under the same name re-reads its own pending list at once, and any other
worker takes it over (XAUTOCLAIM) once it has been idle ``claim_idle`` seconds (the loop is
``gateway.jobs.consumer.StreamConsumer``'s; entries this worker still holds are touched, so
they never look idle while it lives). The record's status says how far it got: ``sent`` or
beyond is never sent again, so only a message whose send was in flight at the crash (status
``sending``) can reach AT twice.

**Batches.** Messages read together that share a text and a sender id (a campaign) go out in
one SDK call, up to ``batch_size`` recipients (AT's bulk API takes a comma-separated ``to``
and answers per recipient). Each message is claimed (status ``sending``) only when its call is
about to go, and keeps its own checks (consent, quiet hours), its own outcome (AT id, cost,
status, or its own refusal such as ``406 UserInBlacklist``) and its own retry backoff when
the whole call fails. At most ``concurrency`` calls are in flight, so at most ``concurrency ×
batch_size`` messages are ``sending`` at once (``concurrency`` when every text differs). The
Redis work of a batch is pipelined: one round trip to claim it, one to record it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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
from gateway.store.batch import Call, run_all
from gateway.store.client import StoreClient

log = logs.get_logger("gateway.sms")
MAX_BACKOFF_S = 900.0
READ_BLOCK_MS = 200
READ_MAX = 1000
"""Most entries one read takes (the messages of at most this many batches wait for a call)."""


class Sender(Protocol):
    """Sends one text to several numbers in one request, blocking: each number's outcome in
    order; raises ``SendError`` when the whole request failed."""

    def send_many(
        self, to: list[str], message: str, sender_id: str | None
    ) -> list[Accepted | SendError]: ...


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    concurrency: int = 8
    """SDK calls in flight (threads)."""
    rate_per_sender: int = 50
    max_attempts: int = 5
    retry_base: float = 5.0
    claim_idle: float = 60.0
    record_ttl: int = keys.SMS_RECORD_TTL
    """Seconds a record is kept after its final status (``JUMBE_RETENTION_MESSAGES_DAYS``)."""
    dead_consumer_idle: float = 3600.0
    """A consumer with nothing pending and silent this long is a dead worker: removed from the
    group (live workers poll every few seconds; names carry the pid, so restarts leave them)."""
    batch_size: int = 100
    """Recipients of one text in one SDK call (at most ``rate_per_sender`` when that is set)."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: its id and the message it names (``""`` once deleted)."""

    entry_id: str
    message_id: str


@dataclass(slots=True)
class Batch:
    """Entries whose messages share a text and a sender id (as read; checked again once
    claimed), to distinct numbers: one SDK call."""

    entries: list[Entry] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker(StreamConsumer[Batch]):
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
        self._calls = asyncio.Semaphore(self.config.concurrency)
        rate = self.config.rate_per_sender
        self._batch_size = max(1, min(self.config.batch_size, rate) if rate > 0
                               else self.config.batch_size)  # fmt: skip
        self._held: dict[str, float] = {}
        """Entry ids this worker holds (read, not yet settled) → when it last touched them."""

    def started_fields(self) -> dict[str, Any]:
        return {"concurrency": self.config.concurrency, "batch_size": self._batch_size}

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

    async def read(self, start: str, count: int, block: int | None = None) -> list[Batch]:
        """Up to ``count`` batches' worth of entries, in batches."""
        wanted = min(count * self._batch_size, READ_MAX)
        entries = await streams.read(self._redis, keys.SMS_GROUP, self.name, keys.sms_queue(),
                                     start, wanted, block)  # fmt: skip
        return await self._batches(_entry(eid, fields) for eid, fields in entries)

    async def reclaim(self) -> list[Batch]:
        """Touch the entries this worker holds, then take over those idle too long."""
        await self._touch_held()
        idle_ms = int(self.config.claim_idle * 1000)
        claimed = await streams.take_over(self._redis, keys.sms_queue(), keys.SMS_GROUP,
                                          self.name, idle_ms)  # fmt: skip
        entries = [_entry(eid, fields) for eid, fields in claimed]
        self.reclaimed(len(entries))
        return await self._batches(entries)

    async def _touch_held(self) -> None:
        """Reset the idle time of entries held longer than a third of ``claim_idle`` (waiting
        for a call): taking them over is for the entries of a dead worker."""
        now = asyncio.get_running_loop().time()
        stale: list[Any] = [eid for eid, since in self._held.items()
                 if now - since > self.config.claim_idle / 3]  # fmt: skip
        if stale:
            await self._redis.xclaim(keys.sms_queue(), keys.SMS_GROUP, self.name, 0, stale,
                                     justid=True)  # fmt: skip
            self._held.update(dict.fromkeys(stale, now))

    async def _batches(self, entries: Iterable[Entry]) -> list[Batch]:
        """Group entries by their message's text and sender id (one pipelined read), leaving
        out those this worker already holds; each batch to distinct numbers."""
        now = asyncio.get_running_loop().time()
        fresh = [e for e in entries if e.entry_id not in self._held]
        self._held.update((e.entry_id, now) for e in fresh)
        pipe = self._redis.pipeline(transaction=False)
        for entry in fresh:
            pipe.hmget(keys.sms_message(entry.message_id or "-"), "text", "sender", "to")
        rows: list[Any] = await pipe.execute() if fresh else []
        open_batches: dict[tuple[bytes, bytes], Batch] = {}
        batches: list[Batch] = []
        for entry, (text, sender, to) in zip(fresh, rows, strict=True):
            if text is None:  # gone: its claim acknowledges it
                batches.append(Batch([entry]))
                continue
            key = (text, sender or b"")
            batch = open_batches.get(key)
            if batch is None or to in batch.numbers or len(batch.entries) >= self._batch_size:
                batch = open_batches[key] = Batch()
                batches.append(batch)
            batch.entries.append(entry)
            batch.numbers.add(to)
        return batches

    async def forget_dead_consumers(self) -> list[str]:
        """Remove consumers that hold nothing and have been silent ``dead_consumer_idle``."""
        removed = await streams.forget_dead_consumers(
            self._redis, keys.sms_queue(), keys.SMS_GROUP, self.name,
            self.config.dead_consumer_idle * 1000,
        )  # fmt: skip
        if removed:
            log.info("sms_dead_consumers_removed", worker=self.name, consumers=removed)
        return removed

    async def process(self, batch: Batch) -> None:
        try:
            async with self._calls:
                await self._deliver(batch.entries)
        except StoreError as exc:  # left pending: reclaimed after claim_idle
            log.error("sms_store_error", messages=len(batch.entries), error=str(exc))
        finally:
            for entry in batch.entries:
                self._held.pop(entry.entry_id, None)

    async def _deliver(self, entries: list[Entry]) -> None:
        """Claim the batch's messages, check each, send the rest in one call, record each."""
        now = f"{self._clock():.3f}"
        raws = await run_all(self._redis, [
            (self._scripts.claim, [keys.sms_message(e.message_id), keys.sms_queue()],
             [e.entry_id, keys.SMS_GROUP, now]) for e in entries
        ])  # fmt: skip
        claimed = [(entry.entry_id, _record(raw))
                   for entry, raw in zip(entries, raws, strict=True) if raw]  # fmt: skip
        checks = await asyncio.gather(*(self._may_send(eid, record) for eid, record in claimed))
        ready = [pair for pair, ok in zip(claimed, checks, strict=True) if ok]
        for group in _same_text(ready):
            await self._send(group)

    async def _may_send(self, entry_id: str, record: dict[str, str]) -> bool:
        return record["category"] != "promotional" or await self._may_market(entry_id, record)

    async def _send(self, group: list[tuple[str, dict[str, str]]]) -> None:
        """One SDK call for messages of one text and sender to distinct numbers."""
        first = group[0][1]
        await self._rate_limit(first["sender"] or "default", len(group))
        loop = asyncio.get_running_loop()
        try:
            outcomes = await loop.run_in_executor(
                self._executor, self._sender.send_many, [r["to"] for _, r in group],
                first["text"], first["sender"] or None,
            )  # fmt: skip
        except SendError as exc:  # the whole call: each message by its own backoff
            await asyncio.gather(*(self._failed(eid, record, exc) for eid, record in group))
            return
        sent = [(eid, r, o) for (eid, r), o in zip(group, outcomes, strict=True)
                if isinstance(o, Accepted)]  # fmt: skip
        await self._record_sent(sent)
        refused = [(eid, r, o) for (eid, r), o in zip(group, outcomes, strict=True)
                   if isinstance(o, SendError)]  # fmt: skip
        await asyncio.gather(*(self._failed(eid, record, exc) for eid, record, exc in refused))
        for _eid, record, _accepted in sent:
            metrics.count_sms("sent")
            log.info("sms_sent", message_id=record["id"], subscriber=record["subscriber"],
                     attempt=int(record["attempts"]), segments=int(record["segments"]),
                     batch=len(group))  # fmt: skip

    async def _record_sent(self, sent: list[tuple[str, dict[str, str], Accepted]]) -> None:
        """Record each send (and any report that beat it here) in one pipelined round trip,
        counted in this hour's report counters; a message whose script names another hour
        (``NEEDS_HOUR``) is recorded again with that hour's."""
        now = f"{self._clock():.3f}"
        hour = report_hour(now)
        replies = await run_all(self._redis, [
            self._record_sent_call(eid, record["id"], accepted, now, hour)
            for eid, record, accepted in sent
        ])  # fmt: skip
        for (eid, record, accepted), reply in zip(sent, replies, strict=True):
            if int(reply[0]) == NEEDS_HOUR:
                script, script_keys, args = self._record_sent_call(eid, record["id"], accepted,
                                                                   now, int(reply[1]))  # fmt: skip
                reply = await script(keys=script_keys, args=args)  # noqa: PLW2901
            applied = reply[2:]
            if applied and applied[0]:  # a delivery report that beat the send here
                metrics.count_sms(applied[0].decode())

    def _record_sent_call(
        self, entry_id: str, message_id: str, accepted: Accepted, now: str, hour: int
    ) -> Call:
        return (self._scripts.record_sent,
                [keys.sms_message(message_id), keys.sms_provider_id(accepted.provider_message_id),
                 keys.sms_dlr_stash(accepted.provider_message_id), keys.sms_queue(),
                 keys.sms_stats(hour)],
                [message_id, accepted.provider_message_id, accepted.cost, entry_id, keys.SMS_GROUP,
                 self.config.record_ttl, now, hour, keys.SMS_STATS_TTL])  # fmt: skip

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

    async def _rate_limit(self, sender: str, messages: int) -> None:
        limit = self.config.rate_per_sender
        if limit <= 0:
            return
        while True:  # the window lives in Redis, shared by every worker
            wait_ms = await self._scripts.rate(keys=[keys.sms_rate(sender)],
                                               args=[limit, messages])  # fmt: skip
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


def _entry(entry_id: bytes, fields: dict[bytes, bytes] | None) -> Entry:
    """A stream entry; a deleted entry has no message id."""
    return Entry(entry_id.decode(), (fields or {}).get(b"id", b"").decode())


def _record(raw: list[bytes]) -> dict[str, str]:
    return {raw[i].decode(): raw[i + 1].decode() for i in range(0, len(raw), 2)}


def _same_text(
    claimed: list[tuple[str, dict[str, str]]],
) -> list[list[tuple[str, dict[str, str]]]]:
    """Claimed messages by text and sender id, in order (normally one group: a batch was
    read that way)."""
    groups: dict[tuple[str, str], list[tuple[str, dict[str, str]]]] = {}
    for entry_id, record in claimed:
        groups.setdefault((record["text"], record["sender"]), []).append((entry_id, record))
    return list(groups.values())


async def stop_quietly(task: asyncio.Task[None], stop: asyncio.Event, grace: float) -> None:
    """Ask a ``run()`` task to stop; cancel it if it has not within ``grace`` seconds."""
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, grace)
