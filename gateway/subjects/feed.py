"""Events about the subscriber not yet delivered to the brand's CRM (they carry the number).
An erasure removes them: the CRM is not told about a subscriber who asked to be forgotten."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject


class FeedHolder:
    name = "event_feed"
    families: tuple[str, ...] = ("feed_pending",)

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        pending: Any = await client.lrange(keys.feed_pending(subject.pseudonym), 0, -1)
        return {"pending_events": [orjson.loads(event) for event in pending]}

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        return int(await client.delete(keys.feed_pending(subject.pseudonym)))
