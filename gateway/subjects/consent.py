"""Consent decisions, their history and keyword tags.

Erasure keeps a **suppression record**: the purposes the subscriber had revoked stay revoked in
their consent hash (``revoked|<time>|<source>``, nothing else), so an erasure never turns
marketing back on — in ``opt_out`` mode a subscriber without a record would be marketed to.
Grants, the history, applied-event markers and tags are removed.
"""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys


class ConsentHolder:
    name = "consent"
    families: tuple[str, ...] = ("consent", "consent_history", "consent_event", "subscriber_tags")

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        current: Any = await client.hgetall(keys.consent(subject.pseudonym))
        history: Any = await client.xrange(keys.consent_history(subject.pseudonym))
        tags: Any = await client.smembers(keys.subscriber_tags(subject.pseudonym))
        purposes = {}
        for purpose, value in sorted(current.items()):
            state, at, source = value.decode().split("|", 2)
            purposes[purpose.decode()] = {"state": state, "at": float(at), "source": source}
        return {
            "purposes": purposes,
            "history": [{k.decode(): v.decode() for k, v in fields.items()}
                        for _id, fields in history],
            "tags": sorted(tag.decode() for tag in tags),
        }  # fmt: skip

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        pseudonym = subject.pseudonym
        current: Any = await client.hgetall(keys.consent(pseudonym))
        kept = [p for p, v in current.items() if v.decode().startswith("revoked|")]
        removed = 0
        for purpose in set(current) - set(kept):  # the suppression record stays
            removed += int(await client.hdel(keys.consent(pseudonym), purpose))
        markers = [k async for k in matching_keys(client, keys.consent_event(pseudonym, "*"))]
        for key in [keys.consent_history(pseudonym).encode(),
                    keys.subscriber_tags(pseudonym).encode(), *markers]:  # fmt: skip
            removed += int(await client.delete(key))
        return removed
