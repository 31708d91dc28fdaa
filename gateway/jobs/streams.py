"""Consumer-group plumbing shared by every worker on a Redis stream (the SMS outbox worker and
``JobWorker``): create the group, read, take over idle entries, forget dead consumers."""

from __future__ import annotations

from typing import Any

from gateway.errors import StoreReplyError
from gateway.store.client import StoreClient

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
