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
from gateway.sms.scripts import NEEDS_HOUR, Scripts, group_of, report_hour
from gateway.store import keys
from gateway.store.batch import Call, run_all
from gateway.store.client import ClusterStore, StoreClient

log = logs.get_logger("gateway.sms")
MAX_BACKOFF_S = 900.0
READ_BLOCK_MS = 200
READ_MAX = 1000
"""Most entries one read takes (the messages of at most this many batches wait for a call)."""
CLUSTER_POLL_S = 0.05
"""On a Cluster (no blocking read over several slots), the pause after a read found nothing."""


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
    shards: int = keys.SMS_SHARDS
    """Hash tags the outbox is spread over (``JUMBE_SMS_SHARDS``); the worker also drains the
    one ``{sms}`` slot of the layout before sharding."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry: its shard, its id and the message it names (``""`` once deleted)."""

    shard: int | None
    entry_id: str
    message_id: str
    group: str = ""
    """``group_of`` the message's text and sender id, when the entry says it."""


@dataclass(slots=True)
class Batch:
    """Entries whose messages share a text and a sender id (as read; checked again once
    claimed): one SDK call (more if a number is in it twice)."""

    entries: list[Entry] = field(default_factory=list)


def default_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker(StreamConsumer[Batch]):
    """One outbox consumer; ``run()`` until stopped, or ``run_once()`` to drain what is due (the
    loop is ``gateway.jobs.consumer.StreamConsumer``'s, shared with every job queue)."""

    event = "sms"
    block_ms = READ_BLOCK_MS
    promote_every = 0.1  # a due message waits at most this long more; a turn costs a script a shard

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
        self._shards = keys.sms_shards(self.config.shards)
        self._queues = [keys.sms_queue(shard) for shard in self._shards]
        self._held: dict[tuple[int | None, str], float] = {}
        """(shard, entry id) of the entries this worker holds (read, not yet settled) → when it
        last touched them."""

    def started_fields(self) -> dict[str, Any]:
        return {"concurrency": self.config.concurrency, "batch_size": self._batch_size}

    async def ensure_group(self) -> None:
        """Create each shard's consumer group (from the stream's start) unless it exists."""
        for queue in self._queues:
            await streams.ensure_group(self._redis, queue, keys.SMS_GROUP)

    async def promote(self, limit: int = 500) -> int:
        """Move messages whose due time has come onto their shard's stream (one round trip)."""
        now_ms = int(self._clock() * 1000)
        moved = await run_all(self._redis, [
            (self._scripts.promote, [keys.sms_due(shard), keys.sms_queue(shard)], [now_ms, limit])
            for shard in self._shards
        ])  # fmt: skip
        return sum(int(n) for n in moved)

    def stopped(self) -> None:
        self._executor.shutdown(wait=False)

    def close(self) -> None:
        self._executor.shutdown(wait=False)

    async def read(self, start: str, count: int, block: int | None = None) -> list[Batch]:
        """Up to ``count`` batches' worth of new entries, in batches; of its own pending ones
        (``start`` "0", after a restart), up to ``count`` a shard."""
        per_shard = -(-min(count * self._batch_size, READ_MAX) // len(self._shards))
        wanted = count if start == "0" else per_shard
        found = await streams.read_many(self._redis, keys.SMS_GROUP, self.name, self._queues,
                                        start, wanted, block)  # fmt: skip
        if not found and block and isinstance(self._redis, ClusterStore):
            await asyncio.sleep(CLUSTER_POLL_S)  # a Cluster read cannot block on every shard
        return await self._batches(_entry(self._shards[i], eid, f) for i, eid, f in found)

    async def reclaim(self) -> list[Batch]:
        """Touch the entries this worker holds, then take over those idle too long."""
        await self._touch_held()
        idle_ms = int(self.config.claim_idle * 1000)
        entries: list[Entry] = []
        for shard, queue in zip(self._shards, self._queues, strict=True):
            claimed = await streams.take_over(self._redis, queue, keys.SMS_GROUP, self.name,
                                              idle_ms)  # fmt: skip
            entries.extend(_entry(shard, eid, fields) for eid, fields in claimed)
        self.reclaimed(len(entries))
        return await self._batches(entries)

    async def _touch_held(self) -> None:
        """Reset the idle time of entries held longer than a third of ``claim_idle`` (waiting
        for a call): taking them over is for the entries of a dead worker."""
        now = asyncio.get_running_loop().time()
        stale = [held for held, since in self._held.items()
                 if now - since > self.config.claim_idle / 3]  # fmt: skip
        for shard, queue in zip(self._shards, self._queues, strict=True):
            ids: list[Any] = [eid for of, eid in stale if of == shard]
            if ids:
                await self._redis.xclaim(queue, keys.SMS_GROUP, self.name, 0, ids, justid=True)
        self._held.update(dict.fromkeys(stale, now))

    async def _batches(self, entries: Iterable[Entry]) -> list[Batch]:
        """Group entries by their message's text and sender id, leaving out those this worker
        already holds. Entries written by ``send()`` name their group; the others (promoted
        from the due set, or from before) are looked up (one pipelined read)."""
        fresh = [e for e in entries if (e.shard, e.entry_id) not in self._held]
        unnamed = [e for e in fresh if not e.group]
        pipe = self._redis.pipeline(transaction=False)
        for entry in unnamed:
            pipe.hmget(keys.sms_message(entry.message_id or "-"), "text", "sender")
        rows: list[Any] = await pipe.execute() if unnamed else []
        now = asyncio.get_running_loop().time()  # held from here: each is spawned
        self._held.update(((e.shard, e.entry_id), now) for e in fresh)
        named = {e.entry_id: group_of(text.decode(), (sender or b"").decode())
                 for e, (text, sender) in zip(unnamed, rows, strict=True)
                 if text is not None}  # fmt: skip
        open_batches: dict[str, Batch] = {}
        batches: list[Batch] = []
        for entry in fresh:
            group = entry.group or named.get(entry.entry_id)
            if group is None:  # gone: its claim acknowledges it
                batches.append(Batch([entry]))
                continue
            batch = open_batches.get(group)
            if batch is None or len(batch.entries) >= self._batch_size:
                batch = open_batches[group] = Batch()
                batches.append(batch)
            batch.entries.append(entry)
        return batches

    async def forget_dead_consumers(self) -> list[str]:
        """Remove consumers that hold nothing and have been silent ``dead_consumer_idle``."""
        removed = []
        for queue in self._queues:
            removed += await streams.forget_dead_consumers(
                self._redis, queue, keys.SMS_GROUP, self.name,
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
                self._held.pop((entry.shard, entry.entry_id), None)

    async def _deliver(self, entries: list[Entry]) -> None:
        """Claim the batch's messages, check each, send the rest in one call, record each."""
        for gone in (e for e in entries if not e.message_id):  # deleted under us: settled
            await self._redis.xack(keys.sms_queue(gone.shard), keys.SMS_GROUP, gone.entry_id)
        entries = [e for e in entries if e.message_id]
        now = f"{self._clock():.3f}"
        raws = await run_all(self._redis, [
            (self._scripts.claim, [keys.sms_message(e.message_id), keys.sms_queue(e.shard)],
             [e.entry_id, keys.SMS_GROUP, now]) for e in entries
        ])  # fmt: skip
        claimed = [(entry, _record(raw))
                   for entry, raw in zip(entries, raws, strict=True) if raw]  # fmt: skip
        checks = await asyncio.gather(*(self._may_send(e, record) for e, record in claimed))
        ready = [pair for pair, ok in zip(claimed, checks, strict=True) if ok]
        for group in _same_text(ready):
            await self._send(group)

    async def _may_send(self, entry: Entry, record: dict[str, str]) -> bool:
        return record["category"] != "promotional" or await self._may_market(entry, record)

    async def _send(self, group: list[tuple[Entry, dict[str, str]]]) -> None:
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
            await asyncio.gather(*(self._failed(e, record, exc) for e, record in group))
            return
        sent = [(e, r, o) for (e, r), o in zip(group, outcomes, strict=True)
                if isinstance(o, Accepted)]  # fmt: skip
        await self._record_sent(sent)
        refused = [(e, r, o) for (e, r), o in zip(group, outcomes, strict=True)
                   if isinstance(o, SendError)]  # fmt: skip
        await asyncio.gather(*(self._failed(e, record, exc) for e, record, exc in refused))
        for _e, record, _accepted in sent:
            metrics.count_sms("sent")
            log.info("sms_sent", message_id=record["id"], subscriber=record["subscriber"],
                     attempt=int(record["attempts"]), segments=int(record["segments"]),
                     batch=len(group))  # fmt: skip

    async def _record_sent(self, sent: list[tuple[Entry, dict[str, str], Accepted]]) -> None:
        """Link each AT id to its message (one pipelined round trip, in the slots of AT's ids),
        then record each send with any report that beat it (one round trip, in the shards),
        counted in this hour's report counters; a message whose script names another hour
        (``NEEDS_HOUR``) is recorded again with that hour's.

        Link first, record second: a report before the link waits beside it and is read by
        the link, one after it is kept in the record until the record says ``sent``
        (``scripts.HELD``), and the record's script applies both. A crash between the two
        leaves the message ``sending`` and pending, so it is sent again (as any send in flight
        at a crash may be); its first AT id stays linked, so late reports still find it."""
        links = await run_all(self._redis, [
            self._link_call(record["id"], accepted) for _e, record, accepted in sent
        ])  # fmt: skip
        now = f"{self._clock():.3f}"
        hour = report_hour(now)
        replies = await run_all(self._redis, [
            self._record_sent_call(entry, record["id"], accepted, link, now, hour)
            for (entry, record, accepted), link in zip(sent, links, strict=True)
        ])  # fmt: skip
        for (entry, record, accepted), link, reply in zip(sent, links, replies, strict=True):
            if int(reply[0]) == NEEDS_HOUR:
                script, script_keys, args = self._record_sent_call(
                    entry, record["id"], accepted, link, now, int(reply[1]))  # fmt: skip
                reply = await script(keys=script_keys, args=args)  # noqa: PLW2901
            applied = reply[2:]
            if applied and applied[0]:  # a delivery report that beat the send here
                metrics.count_sms(applied[0].decode())
        stashes = [keys.sms_dlr_stash(accepted.provider_message_id)
                   for (_e, _r, accepted), link in zip(sent, links, strict=True)
                   if link[0]]  # fmt: skip
        if stashes:  # applied now; left alone, each would expire in a day
            pipe = self._redis.pipeline(transaction=False)
            for stash in stashes:
                pipe.delete(stash)
            await pipe.execute()

    def _link_call(self, message_id: str, accepted: Accepted) -> Call:
        at_id = accepted.provider_message_id
        return (self._scripts.link, [keys.sms_provider_id(at_id), keys.sms_dlr_stash(at_id)],
                [message_id, self.config.record_ttl])  # fmt: skip

    def _record_sent_call(
        self, entry: Entry, message_id: str, accepted: Accepted, link: list[bytes | None],
        now: str, hour: int,
    ) -> Call:  # fmt: skip
        early = [(value or b"").decode() for value in link]
        return (self._scripts.record_sent,
                [keys.sms_message(message_id), keys.sms_queue(entry.shard),
                 keys.sms_stats(hour, entry.shard)],
                [message_id, accepted.provider_message_id, accepted.cost, entry.entry_id,
                 keys.SMS_GROUP, self.config.record_ttl, now, hour, keys.SMS_STATS_TTL,
                 *early])  # fmt: skip

    async def _may_market(self, entry: Entry, record: dict[str, str]) -> bool:
        """Re-check consent and quiet hours at send time; refuse or defer if needed."""
        message_id, now = record["id"], self._clock()
        refusal = await self._ledger.refusal(record["subscriber"], record["purpose"])  # type: ignore[arg-type]
        if refusal is not None:
            await self._finish(entry, message_id, "refused", refusal, dead=False)
            log.info("sms_refused", message_id=message_id, subscriber=record["subscriber"],
                     reason=refusal)  # fmt: skip
            return False
        opens = quiet.next_allowed(country_of(record["to"]), now)
        if opens > now:
            await self._requeue(entry, message_id, opens, "scheduled", "quiet hours", undo=True)
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

    async def _failed(self, entry: Entry, record: dict[str, str], exc: SendError) -> None:
        message_id, attempts = record["id"], int(record["attempts"])
        if exc.opted_out:
            await self._ledger.record(record["subscriber"], PURPOSES, "revoked",
                                      source=f"at_status_{exc.status_code}", channel="sms",
                                      country=record["country"], msisdn=record["to"])  # fmt: skip
        if not exc.retryable:
            await self._finish(entry, message_id, "failed", exc.reason, dead=False)
        elif attempts >= self.config.max_attempts:
            reason = f"gave up after {attempts} tries: {exc.reason}"
            await self._finish(entry, message_id, "dead", reason, dead=True)
        else:
            backoff = min(self.config.retry_base * 2 ** (attempts - 1), MAX_BACKOFF_S)
            due = self._clock() + backoff * random.uniform(0.8, 1.0)
            await self._requeue(entry, message_id, due, "retrying", exc.reason, undo=False)
        log.warning("sms_send_failed", message_id=message_id, subscriber=record["subscriber"],
                    attempt=attempts, retryable=exc.retryable, reason=exc.reason)  # fmt: skip

    async def _requeue(
        self, entry: Entry, message_id: str, due: float, status: str, reason: str, *, undo: bool
    ) -> None:
        metrics.count_sms(status)
        await self._scripts.requeue(
            keys=[keys.sms_message(message_id), keys.sms_due(entry.shard),
                  keys.sms_queue(entry.shard)],
            args=[message_id, int(due * 1000), status, reason, entry.entry_id, keys.SMS_GROUP,
                  f"{self._clock():.3f}", "1" if undo else "0"],
        )  # fmt: skip

    async def _finish(
        self, entry: Entry, message_id: str, status: str, reason: str, *, dead: bool
    ) -> None:
        now = f"{self._clock():.3f}"
        metrics.count_sms(status)
        shard = entry.shard
        await self._scripts.finish(
            keys=[keys.sms_message(message_id), keys.sms_queue(shard), keys.sms_dead(shard),
                  keys.sms_stats(report_hour(now), shard)],
            args=[message_id, status, reason, entry.entry_id, keys.SMS_GROUP,
                  self.config.record_ttl,
                  now, "1" if dead else "0", keys.SMS_DEAD_MAXLEN, keys.SMS_STATS_TTL],
        )  # fmt: skip


def _entry(shard: int | None, entry_id: bytes, fields: dict[bytes, bytes] | None) -> Entry:
    """A stream entry of ``shard``; a deleted entry has no message id."""
    f = fields or {}
    return Entry(shard, entry_id.decode(), f.get(b"id", b"").decode(), f.get(b"g", b"").decode())


def _record(raw: list[bytes]) -> dict[str, str]:
    return {raw[i].decode(): raw[i + 1].decode() for i in range(0, len(raw), 2)}


def _same_text(
    claimed: list[tuple[Entry, dict[str, str]]],
) -> list[list[tuple[Entry, dict[str, str]]]]:
    """Claimed messages by text and sender id, in order (normally one group: a batch was
    read that way), each group to distinct numbers (AT's answer is matched by number)."""
    groups: list[tuple[tuple[str, str], set[str], list[tuple[Entry, dict[str, str]]]]] = []
    for entry, record in claimed:
        key = (record["text"], record["sender"])
        into = next((g for g in groups if g[0] == key and record["to"] not in g[1]), None)
        if into is None:
            into = (key, set(), [])
            groups.append(into)
        into[1].add(record["to"])
        into[2].append((entry, record))
    return [members for _key, _numbers, members in groups]


async def stop_quietly(task: asyncio.Task[None], stop: asyncio.Event, grace: float) -> None:
    """Ask a ``run()`` task to stop; cancel it if it has not within ``grace`` seconds."""
    stop.set()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, grace)
