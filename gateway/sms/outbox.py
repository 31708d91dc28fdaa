"""``Outbox.send()``: check, shape and durably enqueue one SMS; apply delivery reports.

A message is a Redis hash (the only place its number is kept). Due now, its id goes on the
outbox stream at once; due later ("send at", quiet hours) it waits in the due set until a worker
promotes it. Promotional messages ask the consent ledger first and carry the opt-out footer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway import metrics
from gateway.consent import Purpose
from gateway.consent.ledger import ConsentLedger
from gateway.errors import NoConsent, SendRefused
from gateway.privacy import Pseudonymizer
from gateway.sms import quiet
from gateway.sms.countries import country_of, with_footer
from gateway.sms.scripts import HELD, NEEDS_HOUR, Scripts, group_of, report_hour
from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.text import sms_info

Category = Literal["transactional", "promotional"]
_E164 = re.compile(r"^\+\d{1,3}\d{3,}$")


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """What ``send()`` enforces (from ``Settings``)."""

    max_segments: int = 6
    sender_id: str | None = None
    promo_sender_id: str | None = None
    record_ttl: int = keys.SMS_RECORD_TTL
    """Seconds a record is kept after its final status (``JUMBE_RETENTION_MESSAGES_DAYS``)."""
    shards: int = keys.SMS_SHARDS
    """Hash tags the outbox is spread over (``JUMBE_SMS_SHARDS``)."""


def new_message_id(shards: int = keys.SMS_SHARDS) -> str:
    """A unique message id in a random one of ``shards`` shards (``m<shard>_<time><random>``,
    roughly time-ordered within a shard)."""
    return f"m{secrets.randbelow(shards)}_{int(time.time() * 1000):x}{secrets.token_hex(6)}"


def keyed_message_id(idempotency_key: str, shards: int = keys.SMS_SHARDS) -> str:
    """The message id that an idempotency key always maps to (for one shard count)."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]
    return f"k{int(digest[:8], 16) % shards}_{digest}"


def keyed_message_id_v1(idempotency_key: str) -> str:
    """The id the same key mapped to before the outbox was sharded (``{sms}``)."""
    return "k" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]


class Outbox:
    """Durable outbound SMS on Redis; see ``gateway.sms.worker`` for the sending side."""

    def __init__(
        self,
        client: StoreClient,
        ledger: ConsentLedger,
        pseudonym: Pseudonymizer,
        policy: OutboxPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._scripts = Scripts.register(client)
        self._ledger = ledger
        self._pseudonym = pseudonym
        self._policy = policy or OutboxPolicy()
        self._clock = clock
        self.delivered: Callable[[str], None] | None = None
        """Told the id of each message a delivery report says was delivered (ad SMS
        impressions count then); synchronous, never raising."""

    async def send(
        self,
        to: str,
        text: str,
        *,
        category: Category = "transactional",
        purpose: Purpose = "promo_sms",
        sender_id: str | None = None,
        send_at: float | None = None,
        idempotency_key: str | None = None,
        annotations: Mapping[str, str] | None = None,
    ) -> str:
        """Enqueue one SMS and return its id; ``SendRefused`` says why one may not go.

        ``annotations`` are the caller's fields, stored in the message's record in the same
        step as the message (the worker, a delivery report and ``get`` see them from the
        start): what the message is about, such as the ad it follows. They may not reuse the
        record's own field names (``ValueError``).

        With an ``idempotency_key`` (an API caller's retry, the reply to an inbound message
        that the aggregator may deliver twice) the message is enqueued once: a repeat returns
        the first message's id, whatever happened since; the same key for a different request
        is refused.
        """
        message_id, request = new_message_id(self._policy.shards), ""
        if idempotency_key is not None:
            message_id = keyed_message_id(idempotency_key, self._policy.shards)
            request = _fingerprint(to, text, category, purpose, sender_id, send_at)
            earlier = await self._already_enqueued(
                [message_id, keyed_message_id_v1(idempotency_key)], request
            )
            if earlier is not None:
                return earlier
        to = to.replace(" ", "")
        if not _E164.match(to):
            raise SendRefused("recipient is not an E.164 number (+<country code><number>)")
        if not text.strip():
            raise SendRefused("empty message")
        if category not in ("transactional", "promotional"):
            raise SendRefused(f"unknown category {category!r}")
        subscriber = self._pseudonym(to)
        country = country_of(to)
        now = self._clock()
        due = max(now, send_at or now)
        if category == "promotional":
            refusal = await self._ledger.refusal(subscriber, purpose)
            if refusal is not None:
                raise NoConsent(refusal)
            text = with_footer(text, country)
            due = quiet.next_allowed(country, due)
            sender_id = sender_id or self._policy.promo_sender_id or self._policy.sender_id
        else:
            sender_id = sender_id or self._policy.sender_id
        info = sms_info(text)
        if info.segments > self._policy.max_segments:
            raise SendRefused(
                f"message needs {info.segments} SMS segments ({info.encoding}); "
                f"the maximum is {self._policy.max_segments}"
            )
        fields = {
            "id": message_id, "to": to, "text": text, "category": category,
            "purpose": purpose if category == "promotional" else "",
            "sender": sender_id or "", "status": "queued" if due <= now else "scheduled",
            "segments": info.segments, "encoding": info.encoding, "attempts": 0,
            "created": f"{now:.3f}", "due": int(due * 1000), "subscriber": subscriber,
            "country": country.code, "at_id": "", "cost": "", "reason": "", "updated": f"{now:.3f}",
            "request": request,
        }  # fmt: skip
        flat = [item for pair in _annotated(fields, annotations).items() for item in pair]
        shard = keys.sms_shard_of(message_id)
        stored: Any = await self._scripts.enqueue(
            keys=[keys.sms_message(message_id), keys.sms_due(shard), keys.sms_queue(shard)],
            args=[message_id, int(due * 1000), int(now * 1000), group_of(text, sender_id or ""),
                  *flat],
        )  # fmt: skip
        if stored != 1:  # a concurrent copy of this keyed request won the race
            _check_same_request(stored, request)
        else:
            metrics.count_sms(str(fields["status"]))
        return message_id

    async def _already_enqueued(self, message_ids: list[str], request: str) -> str | None:
        """The first of ``message_ids`` already stored (checked to be the same request)."""
        pipe = self._redis.pipeline(transaction=False)
        for message_id in message_ids:
            pipe.hget(keys.sms_message(message_id), "request")
        for message_id, stored in zip(message_ids, await pipe.execute(), strict=True):
            if stored is not None:
                _check_same_request(stored, request)
                return message_id
        return None

    async def get(self, message_id: str) -> dict[str, str] | None:
        """The stored record of one message, or ``None``."""
        raw: Any = await self._redis.hgetall(keys.sms_message(message_id))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    async def apply_delivery_report(
        self, provider_message_id: str, status: str | None, reported: str, reason: str
    ) -> tuple[str, str | None]:
        """Apply one delivery report; (outcome, the message's subscriber pseudonym if known).

        Outcomes: ``applied``; ``kept`` (a status word we do not know, stored verbatim, the
        status unchanged); ``ignored`` (stale, or after a final status); ``stashed`` (the send
        is not recorded yet: the report waits for it, beside the link or in the record).
        """
        found: Any = await self._scripts.dlr_lookup(
            keys=[
                keys.sms_provider_id(provider_message_id),
                keys.sms_dlr_stash(provider_message_id),
            ],
            args=[status or "", reported, reason, keys.SMS_DLR_STASH_TTL],
        )
        if not found:  # or linked before the outbox was sharded
            found = await self._redis.get(keys.sms_provider_id_v1(provider_message_id))
            if not found:
                return "stashed", None
        message_id = found.decode()
        shard = keys.sms_shard_of(message_id)
        now = f"{self._clock():.3f}"
        hour = report_hour(now)  # a guess: right unless the message went out in another hour
        for _ in range(2):
            code, subscriber, needed = await self._scripts.apply(
                keys=[keys.sms_message(message_id), keys.sms_stats(hour, shard)],
                args=[status or "", reported, reason, now, self._policy.record_ttl, hour,
                      keys.SMS_STATS_TTL],
            )  # fmt: skip
            if int(code) != NEEDS_HOUR:
                break
            hour = int(needed)
        if int(code) == 1 and status == "delivered" and self.delivered is not None:
            self.delivered(message_id)  # applied, and delivered: e.g. an ad SMS impression

        outcome = {1: "applied", 2: "kept", HELD: "stashed"}.get(int(code), "ignored")
        if outcome == "applied" and status:
            metrics.count_sms(status)
        return outcome, subscriber.decode() if subscriber else None


def _fingerprint(
    to: str, text: str, category: str, purpose: str, sender: str | None, send_at: float | None
) -> str:
    """What identifies a send request for idempotency (the caller's inputs, before shaping)."""
    raw = "\x1f".join((to, text, category, purpose, sender or "", repr(send_at)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _check_same_request(stored: bytes | str, request: str) -> None:
    found = stored.decode() if isinstance(stored, bytes) else str(stored)
    if found != request:
        raise SendRefused("this idempotency key was already used for a different message")


def _annotated(fields: dict[str, Any], annotations: Mapping[str, str] | None) -> dict[str, Any]:
    """The message record: its own ``fields`` and the caller's ``annotations`` (which may not
    reuse a field's name)."""
    for name, value in (annotations or {}).items():
        if name in fields:
            raise ValueError(f"annotation {name!r} is one of the message record's own fields")
        fields[name] = value
    return fields
