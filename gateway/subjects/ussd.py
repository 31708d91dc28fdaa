"""USSD sessions that ended: the aggregators' end-of-session notifications (kept 30 days) and
their stream entries. Live sessions (``JUMBE_SESSION_TTL``, 3 minutes) are not listed: they are
keyed by the aggregator's session id alone and are gone before a request could be answered."""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys, stream_entries, text

_SHOWN = ("provider", "session_id", "service_code", "network", "status", "duration_ms", "hops",
          "last_response", "date")  # fmt: skip


class UssdEndsHolder:
    name = "ussd_sessions"
    families: tuple[str, ...] = ("session_end", "ussd_ends_stream")

    async def _ends(self, client: StoreClient, subject: Subject) -> list[tuple[bytes, Any]]:
        found = []
        async for key in matching_keys(client, f"{keys.PREFIX}:se:*"):
            fields: Any = await client.hgetall(key)
            if fields.get(b"subscriber") == subject.pseudonym.encode():
                found.append((key, fields))
        return found

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        ends = [text(fields, *_SHOWN) for _key, fields in await self._ends(client, subject)]
        return {"ended_sessions": sorted(ends, key=lambda end: end["date"])}

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        removed = 0
        for key, _fields in await self._ends(client, subject):
            removed += int(await client.delete(key))
        who = subject.pseudonym.encode()
        for shard in range(keys.USSD_ENDS_SHARDS):
            stream = keys.ussd_ends_stream(shard)
            entries = await stream_entries(client, stream, b"subscriber", who)
            if entries:
                removed += int(await client.xdel(stream, *(i for i, _ in entries)))
        return removed
