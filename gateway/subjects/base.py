"""The ``Holder`` protocol: one engine's part of a data-subject export and erasure."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from gateway.store.client import StoreClient


@dataclass(frozen=True, slots=True)
class Subject:
    """The subscriber a request is about: the number given, and its pseudonym."""

    msisdn: str
    pseudonym: str


class Holder(Protocol):
    """What one engine holds about subscribers."""

    name: str
    """The export's section for this engine."""
    families: tuple[str, ...]
    """The ``gateway.store.keys`` functions whose keys this holder exports and erases."""

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        """Everything held about ``subject`` (JSON-ready; empty when nothing is)."""

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        """Remove what is held about ``subject`` (keeping only what the docs say is kept);
        how many keys or entries went. Idempotent: a second run removes nothing more."""


async def matching_keys(client: StoreClient, pattern: str) -> AsyncIterator[bytes]:
    """Keys matching ``pattern`` on every master (SCAN: never blocks Redis)."""
    async for key in client.scan_iter(match=pattern, count=1000):
        yield key


async def stream_entries(
    client: StoreClient, stream: str, field: bytes, value: bytes
) -> list[tuple[bytes, dict[bytes, bytes]]]:
    """The entries of ``stream`` whose ``field`` is ``value``, read in pages of 5,000."""
    found: list[tuple[bytes, dict[bytes, bytes]]] = []
    start = "-"
    while True:
        page: Any = await client.xrange(stream, start, "+", count=5000)
        for entry_id, fields in page:
            if fields.get(field) == value:
                found.append((entry_id, fields))
        if len(page) < 5000:
            return found
        start = "(" + page[-1][0].decode()


def text(fields: dict[bytes, bytes], *names: str) -> dict[str, str]:
    """Some fields of a hash or stream entry, decoded."""
    return {name: fields.get(name.encode(), b"").decode(errors="replace") for name in names}
