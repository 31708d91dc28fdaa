"""What the hop pipeline remembers of a subscriber: their language and resume points."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys


class MemoryHolder:
    name = "ussd_memory"
    families: tuple[str, ...] = ("subscriber", "resume_point")

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        remembered: Any = await client.hgetall(keys.subscriber(subject.pseudonym))
        points = {}
        async for key in matching_keys(client, keys.resume_point(subject.pseudonym, "*")):
            raw: Any = await client.get(key)
            if raw is not None:
                menu_id = key.decode().rsplit(":", 1)[1]
                points[menu_id] = orjson.loads(raw.partition(b"\n")[2])
        return {
            "remembered": {name.decode(): value.decode() for name, value in remembered.items()},
            "resume_points": points,
        }

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        pattern = keys.resume_point(subject.pseudonym, "*")
        found = [key async for key in matching_keys(client, pattern)]
        removed = 0
        for key in [keys.subscriber(subject.pseudonym).encode(), *found]:
            removed += int(await client.delete(key))
        return removed
