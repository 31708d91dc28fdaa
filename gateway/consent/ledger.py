"""The consent ledger, per (pseudonym, purpose) with source, channel, country and time (C1, C2).

Current state lives in one hash per subscriber; every change is also appended to the
subscriber's history stream, in the same MULTI transaction, so the two never disagree. Only
pseudonyms are stored. Transactional messages never ask the ledger.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import redis.asyncio

from gateway.store import keys

Purpose = Literal["promo_sms", "ads", "surveys"]
PURPOSES: tuple[Purpose, ...] = ("promo_sms", "ads", "surveys")


@dataclass(frozen=True, slots=True)
class ConsentState:
    """One purpose's current consent: ``granted``, ``revoked`` or ``unknown``."""

    purpose: str
    state: str
    at: float
    source: str

    @property
    def description(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.at))
        return f"{self.state} via {self.source} at {when}"


class ConsentLedger:
    """Records and answers consent; ``mode`` ``opt_in`` needs a grant, ``opt_out`` only a STOP."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        mode: str = "opt_in",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self._mode = mode
        self._clock = clock

    async def record(
        self,
        pseudonym: str,
        purposes: Iterable[Purpose],
        state: Literal["granted", "revoked"],
        *,
        source: str,
        channel: str,
        country: str = "",
    ) -> None:
        """Grant or revoke ``purposes`` now; the change takes effect at once."""
        now = self._clock()
        current = f"{state}|{now:.3f}|{source}"
        async with self._redis.pipeline(transaction=True) as pipe:
            for purpose in purposes:
                pipe.hset(keys.consent(pseudonym), purpose, current)
                pipe.xadd(keys.consent_history(pseudonym), {
                    "purpose": purpose, "state": state, "source": source, "channel": channel,
                    "country": country, "at": f"{now:.3f}",
                })  # fmt: skip
            await pipe.execute()

    async def state(self, pseudonym: str, purpose: Purpose) -> ConsentState:
        """The current consent of one subscriber for one purpose."""
        raw: Any = await self._redis.hget(keys.consent(pseudonym), purpose)
        if raw is None:
            return ConsentState(purpose, "unknown", 0.0, "")
        state, at, source = raw.decode().split("|", 2)
        return ConsentState(purpose, state, float(at), source)

    async def refusal(self, pseudonym: str, purpose: Purpose) -> str | None:
        """``None`` when a marketing send for ``purpose`` may go, else the reason it may not."""
        current = await self.state(pseudonym, purpose)
        if current.state == "granted":
            return None
        if current.state == "revoked":
            return f"subscriber opted out of {purpose} ({current.description})"
        if self._mode == "opt_out":
            return None
        return f"no recorded consent for {purpose}"

    async def history(self, pseudonym: str) -> list[dict[str, str]]:
        """Every change for one subscriber, oldest first."""
        entries: Any = await self._redis.xrange(keys.consent_history(pseudonym))
        return [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in entries]
