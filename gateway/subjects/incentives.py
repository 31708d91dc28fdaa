"""Points engines granted the subscriber (a survey's incentive) that the ledger credits.

They are ledger entries: an erasure keeps them, under the pseudonym only (domain C6), so points
are never created twice; the export lists them."""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject


class IncentivesHolder:
    name = "incentives"
    families: tuple[str, ...] = ("incentives_granted", "incentive_sources")

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        grants = []
        sources: Any = await client.smembers(keys.incentive_sources())
        prefix = f"{subject.pseudonym}|"
        for source in sorted(s.decode() for s in sources):
            async for field, value in client.hscan_iter(keys.incentives_granted(source)):
                if value.decode().startswith(prefix):
                    _, points, at = value.decode().split("|")
                    grants.append({"source": source, "source_id": field.decode(),
                                   "points": int(points), "at": float(at)})  # fmt: skip
        return {"granted": grants}

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        return 0  # ledger entries: kept, pseudonymous (docs/privacy.md)
