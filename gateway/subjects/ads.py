"""Balance-check ads and lifecycle: a subscriber's ad caps, last impressions, recent clicks,
lifecycle activity and their entries in the per-stage indexes. All removed by an erasure (the
caps start again from zero). Campaign counters and reach (a HyperLogLog sketch, from which no
subscriber can be read back or removed) hold nothing about one subscriber."""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys


class AdsHolder:
    name = "ads"
    families: tuple[str, ...] = (
        "ad_day", "ad_week", "ad_lifetime", "ad_impressions", "ad_click", "lifecycle",
        "lifecycle_last", "lifecycle_loyal",
    )  # fmt: skip

    async def _dated(self, client: StoreClient, subject: Subject) -> list[bytes]:
        p = subject.pseudonym
        found = []
        for pattern in (keys.ad_day(p, "*"), keys.ad_week(p, "*"), keys.ad_click(p, "*")):
            found += [key async for key in matching_keys(client, pattern)]
        return found

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        p = subject.pseudonym
        shown = {}
        for key in [*await self._dated(client, subject), keys.ad_lifetime(p).encode()]:
            counts: Any = await client.hgetall(key)
            if counts:
                shown[key.decode()] = {k.decode(): v.decode() for k, v in counts.items()}
        impressions: Any = await client.hgetall(keys.ad_impressions(p))
        activity: Any = await client.hgetall(keys.lifecycle(p))
        return {
            "ads_shown": shown,
            "last_impressions": {k.decode(): v.decode() for k, v in impressions.items()},
            "lifecycle": {k.decode(): v.decode() for k, v in activity.items()},
        }

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        p = subject.pseudonym
        removed = 0
        for key in [*await self._dated(client, subject), keys.ad_lifetime(p).encode(),
                    keys.ad_impressions(p).encode(), keys.lifecycle(p).encode()]:  # fmt: skip
            removed += int(await client.delete(key))
        shard = keys.lifecycle_shard(p)
        for index in (keys.lifecycle_last(shard), keys.lifecycle_loyal(shard)):
            removed += int(await client.zrem(index, p))
        return removed
