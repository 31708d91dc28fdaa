"""Step a session through a compiled menu: navigation, transitions, rendering.

Pure and synchronous: no I/O. The hop pipeline (``gateway.hops``) loads, performs effects and
saves. What each screen does is its kind's (``gateway.menu.screens``); the engine provides what
every kind shares: Back/Home/More, advancing the state machine, following pass-through screens,
re-prompting, and rendering with the one ``Renderer``. The budget is what the subscriber's
screen holds, less what the channel's wire format uses.

A step returns a ``Step``: the reply, or — when a pass-through screen needs the outside world
(a webhook) — the effect to perform first; ``resume`` then continues with its result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.channels.base import Reply
from gateway.errors import HopError
from gateway.menu.compiler import fire
from gateway.menu.effects import Effect, EffectResult
from gateway.menu.model import Menu, Screen
from gateway.menu.render import Renderer
from gateway.menu.screens import kind_of
from gateway.menu.screens.base import ROUTE
from gateway.menu.state import SessionState
from gateway.text import Budget

MAX_AUTOMATIC_STEPS = 32


@dataclass(slots=True, init=False)
class Step:
    """What a step produced: the ``reply``, or (``reply`` is ``None``) an ``effect`` to perform
    before the menu can go on. Read-only by convention (made every hop: not ``frozen``;
    ``__init__`` written out for the compiled build, as ``Reply``'s)."""

    reply: Reply | None
    effect: Effect | None = None

    def __init__(self, reply: Reply | None, effect: Effect | None = None) -> None:
        self.reply = reply
        self.effect = effect


class Engine:
    """Turns (menu, session, input) into the next screen. One per budget; stateless."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()
        self.renderer = Renderer(self.budget)

    # --- steps ------------------------------------------------------------------------------

    def begin(self, menu: Menu, session: SessionState) -> Step:
        """Show the start screen (following pass-through screens)."""
        self.restart(menu, session)
        return self._step(self.render(menu, session), session)

    def answer(self, menu: Menu, session: SessionState, raw: str) -> Step:
        """Apply one input to the current screen and show the screen that follows."""
        screen = menu.screens[session.state]
        kind = kind_of(screen)
        if kind.mode != "ask":
            return self._step(self.render(menu, session), session)
        return self._step(kind.answer(self, menu, session, screen, raw), session)

    def resume(self, menu: Menu, session: SessionState, result: EffectResult) -> Step:
        """Continue after the effect of the current (pass-through) screen was performed."""
        screen = menu.screens[session.state]
        session.effect = None
        kind_of(screen).resume(self, menu, session, screen, result)
        self._follow(menu, session)
        return self._step(self.render(menu, session), session)

    @staticmethod
    def _step(reply: Reply, session: SessionState) -> Step:
        return Step(None, session.effect) if session.effect is not None else Step(reply)

    # --- what kinds share -------------------------------------------------------------------

    def restart(self, menu: Menu, session: SessionState) -> None:
        """Go to the start screen (following pass-through screens)."""
        session.state = menu.start
        session.page = 0
        self._follow(menu, session)

    def next_page(
        self, menu: Menu, session: SessionState, screen: Screen, key: str
    ) -> Reply | None:
        """The next page, if ``key`` is More and the screen has one."""
        nav = menu.navigation
        if (
            nav.enabled
            and kind_of(screen).navigable(screen)
            and key == nav.more
            and session.page + 1 < len(self.pages(menu, session, session.invalid))
        ):
            session.page += 1
            return self.render(menu, session, invalid=session.invalid)
        return None

    def navigate(self, menu: Menu, session: SessionState, screen: Screen, key: str) -> Reply | None:
        """More, Back (a page, then a screen) or Home, if ``key`` is one of them here."""
        nav = menu.navigation
        if not nav.enabled or not kind_of(screen).navigable(screen):
            return None
        paged = self.next_page(menu, session, screen, key)
        if paged:
            return paged
        if key == nav.back and session.page > 0:
            session.page -= 1
            return self.render(menu, session, invalid=session.invalid)
        if key == nav.back and session.history:
            session.state = session.history.pop()
            session.page = 0
        elif key == nav.home and session.state != menu.start:
            session.history.clear()
            self.restart(menu, session)
        else:
            return None
        return self.render(menu, session)

    def advance(self, menu: Menu, session: SessionState, event: str, **kwargs: Any) -> Reply:
        """Take ``event`` out of the current screen, follow pass-through screens, render."""
        came_from = session.state
        if not fire(menu.machine, event, session, **kwargs):
            raise HopError(f"no transition {event!r} from screen {came_from!r}")
        session.push_history(came_from)
        session.page = 0
        self._follow(menu, session)
        return self.render(menu, session)

    def route(self, menu: Menu, session: SessionState, event: str = ROUTE, **kwargs: Any) -> None:
        """Leave a pass-through screen by its first transition whose conditions hold."""
        screen = menu.screens[session.state]
        if not fire(menu.machine, event, session, **kwargs):
            raise HopError(f"{screen.kind} {screen.id!r}: no route matched")

    @staticmethod
    def defer(session: SessionState, effect: Effect) -> None:
        """Have ``effect`` performed after this hop's reply (nothing waits for its result)."""
        session.later.append(effect)

    def reprompt(self, menu: Menu, session: SessionState) -> Reply:
        """A wrong answer: the screen again. With an ``invalid`` text, from the first page, which
        opens with it; without one, the subscriber stays on the page they were reading."""
        screen = menu.screens[session.state]
        kind = kind_of(screen)
        if kind.header(screen, True) is not kind.header(screen, False):
            session.page = 0
        return self.render(menu, session, invalid=True)

    def _follow(self, menu: Menu, session: SessionState) -> None:
        """Pass through router/set screens; stop at one that needs an effect performed."""
        for _ in range(MAX_AUTOMATIC_STEPS):
            screen = menu.screens[session.state]
            kind = kind_of(screen)
            if kind.mode != "pass":
                arrived = kind.arrive(self, menu, session, screen)  # a survey loads its respondent
                if arrived is not None:
                    session.effect = arrived
                return
            effect = kind.enter(self, menu, session, screen)
            if effect is not None:
                session.effect = effect
                return
        raise HopError(
            f"more than {MAX_AUTOMATIC_STEPS} pass-through screens in a row "
            f"(a loop?) at {session.state!r}"
        )

    # --- rendering --------------------------------------------------------------------------

    def pages(self, menu: Menu, session: SessionState, invalid: bool = False) -> list[str]:
        """The current screen's pages (cached per language for screens without variables)."""
        screen = menu.screens[session.state]
        history = bool(session.history)
        if session.state not in menu.static_screens:
            return self.renderer.pages(menu, screen, session.language, session.vars,
                                       invalid=invalid, history=history)  # fmt: skip
        key = (session.state, session.language, invalid, history, self.budget)
        pages = menu.page_cache.get(key)
        if pages is None:
            pages = menu.page_cache[key] = self.renderer.pages(
                menu, screen, session.language, session.vars, invalid=invalid, history=history
            )
        return pages

    def render(self, menu: Menu, session: SessionState, invalid: bool = False) -> Reply:
        """The reply for the session's current screen and page.

        ``invalid`` shows the screen's ``invalid`` text; paging keeps that pagination so that
        "More" after a re-prompt neither skips nor repeats an option.
        """
        screen = menu.screens[session.state]
        pages = self.pages(menu, session, invalid)
        session.invalid = invalid
        session.page = min(session.page, len(pages) - 1)
        end = kind_of(screen).ends(screen, session.vars)
        session.ended = end
        return Reply(pages[session.page], end)
