"""The hop pipeline: load session → dedupe/serialize → step the menu → compare-and-set save.

Round trips per hop (see docs/architecture.md):
- one on the common path: the compare-and-set write, which also creates the session on a first
  hop, with any side effects (resume point, remembered language) pipelined in the same trip;
- two when this process has not seen an ongoing session before (a read first, which for menus
  that remember subscribers also fetches their language and resume point), or on the first
  hop of such a menu;
- one more, rarely, when a compare-and-set loses to a concurrent copy of the hop on another
  process: the loser rewrites the side effects it sent from the winning value.

A small in-process cache holds the last value this process wrote for each live session; it is
only a guess — the Lua compare-and-set checks the stored version, and on a mismatch the hop is
recomputed from the value Redis returns, so several gateway processes stay correct.

Guarantees:
- A retried hop (same session, same transcript) gets the stored reply and changes nothing.
- Two concurrent hops of one session are serialized (a per-session lock in a process, the
  compare-and-set across processes); neither is applied twice or lost.
- A late copy of an older hop gets the current reply and changes nothing.
- A session dropped before its END can be resumed by a new session of the same subscriber
  within the menu's ``resume.within`` (policy ``resume`` or ``confirm``); one that reached an
  END never resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.channels.base import UssdRequest
from gateway.errors import HopError, SessionConflict, StoreUnavailable
from gateway.menu.engine import Engine, Reply
from gateway.menu.messages import message
from gateway.menu.model import Menu
from gateway.menu.registry import MenuRegistry
from gateway.menu.state import SessionState
from gateway.privacy import Pseudonymizer
from gateway.store import keys
from gateway.store.session_store import EXPIRED, SAVED, Command, SessionStore

CACHE_SIZE = 50_000
MAX_ATTEMPTS = 4
RESUME_YES, RESUME_RESTART = "1", "2"


@dataclass(slots=True)
class HopResult:
    """What happened on one hop, for the reply and the canonical log line."""

    reply: Reply
    outcome: str
    menu_id: str = ""
    state_before: str = ""
    state_after: str = ""
    round_trips: int = 0
    language: str = "en"
    language_before: str | None = None
    """The session's language before this hop (for a new session: the one it started in)."""


@dataclass(slots=True)
class StartContext:
    """What Redis remembers of a subscriber when a new session starts."""

    pseudonym: str
    language: str | None
    resume_point: bytes | None


class _Cache:
    """LRU of the last stored value per session key (bytes, so each hop decodes a fresh copy)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.data: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        return self.data.get(key)

    def put(self, key: str, value: bytes) -> None:
        self.data[key] = value
        self.data.move_to_end(key)
        if len(self.data) > self.size:
            self.data.popitem(last=False)

    def drop(self, key: str) -> None:
        self.data.pop(key, None)


def _needs_subscriber(menu: Menu) -> bool:
    return len(menu.languages) > 1 or menu.resume.policy != "restart"


class HopPipeline:
    def __init__(
        self,
        registry: MenuRegistry,
        store: SessionStore,
        engine: Engine,
        pseudonym: Pseudonymizer,
        deadline: float = 5.0,
        network_engines: Mapping[str, Engine] | None = None,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.registry = registry
        self.store = store
        self.engine = engine
        self.network_engines = dict(network_engines or {})
        self.pseudonym = pseudonym
        self.deadline = deadline
        self._cache = _Cache(cache_size)
        self._locks: dict[str, list[object]] = {}

    async def handle(self, request: UssdRequest) -> HopResult:
        """Answer one hop. Never raises: every failure becomes a readable END."""
        key = keys.session(request.provider, request.session_id)
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = [asyncio.Lock(), 0]
        lock: asyncio.Lock = entry[0]  # type: ignore[assignment]
        entry[1] = int(entry[1]) + 1  # type: ignore[call-overload]
        try:
            if lock.locked():  # only a concurrent hop of this session pays for a timer
                async with asyncio.timeout(self.deadline):
                    await lock.acquire()
            else:
                await lock.acquire()
            try:
                return await self._handle(request, key)
            finally:
                lock.release()
        except TimeoutError:
            return self.failure(request, "timeout", "busy", self._forget(key))
        except StoreUnavailable:
            return self.failure(request, "store_unavailable", "error", self._forget(key))
        except HopError:
            return self.failure(request, "menu_error", "error", self._forget(key))
        finally:
            entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
            if entry[1] == 0:
                self._locks.pop(key, None)

    def _forget(self, key: str) -> str | None:
        """Drop the cached session after a failure; its language, if it was known."""
        raw = self._cache.get(key)
        self._cache.drop(key)
        return SessionState.decode(raw).language if raw is not None else None

    def failure(
        self, request: UssdRequest, outcome: str, text: str, language: str | None = None
    ) -> HopResult:
        """A readable END for ``outcome``, in the subscriber's language where it is known."""
        resolved = self.registry.resolve(request.service_code)
        menu = resolved[0] if resolved else None
        language = language or (menu.default_language if menu else "en")
        reply = Reply(message(text, language, menu.messages if menu else None), end=True)
        return HopResult(reply, outcome, menu.id if menu else "", language=language)

    def _engine(self, request: UssdRequest) -> Engine:
        return self.network_engines.get(request.network_code, self.engine)

    async def _handle(self, request: UssdRequest, key: str) -> HopResult:
        round_trips = 0
        start: StartContext | None = None
        raw = self._cache.get(key)
        if raw is None:
            if request.cumulative and request.text == "":
                # A first hop skips the session read: creating is a compare-and-set against
                # "absent", which hands back the stored session if this is a retry.
                start = await self._start_context(request)
                round_trips += start is not None
            else:
                # Not seen here: read the session, and (in the same round trip) what a new
                # session would need, in case this is a first hop carrying a shortcut.
                raw, start = await self._load_with_start(request, key)
                round_trips += 1
        effects_sent: list[Command] = []
        for _ in range(MAX_ATTEMPTS):
            session = SessionState.decode(raw) if raw is not None else None
            result, changed = self._step(request, session, start)
            result.round_trips = round_trips
            if changed is None:
                if effects_sent and session is not None:
                    round_trips += await self._repair_effects(request, session, effects_sent)
                    result.round_trips = round_trips
                return result
            read_rev = session.rev if session is not None else 0
            value = changed.encode(read_rev + 1)
            language_before = None if _writes_language(effects_sent) else result.language_before
            effects = self._effects(request, changed, language_before, start)
            saved = await self.store.save(key, read_rev, value, effects)
            round_trips += 1
            result.round_trips = round_trips
            if saved == SAVED:
                self._cache.put(key, value)
                return result
            effects_sent += effects
            raw = None if saved == EXPIRED else saved  # type: ignore[assignment]
            if raw is None and start is None:
                start = await self._start_context(request)
                round_trips += start is not None
        raise SessionConflict(f"session {request.session_id} kept changing")

    async def _load_with_start(
        self, request: UssdRequest, key: str
    ) -> tuple[bytes | None, StartContext | None]:
        """The stored session and, for menus that remember subscribers, the start context."""
        if not self._start_needs_lookup(request):
            return await self.store.load(key), None
        return await asyncio.gather(self.store.load(key), self._start_context(request))

    async def _repair_effects(
        self, request: UssdRequest, stored: SessionState, sent: list[Command]
    ) -> int:
        """Undo side effects of a hop that lost its compare-and-set to a concurrent copy.

        The loser's effects may have reached Redis after the winner's; rewrite what the
        stored (winning) session implies. Costs a round trip, only on a lost race.
        """
        language_before = None if _writes_language(sent) else stored.language
        effects = self._effects(request, stored, language_before, None, force=True)
        if not effects:
            return 0
        await self.store.apply(effects)
        return 1

    def _start_needs_lookup(self, request: UssdRequest) -> bool:
        resolved = self.registry.resolve(request.service_code)
        return resolved is not None and _needs_subscriber(resolved[0])

    async def _start_context(self, request: UssdRequest) -> StartContext | None:
        resolved = self.registry.resolve(request.service_code)
        if resolved is None or not _needs_subscriber(resolved[0]):
            return None
        menu = resolved[0]
        pseudonym = self.pseudonym(request.phone_number)
        resume_key = (
            keys.resume_point(pseudonym, menu.id) if menu.resume.policy != "restart" else None
        )
        language, resume_point = await self.store.load_start(keys.subscriber(pseudonym), resume_key)
        return StartContext(pseudonym, language, resume_point)

    def _effects(
        self,
        request: UssdRequest,
        session: SessionState,
        language_before: str | None,
        start: StartContext | None,
        force: bool = False,
    ) -> list[Command]:
        """Writes that go with this save: the remembered language, the resume point.

        The language is written when it differs from ``language_before`` (``None``: always).
        ``force`` rewrites the resume point even while a resume offer is pending.
        """
        menu = self.registry.version(session.menu_id, session.version)
        if menu is None or not _needs_subscriber(menu):
            return []
        pseudonym = start.pseudonym if start else self.pseudonym(request.phone_number)
        effects: list[Command] = []
        if len(menu.languages) > 1 and session.language != language_before:
            subscriber = keys.subscriber(pseudonym)
            effects += [
                (b"HSET", subscriber, b"lang", session.language),
                (b"EXPIRE", subscriber, keys.SUBSCRIBER_TTL),
            ]
        if menu.resume.policy != "restart" and (session.offer is None or force):
            point = keys.resume_point(pseudonym, menu.id)
            if session.ended:
                effects.append((b"DEL", point))
            elif session.offer is None:
                snapshot = SessionState(menu.id, session.version, session.language, 0.0)
                snapshot.restore(session.snapshot())
                effects.append((b"SET", point, snapshot.encode(0), b"EX", menu.resume.within))
            else:
                snapshot = SessionState(menu.id, session.offer["v"], session.language, 0.0)
                snapshot.restore(session.offer)
                effects.append((b"SET", point, snapshot.encode(0), b"EX", menu.resume.within))
        return effects

    def _step(
        self, request: UssdRequest, session: SessionState | None, start: StartContext | None
    ) -> tuple[HopResult, SessionState | None]:
        """Compute this hop's reply; the second item is the session to save, if it changed."""
        if session is None:
            return self._start(request, start)
        menu = self.registry.version(session.menu_id, session.version)
        before = session.state
        stored = Reply(session.reply[4:], session.reply.startswith("END"))
        result = HopResult(
            stored,
            "duplicate",
            session.menu_id,
            before,
            before,
            language=session.language,
            language_before=session.language,
        )
        text = request.text
        if request.cumulative:
            if text == session.transcript:
                return result, None
            if session.transcript and not text.startswith(session.transcript + "*"):
                result.outcome = "stale"
                return result, None
            answer = text[len(session.transcript) + 1 :] if session.transcript else text
        else:
            answer = text
        if session.ended:
            result.outcome = "after_end"
            return result, None
        if menu is None:
            raise HopError(f"menu {session.menu_id!r} is no longer loaded")
        if session.state not in menu.screens:  # its version was dropped and the screen renamed
            raise HopError(f"screen {session.state!r} is gone from menu {menu.id!r}")
        engine = self._engine(request)
        if session.offer is not None:
            reply, result.outcome = self._answer_offer(menu, session, engine, answer.strip())
        else:
            reply = engine.answer(menu, session, answer)
            result.outcome = "end" if reply.end else "continue"
        session.transcript = text if request.cumulative else _append(session.transcript, text)
        self._finish(session, reply)
        result.reply = reply
        result.state_after = session.state
        result.language = session.language
        return result, session

    def _start(
        self, request: UssdRequest, start: StartContext | None
    ) -> tuple[HopResult, SessionState | None]:
        resolved = self.registry.resolve(request.service_code)
        if resolved is None:
            reply = Reply(message("unknown_service", "en"), end=True)
            return HopResult(reply, "unknown_service"), None
        menu, shortcut = resolved
        language = menu.default_language
        if start and start.language in menu.languages:
            language = start.language
        session = SessionState(menu.id, menu.version, language, time.time())
        language_before = language  # a shortcut that picks a language is remembered
        engine = self._engine(request)
        outcome = "new"
        inputs = shortcut + (request.text.split("*") if request.text else [])
        point = start.resume_point if start else None
        if point is not None and not inputs and menu.resume.policy != "restart":
            reply, outcome = self._offer_or_resume(menu, session, engine, point)
        else:
            reply = self._walk(menu, session, engine, engine.begin(menu, session), inputs)
        session.transcript = request.text
        self._finish(session, reply)
        if reply.end:
            outcome = "end"
        return HopResult(
            reply,
            outcome,
            menu.id,
            "",
            session.state,
            language=session.language,
            language_before=language_before,
        ), session

    def _offer_or_resume(
        self, menu: Menu, session: SessionState, engine: Engine, point: bytes
    ) -> tuple[Reply, str]:
        snapshot = SessionState.decode(point).snapshot()
        resumed = self._resumable(menu, snapshot)
        if resumed is None:
            return engine.begin(menu, session), "new"
        if menu.resume.policy == "resume":
            session.restore(snapshot)
            return engine.render(resumed, session), "resumed"
        session.offer = snapshot
        session.state = menu.start
        session.language = snapshot["l"]
        prompt = message("resume_prompt", session.language, menu.messages)
        return Reply(prompt, end=False), "resume_offered"

    def _resumable(self, menu: Menu, snapshot: dict[str, Any]) -> Menu | None:
        """The menu version a snapshot can resume on, if this gateway has it and its screen."""
        resumed = self.registry.version(menu.id, snapshot["v"])
        if resumed is None or snapshot["s"] not in resumed.screens:
            return None
        return resumed

    def _answer_offer(
        self, menu: Menu, session: SessionState, engine: Engine, choice: str
    ) -> tuple[Reply, str]:
        snapshot = session.offer
        assert snapshot is not None
        if choice == RESUME_YES:
            session.offer = None
            resumed = self._resumable(menu, snapshot)
            if resumed is None:  # offered by a gateway that still had it (a rolling deploy)
                return engine.begin(menu, session), "restarted"
            session.restore(snapshot)
            return engine.render(resumed, session), "resumed"
        if choice == RESUME_RESTART:
            session.offer = None
            return engine.begin(menu, session), "restarted"
        return Reply(
            message("resume_prompt", session.language, menu.messages), end=False
        ), "resume_offered"

    @staticmethod
    def _walk(
        menu: Menu, session: SessionState, engine: Engine, reply: Reply, inputs: list[str]
    ) -> Reply:
        """Apply dialled shortcut digits (``*384*123*2#``) as if typed, stopping at an END."""
        for token in inputs:
            if reply.end:
                break
            reply = engine.answer(menu, session, token)
        return reply

    @staticmethod
    def _finish(session: SessionState, reply: Reply) -> None:
        session.reply = reply.prefix + reply.text
        session.hops += 1


def _writes_language(effects: list[Command]) -> bool:
    return any(command[0] == b"HSET" for command in effects)


def _append(transcript: str, text: str) -> str:
    return f"{transcript}*{text}" if transcript else text
