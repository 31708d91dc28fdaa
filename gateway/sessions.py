"""The hop pipeline: load session → dedupe/serialize → step the menu → compare-and-set save.

Round trips per hop: one on the common path (the compare-and-set write, which also creates the
session on a first hop), two when this process has not seen an ongoing session before (a read
first). A small in-process cache holds the last value
this process wrote for each live session; it is only a guess — the Lua compare-and-set checks
the stored version, and on a mismatch the hop is recomputed from the value Redis returns, so
several gateway processes behind a load balancer stay correct.

Guarantees:
- A retried hop (same session, same transcript) gets the stored reply and changes nothing.
- Two concurrent hops of one session are serialized (a per-session lock in a process, the
  compare-and-set across processes); neither is applied twice or lost.
- A late copy of an older hop gets the current reply and changes nothing.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

from gateway.channels.base import UssdRequest
from gateway.errors import HopError, SessionConflict, StoreUnavailable
from gateway.menu.engine import Engine, Reply
from gateway.menu.messages import message
from gateway.menu.model import Menu
from gateway.menu.registry import MenuRegistry
from gateway.menu.state import SessionState
from gateway.store import keys
from gateway.store.session_store import EXPIRED, SAVED, SessionStore

CACHE_SIZE = 50_000
MAX_ATTEMPTS = 4


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


class HopPipeline:
    def __init__(
        self,
        registry: MenuRegistry,
        store: SessionStore,
        engine: Engine,
        deadline: float = 5.0,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.registry = registry
        self.store = store
        self.engine = engine
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
            self._cache.drop(key)
            return self.failure(request, "timeout", "busy")
        except StoreUnavailable:
            self._cache.drop(key)
            return self.failure(request, "store_unavailable", "error")
        except HopError:
            self._cache.drop(key)
            return self.failure(request, "menu_error", "error")
        finally:
            entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
            if entry[1] == 0:
                self._locks.pop(key, None)

    def failure(self, request: UssdRequest, outcome: str, text: str) -> HopResult:
        resolved = self.registry.resolve(request.service_code)
        menu = resolved[0] if resolved else None
        language = menu.default_language if menu else "en"
        reply = Reply(message(text, language, menu.messages if menu else None), end=True)
        return HopResult(reply, outcome, menu.id if menu else "", language=language)

    async def _handle(self, request: UssdRequest, key: str) -> HopResult:
        round_trips = 0
        raw = self._cache.get(key)
        if raw is None and not (request.cumulative and request.text == ""):
            # A first hop skips the read: creating is a compare-and-set against "absent",
            # which hands back the stored session if this turns out to be a retry.
            raw = await self.store.load(key)
            round_trips += 1
        for _ in range(MAX_ATTEMPTS):
            session = SessionState.decode(raw) if raw is not None else None
            result, changed = self._step(request, session)
            result.round_trips = round_trips
            if changed is None:
                return result
            read_rev = session.rev if session is not None else 0
            value = changed.encode(read_rev + 1)
            saved = await self.store.save(key, read_rev, value)
            round_trips += 1
            result.round_trips = round_trips
            if saved == SAVED:
                self._cache.put(key, value)
                return result
            raw = None if saved == EXPIRED else saved  # type: ignore[assignment]
        raise SessionConflict(f"session {request.session_id} kept changing")

    def _step(
        self, request: UssdRequest, session: SessionState | None
    ) -> tuple[HopResult, SessionState | None]:
        """Compute this hop's reply; the second item is the session to save, if it changed."""
        if session is None:
            return self._start(request)
        menu = self.registry.version(session.menu_id, session.version)
        before = session.state
        stored = Reply(session.reply[4:], session.reply.startswith("END"))
        result = HopResult(
            stored, "duplicate", session.menu_id, before, before, language=session.language
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
        reply = self.engine.answer(menu, session, answer)
        session.transcript = text if request.cumulative else _append(session.transcript, text)
        self._finish(session, reply)
        result.reply = reply
        result.outcome = "end" if reply.end else "continue"
        result.state_after = session.state
        return result, session

    def _start(self, request: UssdRequest) -> tuple[HopResult, SessionState | None]:
        resolved = self.registry.resolve(request.service_code)
        if resolved is None:
            reply = Reply(message("unknown_service", "en"), end=True)
            return HopResult(reply, "unknown_service"), None
        menu, shortcut = resolved
        session = SessionState(menu.id, menu.version, menu.default_language, time.time())
        reply = self.engine.begin(menu, session)
        inputs = shortcut + (request.text.split("*") if request.text else [])
        reply = self._walk(menu, session, reply, inputs)
        session.transcript = request.text
        self._finish(session, reply)
        outcome = "end" if reply.end else "new"
        return HopResult(
            reply, outcome, menu.id, "", session.state, language=session.language
        ), session

    def _walk(self, menu: Menu, session: SessionState, reply: Reply, inputs: list[str]) -> Reply:
        """Apply dialled shortcut digits (``*384*123*2#``) as if typed, stopping at an END."""
        for token in inputs:
            if reply.end:
                break
            reply = self.engine.answer(menu, session, token)
        return reply

    @staticmethod
    def _finish(session: SessionState, reply: Reply) -> None:
        session.reply = reply.prefix + reply.text
        session.hops += 1


def _append(transcript: str, text: str) -> str:
    return f"{transcript}*{text}" if transcript else text
