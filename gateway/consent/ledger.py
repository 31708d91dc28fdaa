"""The consent ledger, per (pseudonym, purpose) with source, channel, country and time (C1, C2).

Current state lives in one hash per subscriber; every change is also appended to the
subscriber's history stream by the same Lua script, so the two never disagree. Only pseudonyms
are stored. Transactional messages never ask the ledger.

Recording is idempotent, so that a callback retried after a failed attempt records once:
- a decision equal to the current one (same state, same source) changes nothing;
- with an ``event_id`` (e.g. the aggregator's message id), a second recording of that event is
  a no-op for ``CONSENT_EVENT_TTL``, even if the subscriber changed their mind in between (a
  retried old STOP never overrides a later START).

In ``opt_out`` mode a subscriber with no recorded decision may be marketed to — unless Redis
lost its data (``gateway.store.meta``): their opt-out may have been lost with it, so until an
operator acknowledges the loss, such sends are refused.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.consent.purposes import PURPOSES, ConsentMode, Purpose
from gateway.feed.events import EventFeed
from gateway.store import keys, lua
from gateway.store.client import StoreClient
from gateway.store.meta import DataGuard

ALREADY_APPLIED = -1
_RECORD = lua.source("consent_record")


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
    """Records and answers consent. ``modes`` per purpose (or one for all): ``opt_in`` needs a
    recorded grant, ``opt_out`` only a recorded revocation blocks."""

    def __init__(
        self,
        client: StoreClient,
        modes: Mapping[Purpose, ConsentMode] | ConsentMode = "opt_in",
        clock: Callable[[], float] = time.time,
        guard: DataGuard | None = None,
    ) -> None:
        self._redis = client
        self.feed: EventFeed | None = None
        """Where consent changes are published (``app[FEED]``), if anywhere."""
        self._guard = guard
        self._modes: dict[Purpose, ConsentMode] = (
            {purpose: modes for purpose in PURPOSES} if isinstance(modes, str) else dict(modes)
        )
        self._clock = clock
        self._record = client.register_script(_RECORD)

    def mode(self, purpose: Purpose) -> ConsentMode:
        """The consent mode that applies to ``purpose``."""
        return self._modes.get(purpose, "opt_in")

    async def record(
        self,
        pseudonym: str,
        purposes: Iterable[Purpose],
        state: Literal["granted", "revoked"],
        *,
        source: str,
        channel: str,
        country: str = "",
        event_id: str | None = None,
        msisdn: str = "",
    ) -> int:
        """Grant or revoke ``purposes`` now; the change takes effect at once. A change is
        published on the event feed (``consent.changed``) when the number is given.

        Returns how many purposes changed (0: the same decision was already current), or
        ``ALREADY_APPLIED`` when ``event_id`` was recorded before.
        """
        purposes = list(purposes)
        script_keys = [keys.consent(pseudonym), keys.consent_history(pseudonym)]
        if event_id is not None:
            script_keys.append(keys.consent_event(pseudonym, event_id))
        changed: Any = await self._record(
            keys=script_keys,
            args=[state, f"{self._clock():.3f}", source, channel, country,
                  keys.CONSENT_EVENT_TTL, *purposes],
        )  # fmt: skip
        if int(changed) > 0 and msisdn and self.feed is not None:
            await self.feed.publish_quietly("consent.changed", pseudonym, msisdn, {
                "purposes": purposes, "granted": state == "granted", "source": source,
                "channel": channel,
            })  # fmt: skip
        return int(changed)

    async def state(self, pseudonym: str, purpose: Purpose) -> ConsentState:
        """The current consent of one subscriber for one purpose."""
        raw: Any = await self._redis.hget(keys.consent(pseudonym), purpose)
        return _decode(purpose, raw)

    async def states(self, pseudonym: str) -> dict[str, ConsentState]:
        """Every purpose with a recorded decision (purposes never decided are left out)."""
        raw: Any = await self._redis.hgetall(keys.consent(pseudonym))
        return {k.decode(): _decode(k.decode(), v) for k, v in sorted(raw.items())}

    async def refusal(self, pseudonym: str, purpose: Purpose) -> str | None:
        """``None`` when a marketing send for ``purpose`` may go, else the reason it may not."""
        current = await self.state(pseudonym, purpose)
        if current.state == "granted":
            return None
        if current.state == "revoked":
            return f"subscriber opted out of {purpose} ({current.description})"
        if self.mode(purpose) == "opt_in":
            return f"no recorded consent for {purpose}"
        lost = await self._guard.loss() if self._guard is not None else None
        if lost is not None:
            return (
                f"opt_out mode needs the remembered opt-outs, which may be lost ({lost}); "
                "an operator must run `jumbe ack-data-loss` once they are restored"
            )
        return None

    async def history(self, pseudonym: str) -> list[dict[str, str]]:
        """Every change for one subscriber, oldest first."""
        entries: Any = await self._redis.xrange(keys.consent_history(pseudonym))
        return [{k.decode(): v.decode() for k, v in fields.items()} for _id, fields in entries]


def _decode(purpose: str, raw: bytes | None) -> ConsentState:
    if raw is None:
        return ConsentState(purpose, "unknown", 0.0, "")
    state, at, source = raw.decode().split("|", 2)
    return ConsentState(purpose, state, float(at), source)
