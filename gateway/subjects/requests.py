"""Exporting and erasing one subscriber across every engine, with an audit trail.

An erasure runs every holder in turn; each is idempotent, so a request retried after a failure
finishes the job. It is recorded in ``keys.audit()`` (pseudonym, who asked, what was removed)
and logged; neither holds the number.
"""

from __future__ import annotations

import time
from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Holder, Subject

AUDIT_MAXLEN = 1_000_000


async def export(
    client: StoreClient, holders: list[Holder], subject: Subject, requested_by: str
) -> dict[str, Any]:
    """``{"msisdn", "subscriber", "exported_at", "<engine>": …}`` for every holder."""
    document: dict[str, Any] = {
        "msisdn": subject.msisdn,
        "subscriber": subject.pseudonym,
        "exported_at": time.time(),
    }
    for holder in holders:
        document[holder.name] = await holder.export(client, subject)
    await _audit(client, "export", subject, requested_by, {})
    return document


async def erase(
    client: StoreClient, holders: list[Holder], subject: Subject, requested_by: str
) -> dict[str, int]:
    """Remove what every holder keeps about ``subject``; what each removed."""
    removed = {holder.name: await holder.erase(client, subject) for holder in holders}
    await _audit(client, "erase", subject, requested_by, removed)
    return removed


async def _audit(
    client: StoreClient, action: str, subject: Subject, requested_by: str, removed: dict[str, int]
) -> None:
    fields: dict[str, str | int] = {
        "action": action,
        "subscriber": subject.pseudonym,
        "requested_by": requested_by,
        "at": f"{time.time():.3f}",
    }
    fields.update({f"removed:{name}": count for name, count in removed.items()})
    await client.xadd(keys.audit(), fields, maxlen=AUDIT_MAXLEN, approximate=True)  # type: ignore[arg-type]
