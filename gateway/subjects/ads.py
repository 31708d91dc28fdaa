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
        "ad_shown", "ad_click", "lifecycle", "lifecycle_last", "lifecycle_loyal",
    )  # fmt: skip

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        p = subject.pseudonym
        shown: Any = await client.hgetall(keys.ad_shown(p))
        fields = {k.decode(): v.decode() for k, v in shown.items()}
        activity: Any = await client.hgetall(keys.lifecycle(p))
        return {
            "ads_shown": {k: v for k, v in fields.items() if not k.startswith("i:")},
            "last_impressions": {k[2:]: v for k, v in fields.items() if k.startswith("i:")},
            "lifecycle": {k.decode(): v.decode() for k, v in activity.items()},
        }

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        p = subject.pseudonym
        clicks = [key async for key in matching_keys(client, keys.ad_click(p, "*"))]
        removed = 0
        for key in [*clicks, keys.ad_shown(p).encode(), keys.lifecycle(p).encode()]:
            removed += int(await client.delete(key))
        shard = keys.lifecycle_shard(p)
        for index in (keys.lifecycle_last(shard), keys.lifecycle_loyal(shard)):
            removed += int(await client.zrem(index, p))
        return removed
