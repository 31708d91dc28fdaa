"""``Outbox.send()``: check, shape and durably enqueue one SMS; apply delivery reports.

A message is a Redis hash (the only place its number is kept). Due now, its id goes on the
outbox stream at once; due later ("send at", quiet hours) it waits in the due set until a worker
promotes it. Promotional messages ask the consent ledger first and carry the opt-out footer.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio

from gateway.consent import ConsentLedger, Purpose
from gateway.privacy import Pseudonymizer
from gateway.sms import quiet
from gateway.sms.countries import country_of, with_footer
from gateway.sms.errors import SendRefused
from gateway.sms.scripts import Scripts
from gateway.store import keys
from gateway.text import sms_info

Category = Literal["transactional", "promotional"]
_E164 = re.compile(r"^\+\d{1,3}\d{3,}$")


@dataclass(frozen=True, slots=True)
class OutboxPolicy:
    """What ``send()`` enforces (from ``Settings``)."""

    max_segments: int = 6
    sender_id: str | None = None
    promo_sender_id: str | None = None


def new_message_id() -> str:
    """A unique, roughly time-ordered message id."""
    return f"m{int(time.time() * 1000):x}{secrets.token_hex(6)}"


class Outbox:
    """Durable outbound SMS on Redis; see ``gateway.sms.worker`` for the sending side."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
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

    async def send(
        self,
        to: str,
        text: str,
        *,
        category: Category = "transactional",
        purpose: Purpose = "promo_sms",
        sender_id: str | None = None,
        send_at: float | None = None,
    ) -> str:
        """Enqueue one SMS and return its id; ``SendRefused`` says why one may not go."""
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
                raise SendRefused(refusal)
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
        message_id = new_message_id()
        fields = {
            "id": message_id, "to": to, "text": text, "category": category,
            "purpose": purpose if category == "promotional" else "",
            "sender": sender_id or "", "status": "queued" if due <= now else "scheduled",
            "segments": info.segments, "encoding": info.encoding, "attempts": 0,
            "created": f"{now:.3f}", "due": int(due * 1000), "subscriber": subscriber,
            "country": country.code, "at_id": "", "cost": "", "reason": "", "updated": f"{now:.3f}",
        }  # fmt: skip
        flat = [item for pair in fields.items() for item in pair]
        await self._scripts.enqueue(
            keys=[keys.sms_message(message_id), keys.sms_due(), keys.sms_queue()],
            args=[message_id, int(due * 1000), int(now * 1000), *flat],
        )
        return message_id

    async def get(self, message_id: str) -> dict[str, str] | None:
        """The stored record of one message, or ``None``."""
        raw: Any = await self._redis.hgetall(keys.sms_message(message_id))
        return {k.decode(): v.decode() for k, v in raw.items()} if raw else None

    async def apply_delivery_report(self, at_message_id: str, status: str, reason: str) -> str:
        """``applied``, ``ignored`` (stale or after a final status) or ``stashed`` (early)."""
        found: Any = await self._scripts.dlr_lookup(
            keys=[keys.sms_at_id(at_message_id), keys.sms_dlr_stash(at_message_id)],
            args=[status, reason, keys.SMS_DLR_STASH_TTL],
        )
        if not found:
            return "stashed"
        applied = await self._scripts.apply(
            keys=[keys.sms_message(found.decode())],
            args=[status, reason, f"{self._clock():.3f}", keys.SMS_RECORD_TTL],
        )
        return "applied" if applied else "ignored"
