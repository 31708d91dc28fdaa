"""SMS: messages sent to the subscriber and messages they sent.

Outbound records are the only place the raw number is kept; they are found by a scan of the
records (``subscriber`` field), which an erasure deletes with their aggregator id mapping — a
message still waiting to go is thereby cancelled (the worker skips a missing record). Inbound
messages and keyword-started surveys are stream entries, removed with ``XDEL``.
"""

from __future__ import annotations

from typing import Any

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys, stream_entries, text

_SHOWN = ("id", "to", "text", "category", "purpose", "status", "reason", "created", "sent_at",
          "updated", "attempts", "segments")  # fmt: skip


class SmsHolder:
    name = "sms"
    families: tuple[str, ...] = (
        "sms_message",
        "sms_provider_id",
        "sms_provider_id_v1",
        "sms_inbox",
        "sms_flows",
    )

    async def _messages(self, client: StoreClient, subject: Subject) -> list[dict[bytes, bytes]]:
        found = []
        async for key in matching_keys(client, keys.SMS_MESSAGE_PATTERN):
            record: Any = await client.hgetall(key)
            if record.get(b"subscriber") == subject.pseudonym.encode():
                found.append(record)
        return found

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        who = subject.pseudonym.encode()
        inbound = await stream_entries(client, keys.sms_inbox(), b"subscriber", who)
        surveys = await stream_entries(client, keys.sms_flows(), b"subscriber", who)
        messages = sorted((text(r, *_SHOWN) for r in await self._messages(client, subject)),
                          key=lambda m: m["created"])  # fmt: skip
        return {
            "sent_to_subscriber": messages,
            "received_from_subscriber": [{"entry": i.decode(), **{k.decode(): v.decode()
                                          for k, v in f.items()}} for i, f in inbound],
            "survey_starts": [{"entry": i.decode(), **{k.decode(): v.decode()
                               for k, v in f.items()}} for i, f in surveys],
        }  # fmt: skip

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        removed = 0
        for record in await self._messages(client, subject):
            message_id = record[b"id"].decode()
            at_id = record.get(b"at_id", b"").decode()
            removed += int(await client.delete(keys.sms_message(message_id)))
            if at_id:  # one at a time: the two links are in different slots
                await client.delete(keys.sms_provider_id(at_id))
                await client.delete(keys.sms_provider_id_v1(at_id))
        who = subject.pseudonym.encode()
        for stream in (keys.sms_inbox(), keys.sms_flows()):
            entries = await stream_entries(client, stream, b"subscriber", who)
            if entries:
                removed += int(await client.xdel(stream, *(i for i, _ in entries)))
        return removed
