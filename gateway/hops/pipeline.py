"""The hop pipeline: load session → dedupe/serialize → step the menu → compare-and-set save.

Round trips per hop (see docs/architecture.md):
- one on the common path: the compare-and-set write (on a first hop, ``SET NX``), with what the
  subscriber leaves behind (resume point, remembered language) pipelined in the same trip;
- two when this process has not seen an ongoing session before (a read first, which for menus
  that remember subscribers also fetches their language and resume point), or on the first
  hop of such a menu;
- one more, rarely, when a compare-and-set loses to a concurrent copy of the hop on another
  process (the loser rewrites the subscriber writes it sent from the winning value), or a
  first hop finds its session already created (a retry: it reads what is stored).

A small in-process cache holds the last value this process wrote for each live session; it is
only a guess — the Lua compare-and-set checks the stored version, and on a mismatch the hop is
recomputed from the value Redis returns, so several gateway processes stay correct.

Guarantees:
- A retried hop (same session, same transcript or hop id) gets the stored reply and changes
  nothing.
- Two concurrent hops of one session are serialized (a per-session lock in a process, the
  compare-and-set across processes); neither is applied twice or lost.
- A late copy of an older hop (a shorter transcript, or a lower hop number) gets the current
  reply and changes nothing.
- A session dropped before its END can be resumed (``hops.resume``); one that reached an END
  never resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from gateway import logs, metrics
from gateway.channels.base import Reply, UssdRequest
from gateway.errors import HopError, SessionConflict, StoreError
from gateway.funnel.counts import FunnelCounts
from gateway.hops.effects import EffectRunner, HopContext
from gateway.hops.memory import remembers, writes_for
from gateway.hops.result import HopResult, SessionView, StartContext
from gateway.hops.resume import Resumer
from gateway.lifecycle.hook import Activity
from gateway.menu.engine import Engine, Step
from gateway.menu.messages import message
from gateway.menu.model import Menu
from gateway.menu.registry import MenuRegistry
from gateway.menu.state import SessionState
from gateway.privacy import Pseudonymizer
from gateway.store import keys
from gateway.store.session_store import EXPIRED, SAVED, SessionStore, SubscriberWrites
from gateway.text import Budget
from gateway.turns import Turns

log = logs.get_logger("gateway")


_HOP_LINE_KNOWN = frozenset(("channel", "subscriber", "outcome"))
"""Fields of the ``ussd_hop`` line the gateway makes itself: a channel name, a pseudonym
(``p_`` + hex: its digits always follow a word character, so never number-shaped) and an
outcome word; the rest (session id, network, menu and screen ids) are scanned for numbers."""
CACHE_SIZE = 50_000
MAX_ATTEMPTS = 4
MAX_EFFECTS = 8
"""Effects one hop may perform (webhook screens in a row, say) before it is a menu error."""
DEFAULT_LIMITS = (160, 70)

Resolved = tuple[Menu, list[str]] | None
"""A dialled service code resolved once per hop: the menu and the extra dialled digits."""
Computed = tuple[HopResult, SessionState | None]
"""A hop's result, and the session to save (``None``: nothing changed)."""


class _Hop:
    """One hop being answered: resolved once, passed along (a plain class: a frozen dataclass's
    ``__init__`` cost a µs of every hop)."""

    __slots__ = ("deadline", "engine", "key", "request", "resolved", "trips")

    def __init__(
        self, request: UssdRequest, key: str, resolved: Resolved, deadline: float, engine: Engine
    ) -> None:
        self.request = request
        self.key = key
        self.resolved = resolved
        self.deadline = deadline
        """``time.monotonic()`` by which it must be answered (effects get what is left)."""
        self.engine = engine
        self.trips = 0
        """Redis round trips the hop's effects made (a survey reading its respondent), counted
        in the ``ussd_hop`` line with the pipeline's own."""


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
        pseudonym: Pseudonymizer,
        deadline: float = 5.0,
        screen_limits: Mapping[str, tuple[int, int]] | None = None,
        effects: EffectRunner | None = None,
        cache_size: int = CACHE_SIZE,
        funnel: FunnelCounts | None = None,
    ) -> None:
        self.registry = registry
        self.effects = effects or EffectRunner({})
        self.store = store
        self.pseudonym = pseudonym
        self.deadline = deadline
        self.screen_limits = dict(screen_limits or {"default": DEFAULT_LIMITS})
        self.resumer = Resumer(registry)
        self.funnel = funnel or FunnelCounts()
        self._engines: dict[Budget, Engine] = {}
        self._engine_for: dict[tuple[str, int], Engine] = {}
        """(configured network or ``default``, channel overhead) → engine: bounded by the
        configuration, whatever network codes callers send."""
        self._cache = _Cache(cache_size)
        self._turns = Turns()
        self.activity: Activity | None = None
        """Lifecycle hook (``lifecycle.recorder``): told of each session's first hop."""
        self.dialled: Callable[[str, str], None] | None = None
        """Told (pseudonym, service code) of each session's first hop (ad clicks)."""

    async def answer(self, request: UssdRequest) -> HopResult:
        """Answer one hop and write its canonical ``ussd_hop`` log line. Never raises: every
        failure, a bug included, becomes a readable END (one coroutine: each level more cost
        every hop a frame and a resumption)."""
        started = time.perf_counter()
        try:
            key = keys.session(request.provider, request.session_id)
            resolved = self.registry.resolve(request.service_code)
            hop = _Hop(request, key, resolved, time.monotonic() + self.deadline,
                       self.engine(request))  # fmt: skip
            if request.first:
                self._first_hop(request)
            turns = self._turns
            try:
                if not turns.take_now(key):  # only a concurrent hop of this session waits
                    async with asyncio.timeout(self.deadline):
                        await turns.take(key)
                try:
                    result = await self._handle(hop)
                finally:
                    turns.give_back(key)
            except TimeoutError:
                result = self.failure(request, resolved, "timeout", "busy", self._forget(key))
            except StoreError:
                result = self.failure(request, resolved, "store_unavailable", "error",
                                      self._forget(key))  # fmt: skip
            except HopError:
                result = self.failure(request, resolved, "menu_error", "error", self._forget(key))
        except Exception:  # the boundary: a subscriber always gets a readable END
            log.exception("ussd_hop_crashed", session_id=request.session_id)
            result = self.failure(request, self.registry.resolve(request.service_code),
                                  "crash", "error")  # fmt: skip
        elapsed = time.perf_counter() - started
        logs.emit(
            "ussd_hop",
            _HOP_LINE_KNOWN,
            channel=request.provider,
            session_id=request.session_id,
            subscriber=self.pseudonym(request.phone_number),
            network=request.network_code,
            menu=result.menu_id,
            state_before=result.state_before,
            state_after=result.state_after,
            outcome=result.outcome,
            redis_round_trips=result.round_trips,
            latency_ms=round(elapsed * 1000, 3),
        )
        metrics.count_hop(request.provider, result.menu_id, result.outcome, elapsed)
        return result

    def _first_hop(self, request: UssdRequest) -> None:
        """Tell the hooks a session starts (each schedules its own write, never raises)."""
        pseudonym = self.pseudonym(request.phone_number)
        if self.activity is not None:
            self.activity.record(pseudonym, "ussd")
        if self.dialled is not None:
            self.dialled(pseudonym, request.service_code)

    async def peek(self, provider: str, session_id: str) -> SessionView | None:
        """Where a session stands, read from Redis and left unchanged; ``None`` when there is
        none (never started, or expired). For end-of-session notices: the last screen, hop
        count and duration (Hubtel's in-band ``Release``) and where a dropped session stood
        (funnel reports). Raises ``StoreError`` when Redis cannot be read."""
        raw = await self.store.load(keys.session(provider, session_id))
        if raw is None:
            return None
        session = SessionState.decode(raw)
        return SessionView(
            Reply(session.reply, session.ended), session.menu_id, session.hops, session.started,
            session.state, session.touched,
        )  # fmt: skip

    def _forget(self, key: str) -> str | None:
        """Drop the cached session after a failure; its language, if it was known."""
        raw = self._cache.get(key)
        self._cache.drop(key)
        return SessionState.decode(raw).language if raw is not None else None

    @staticmethod
    def failure(
        request: UssdRequest,
        resolved: Resolved,
        outcome: str,
        text: str,
        language: str | None = None,
    ) -> HopResult:
        """A readable END for ``outcome``, in the subscriber's language where it is known."""
        menu = resolved[0] if resolved else None
        language = language or (menu.default_language if menu else "en")
        reply = Reply(message(text, language, menu.messages if menu else None), end=True)
        return HopResult(reply, outcome, menu.id if menu else "", language=language)

    def engine(self, request: UssdRequest) -> Engine:
        """The engine for this network's screen, less what the channel's wire format uses.

        Engines are cached by budget, not by network code: the code comes from the caller,
        and an unknown one gets the default screen."""
        network = request.network_code
        if network not in self.screen_limits:
            network = "default"
        known = self._engine_for.get((network, request.screen_overhead))
        if known is not None:
            return known
        limits = self.screen_limits.get(network, DEFAULT_LIMITS)
        overhead = request.screen_overhead
        budget = Budget(limits[0] - overhead, limits[1] - overhead)
        engine = self._engines.get(budget)
        if engine is None:
            engine = self._engines[budget] = Engine(budget)
        self._engine_for[network, overhead] = engine
        return engine

    async def _handle(self, hop: _Hop) -> HopResult:
        request, key = hop.request, hop.key
        round_trips = 0
        start: StartContext | None = None
        raw = self._cache.get(key)
        if raw is None:
            if request.first:
                # A first hop skips the session read: creating is a compare-and-set against
                # "absent", which hands back the stored session if this is a retry.
                if hop.resolved is not None and remembers(hop.resolved[0]):
                    start = await self._start_context(request, hop.resolved)
                    round_trips += start is not None
            else:
                # Not seen here: read the session, and (in the same round trip) what a new
                # session would need, in case this is a first hop carrying a shortcut.
                raw, start = await self._load_with_start(request, key, hop.resolved)
                round_trips += 1
        writes_sent: list[SubscriberWrites] = []
        for _ in range(MAX_ATTEMPTS):
            session = SessionState.decode(raw) if raw is not None else None
            paging_invalid = session is not None and session.invalid and session.page != 0
            computed = self._compute(hop, session, start)
            result, changed = (
                computed if computed.__class__ is tuple else await computed  # type: ignore[misc]
            )
            result.round_trips = round_trips + hop.trips
            if changed is None:
                if writes_sent and session is not None:
                    round_trips += await self._repair(request, session, writes_sent)
                    result.round_trips = round_trips + hop.trips
                return result
            read_rev = session.rev if session is not None else 0
            value = changed.encode(read_rev + 1)
            wrote_language = bool(writes_sent) and any(w.language is not None for w in writes_sent)
            writes = self._writes(request, changed, None if wrote_language else
                                  result.language_before, start)  # fmt: skip
            saved = await self.store.save(key, read_rev, value, writes, changed.rides)
            round_trips += 1
            result.round_trips = round_trips + hop.trips
            if saved == SAVED:
                self._cache.put(key, value)
                self._perform_later(hop, changed)
                # A refused answer re-prompts on page 0; turning the re-prompt's pages is not one.
                refused = changed.invalid and changed.page == 0 and not paging_invalid
                self.funnel.hop(result.menu_id, result.outcome, result.state_before,
                                result.state_after, refused)  # fmt: skip
                return result
            if writes is not None:
                writes_sent.append(writes)
            raw = None if saved == EXPIRED else saved  # type: ignore[assignment]
            if raw is None and start is None:
                start = await self._start_context(request, hop.resolved)
                round_trips += start is not None
        raise SessionConflict(f"session {request.session_id} kept changing")

    async def _load_with_start(
        self, request: UssdRequest, key: str, resolved: Resolved
    ) -> tuple[bytes | None, StartContext | None]:
        """The stored session and, for menus that remember subscribers, the start context."""
        if resolved is None or not remembers(resolved[0]):
            return await self.store.load(key), None
        # gather's result is a list, though typed a tuple (and compiled code checks types)
        both = await cast(Any, asyncio.gather(self.store.load(key),
                                              self._start_context(request, resolved)))  # fmt: skip
        return both[0], both[1]

    async def _repair(
        self, request: UssdRequest, stored: SessionState, sent: list[SubscriberWrites]
    ) -> int:
        """Undo the subscriber writes of a hop that lost its compare-and-set to a concurrent
        copy: they may have reached Redis after the winner's, so rewrite what the stored
        (winning) session implies. Costs a round trip, only on a lost race."""
        wrote_language = any(w.language is not None for w in sent)
        writes = self._writes(request, stored, None if wrote_language else stored.language, None,
                              force=True)  # fmt: skip
        if writes is None:
            return 0
        await self.store.apply(writes)
        return 1

    async def _start_context(self, request: UssdRequest, resolved: Resolved) -> StartContext | None:
        if resolved is None or not remembers(resolved[0]):
            return None
        menu = resolved[0]
        pseudonym = self.pseudonym(request.phone_number)
        resume_menu = menu.id if menu.resume.policy != "restart" else None
        language, resume_point = await self.store.load_start(pseudonym, resume_menu)
        return StartContext(pseudonym, language, resume_point)

    def _writes(
        self,
        request: UssdRequest,
        session: SessionState,
        language_before: str | None,
        start: StartContext | None,
        force: bool = False,
    ) -> SubscriberWrites | None:
        menu = self.registry.version(session.menu_id, session.version)
        if menu is None or not remembers(menu):
            return None
        pseudonym = start.pseudonym if start else self.pseudonym(request.phone_number)
        return writes_for(menu, session, pseudonym, language_before, force=force)

    def _compute(
        self, hop: _Hop, session: SessionState | None, start: StartContext | None
    ) -> Computed | Awaitable[Computed]:
        """Compute this hop's reply: the result and the session to save, if it changed; an
        awaitable of them when a screen needs an effect performed first (a webhook, …) or a
        session starts. The common hop (an answer on a plain screen) is computed here, without
        a coroutine."""
        request = hop.request
        if session is None:
            return self._start(hop, start)
        menu = self.registry.version(session.menu_id, session.version)
        before = session.state
        result = HopResult(
            Reply(session.reply, session.ended),
            "duplicate",
            session.menu_id,
            before,
            before,
            language=session.language,
            language_before=session.language,
        )
        answer = self._new_input(request, session, result)
        if answer is None:
            return result, None
        if session.ended:
            result.outcome = "after_end"
            return result, None
        if menu is None:
            raise HopError(f"menu {session.menu_id!r} is no longer loaded")
        if session.state not in menu.screens:  # its version was dropped and the screen renamed
            raise HopError(f"screen {session.state!r} is gone from menu {menu.id!r}")
        engine = hop.engine
        if session.offer is not None:
            step, result.outcome = self.resumer.answer_offer(menu, session, engine, answer.strip())
            if step.reply is None:
                return self._settled(hop, menu, session, step, result, False)
        else:
            step = engine.answer(menu, session, answer)
            if step.reply is None:
                return self._settled(hop, menu, session, step, result, True)
            result.outcome = "end" if step.reply.end else "continue"
        return self._answered(request, session, result, step.reply)

    async def _settled(
        self, hop: _Hop, menu: Menu, session: SessionState, step: Step, result: HopResult,
        outcome: bool,
    ) -> Computed:  # fmt: skip
        """``_compute``'s end once the effects its step waits for are performed (``outcome``:
        the reply decides it, end or continue)."""
        reply = await self._settle(hop, menu, session, step)
        if outcome:
            result.outcome = "end" if reply.end else "continue"
        return self._answered(hop.request, session, result, reply)

    def _answered(
        self, request: UssdRequest, session: SessionState, result: HopResult, reply: Reply
    ) -> Computed:
        session.transcript = (
            request.text if request.cumulative else _append(session.transcript, request.text)
        )
        session.hop_id = request.hop_id
        self._finish(session, reply)
        result.reply = reply
        result.state_after = session.state
        result.language = session.language
        return result, session

    async def _settle(self, hop: _Hop, menu: Menu, session: SessionState, step: Step) -> Reply:
        """Perform the effects a step waits for (a webhook, …) until it has a reply (callers
        skip it, and its coroutine, when the step has its reply already)."""
        for _ in range(MAX_EFFECTS):
            if step.reply is not None:
                return step.reply
            assert step.effect is not None
            result = await self.effects.perform(step.effect, self._context(hop, session),
                                                step.effect.limit or self.deadline)  # fmt: skip
            hop.trips += result.round_trips
            step = hop.engine.resume(menu, session, result)
        raise HopError(f"more than {MAX_EFFECTS} effects in one hop at {session.state!r}")

    def _context(self, hop: _Hop, session: SessionState) -> HopContext:
        request = hop.request
        return HopContext(request.provider, request.session_id, request.phone_number,
                          self.pseudonym(request.phone_number), session.vars,
                          hop.deadline, request.network_code)  # fmt: skip

    def _perform_later(self, hop: _Hop, session: SessionState) -> None:
        """Start the effects the saved step deferred until after its reply."""
        for effect in session.later:
            self.effects.later(effect, self._context(hop, session), effect.limit or self.deadline)
        session.later = []

    @staticmethod
    def _new_input(request: UssdRequest, session: SessionState, result: HopResult) -> str | None:
        """This hop's input, or ``None`` for a retry (``duplicate``) or a late copy of an older
        hop (``stale``), which get the stored reply and change nothing."""
        if not request.cumulative:
            if request.hop_id and session.hop_id:
                if request.hop_id == session.hop_id:
                    return None
                if _older(request.hop_id, session.hop_id):
                    result.outcome = "stale"
                    return None
            return request.text
        text = request.text
        if text == session.transcript:
            return None
        if session.transcript and not text.startswith(session.transcript + "*"):
            result.outcome = "stale"
            return None
        return text[len(session.transcript) + 1 :] if session.transcript else text

    async def _start(
        self, hop: _Hop, start: StartContext | None
    ) -> tuple[HopResult, SessionState | None]:
        request, resolved, engine = hop.request, hop.resolved, hop.engine
        if resolved is None:
            reply = Reply(message("unknown_service", "en"), end=True)
            return HopResult(reply, "unknown_service"), None
        menu, shortcut = resolved
        language = menu.default_language
        if start and start.language in menu.languages:
            language = start.language
        session = SessionState(menu.id, menu.version, language, time.time())
        language_before = language  # a shortcut that picks a language is remembered
        outcome = "new"
        inputs = shortcut + _first_inputs(request)
        point = start.resume_point if start else None
        if point is not None and not inputs and menu.resume.policy != "restart":
            step, outcome = self.resumer.offer_or_resume(menu, session, engine, point)
            reply = await self._settle(hop, menu, session, step)
        else:
            step = engine.begin(menu, session)
            reply = step.reply or await self._settle(hop, menu, session, step)
            for token in inputs:  # dialled shortcut digits (*384*123*2#), as if typed
                if reply.end:
                    break
                step = engine.answer(menu, session, token)
                reply = step.reply or await self._settle(hop, menu, session, step)
        session.transcript = request.text if request.cumulative else ""
        session.hop_id = request.hop_id
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

    @staticmethod
    def _finish(session: SessionState, reply: Reply) -> None:
        session.reply = reply.text
        session.ended = reply.end
        session.hops += 1
        session.touched = time.time()


def _first_inputs(request: UssdRequest) -> list[str]:
    """Inputs carried by a session's first hop (AT: shortcut digits in ``text``)."""
    if request.cumulative:
        return request.text.split("*") if request.text else []
    return []


def _older(hop_id: str, last: str) -> bool:
    """Numbered hops (Hubtel's ``Sequence``): ``hop_id`` comes before the last one handled."""
    numbered = hop_id.isascii() and hop_id.isdigit() and last.isascii() and last.isdigit()
    return numbered and int(hop_id) < int(last)


def _append(transcript: str, text: str) -> str:
    return f"{transcript}*{text}" if transcript else text
