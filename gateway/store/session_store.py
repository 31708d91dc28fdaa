"""Reading and compare-and-set writing of USSD sessions over the pipelined hop-path client
(which raises ``StoreUnavailable``/``StoreReplyError``).

The hop pipeline says *what* to write (a session value, ``SubscriberWrites``); this module
turns it into Redis commands, pipelined in one round trip.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

from gateway.store import keys, lua
from gateway.store.pipelined import HopClient

SAVED = 1
EXPIRED = 0
CAS_SCRIPT = lua.source("session_cas")
LANGUAGE_FIELD = b"lang"


@dataclass(frozen=True, slots=True)
class SubscriberWrites:
    """What a save also writes about the subscriber (in their slot, not the session's)."""

    pseudonym: str
    menu_id: str
    language: str | None = None
    """Remember this language for the subscriber's next sessions."""
    resume_point: bytes | None = None
    """Where the session stands, for resuming it within ``resume_ttl`` seconds."""
    resume_ttl: int = 0
    forget_resume: bool = False
    """The session ended: no resume point."""

    @property
    def empty(self) -> bool:
        return self.language is None and self.resume_point is None and not self.forget_resume


class Ride(Protocol):
    """A write an effect asked for (``surveys.store.Ride``): a script, or a plain command when
    ``source`` is empty."""

    source: str
    keys: list[str]
    args: list[Any]


class SessionStore:
    """Sessions are ``<version>\\n<payload>`` strings; writes are compare-and-set on the version."""

    def __init__(self, client: HopClient, ttl_seconds: int) -> None:
        self.client = client
        self.ttl_ms = ttl_seconds * 1000

    async def load(self, key: str) -> bytes | None:
        """The stored value, or ``None`` when there is no such session (or it expired)."""
        value: bytes | None = await self.client.execute(b"GET", key)
        return value

    async def load_start(
        self, pseudonym: str, resume_menu: str | None
    ) -> tuple[str | None, bytes | None]:
        """A new session's context in one round trip: (remembered language, the resume point
        for ``resume_menu`` if given)."""
        resume = (
            self.client.execute(b"GET", keys.resume_point(pseudonym, resume_menu))
            if resume_menu
            else _none()
        )
        # gather's result is a list, though typed a tuple (and compiled code checks types)
        both = await cast(Any, asyncio.gather(
            self.client.execute(b"HGET", keys.subscriber(pseudonym), LANGUAGE_FIELD), resume
        ))  # fmt: skip
        language, point = both[0], both[1]
        return (language.decode() if isinstance(language, bytes) else None), point

    def save(
        self,
        key: str,
        read_version: int,
        value: bytes,
        writes: SubscriberWrites | None = None,
        rides: Sequence[Ride] = (),
    ) -> Awaitable[int | bytes]:
        """Write ``value`` if the stored version is still ``read_version``.

        ``writes`` are sent in the same round trip, after the compare-and-set on the same
        connection, and run whatever its outcome (they live in another Cluster slot, so one
        script cannot guard them): a caller whose compare-and-set lost rewrites them from the
        winning value with ``apply``. ``rides`` (a survey answer…) go the same way; each is
        idempotent, so a hop that lost and is computed again may send its own. Returns
        ``SAVED``; ``EXPIRED`` when the session vanished; else the value stored now.
        """
        cas: Awaitable[int | bytes] = (
            self.client.run_script(CAS_SCRIPT, [key], [read_version, value, self.ttl_ms])
            if read_version
            else self._create(key, value)
        )  # the script's replies are SAVED (1), EXPIRED (0) or the stored value
        if writes is None and not rides:
            return cas  # the common hop: no coroutine of its own around the script's
        return self._save_with(cas, writes, rides)

    async def _save_with(
        self, cas: Awaitable[int | bytes], writes: SubscriberWrites | None, rides: Sequence[Ride]
    ) -> int | bytes:
        """``cas`` with the subscriber writes and rides (gather costs a Task per command: only
        when there are more)."""
        more = self._commands(writes) if writes is not None else []
        more += [self.client.run_script(r.source, r.keys, r.args) if r.source
                 else self.client.execute(*r.args) for r in rides]  # fmt: skip
        result, *_ = await asyncio.gather(cas, *more)
        return result  # type: ignore[no-any-return]

    async def _create(self, key: str, value: bytes) -> int | bytes:
        """A new session: ``SET NX`` (no script: a quarter of the hops, and Redis runs a plain
        command in a third of the time of the CAS script's call); when the key exists (a retried
        or concurrent first hop), the value stored now — one more round trip, rarely."""
        if await self.client.execute(b"SET", key, value, b"PX", self.ttl_ms, b"NX") is not None:
            return SAVED
        stored: bytes | None = await self.client.execute(b"GET", key)
        return stored if stored is not None else EXPIRED

    async def apply(self, writes: SubscriberWrites) -> None:
        """Send ``writes`` on their own (one round trip)."""
        await asyncio.gather(*self._commands(writes))

    def _commands(self, writes: SubscriberWrites) -> list[Coroutine[Any, Any, Any]]:
        execute = self.client.execute
        commands = []
        if writes.language is not None:
            subscriber = keys.subscriber(writes.pseudonym)
            commands += [
                execute(b"HSET", subscriber, LANGUAGE_FIELD, writes.language),
                execute(b"EXPIRE", subscriber, keys.SUBSCRIBER_TTL),
            ]
        point = keys.resume_point(writes.pseudonym, writes.menu_id)
        if writes.forget_resume:
            commands.append(execute(b"DEL", point))
        elif writes.resume_point is not None:
            commands.append(execute(b"SET", point, writes.resume_point, b"EX", writes.resume_ttl))
        return commands


async def _none() -> None:
    return None
