"""The rewards ledger: entries, redemptions and per-number guards.

Ledger entries (and their derived snapshot) are never removed (domain C6: they keep only the
pseudonym, so points are never created or spent twice). An erasure removes what is not ledger:
the raw number kept on settled redemptions to send airtime to, the per-number guards, and early
status callbacks. A redemption still in flight keeps the number until AT has answered (removing
it could make a retry impossible) but is marked ``erased``: when it settles, the number is
removed and no receipt SMS or feed event goes out.
"""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject

_IN_FLIGHT = {"HELD", "SUBMITTED"}


class RewardsHolder:
    name = "rewards"
    families: tuple[str, ...] = (
        "rewards_ledger", "rewards_sources", "rewards_redemption", "rewards_redemptions",
        "rewards_guards", "rewards_requests", "rewards_early", "rewards_expiry", "rewards_index",
        "rewards_snapshot",
    )  # fmt: skip

    async def _redemptions(self, client: StoreClient, subject: Subject) -> dict[str, Any]:
        ids: Any = await client.zrange(keys.rewards_redemptions(subject.pseudonym), 0, -1)
        found = {}
        for raw in ids:
            record: Any = await client.hgetall(keys.rewards_redemption(subject.pseudonym,
                                                                       raw.decode()))  # fmt: skip
            if record:
                found[raw.decode()] = {k.decode(): v.decode() for k, v in record.items()}
        return found

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        entries: Any = await client.xrange(keys.rewards_ledger(subject.pseudonym))
        guards: Any = await client.hgetall(keys.rewards_guards(subject.pseudonym))
        return {
            "ledger": [{"entry": i.decode(), **{k.decode(): v.decode() for k, v in f.items()}}
                       for i, f in entries],
            "redemptions": await self._redemptions(client, subject),
            "guards": {k.decode(): v.decode() for k, v in guards.items()},
        }  # fmt: skip

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        removed = 0
        for redemption, record in (await self._redemptions(client, subject)).items():
            key = keys.rewards_redemption(subject.pseudonym, redemption)
            if record.get("state") in _IN_FLIGHT:  # settled later: no receipt, no event, no number
                await client.hset(key, "erased", "1")
            elif "phone" in record:
                removed += int(await client.hdel(key, "phone"))
        for key in (keys.rewards_guards(subject.pseudonym), keys.rewards_early(subject.pseudonym)):
            removed += int(await client.delete(key))
        return removed
