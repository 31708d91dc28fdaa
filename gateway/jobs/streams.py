"""Consumer-group plumbing shared by every worker on a Redis stream (the SMS outbox worker and
``JobWorker``): create the group, read, take over idle entries, forget dead consumers."""

from __future__ import annotations

from typing import Any

from gateway.errors import StoreReplyError
from gateway.store.client import ClusterStore, StoreClient

Entry = tuple[bytes, dict[bytes, bytes] | None]
"""A stream entry as redis-py returns it (fields ``None`` once deleted)."""


async def ensure_group(client: StoreClient, stream: str, group: str) -> None:
    """Create the consumer group (from the stream's start, creating the stream) unless it
    exists."""
    try:
        await client.xgroup_create(stream, group, "0", mkstream=True)
    except StoreReplyError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def read(
    client: StoreClient,
    group: str,
    consumer: str,
    stream: str,
    start: str,
    count: int,
    block: int | None = None,
) -> list[Entry]:
    """Entries for ``consumer``: ``">"`` new ones, ``"0"`` its own pending ones."""
    reply: Any = await client.xreadgroup(group, consumer, {stream: start}, count=count,
                                         block=block)  # fmt: skip
    return [(eid, fields) for _stream, entries in reply or [] for eid, fields in entries]


async def read_many(
    client: StoreClient,
    group: str,
    consumer: str,
    streams: list[str],
    start: str,
    count: int,
    block: int | None = None,
) -> list[tuple[int, bytes, dict[bytes, bytes] | None]]:
    """Entries for ``consumer`` from several streams in one round trip, each with the index of
    its stream; up to ``count`` from each. On one Redis, one ``XREADGROUP`` (blocking up to
    ``block`` ms for the first entry of any); on a Cluster, where one command cannot name keys
    of several slots, one per stream, pipelined (``block`` is then ignored)."""
    index = {name.encode(): i for i, name in enumerate(streams)}
    if isinstance(client, ClusterStore):
        pipe = client.pipeline()
        for name in streams:
            pipe.xreadgroup(group, consumer, {name: start}, count=count)
        replies: list[Any] = [part for reply in await pipe.execute() for part in reply or []]
    else:
        reply: Any = await client.xreadgroup(group, consumer, dict.fromkeys(streams, start),
                                             count=count, block=block)  # fmt: skip
        replies = reply or []
    found: list[tuple[int, bytes, dict[bytes, bytes] | None]] = []
    for name, entries in replies:
        key = name if isinstance(name, bytes) else str(name).encode()
        found.extend((index[key], eid, fields) for eid, fields in entries)
    return found


async def take_over(
    client: StoreClient, stream: str, group: str, consumer: str, idle_ms: int, count: int = 100
) -> list[Entry]:
    """Entries other consumers left pending longer than ``idle_ms`` (XAUTOCLAIM)."""
    reply: Any = await client.xautoclaim(stream, group, consumer, idle_ms, "0-0", count=count)
    return list(reply[1])


async def forget_dead_consumers(
    client: StoreClient, stream: str, group: str, me: str, idle_ms: float
) -> list[str]:
    """Remove consumers other than ``me`` that hold nothing and were silent ``idle_ms``."""
    consumers: Any = await client.xinfo_consumers(stream, group)
    removed = []
    for consumer in consumers:
        raw = consumer["name"]
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        if name != me and consumer["pending"] == 0 and consumer["idle"] > idle_ms:
            await client.xgroup_delconsumer(stream, group, name)
            removed.append(name)
    return removed
