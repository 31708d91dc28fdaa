"""Step a session through a compiled menu: navigation, validation, transitions, rendering.

Pure and synchronous: no I/O. The hop pipeline (``gateway.hops``) loads and saves. The budget
is what the subscriber's screen holds, less what the channel's wire format uses.
"""

from __future__ import annotations

from typing import Any

from gateway.channels.base import Reply
from gateway.errors import HopError
from gateway.menu.compiler import ROUTE, SELECT, SUBMIT
from gateway.menu.messages import message
from gateway.menu.model import (
    EndScreen,
    InputScreen,
    LanguageScreen,
    Menu,
    MenuScreen,
    RouterScreen,
    Screen,
    SetScreen,
)
from gateway.menu.state import SessionState
from gateway.text import Budget, ItemTooLong, paginate

MAX_AUTOMATIC_STEPS = 32


class Engine:
    """Turns (menu, session, input) into the next screen. One per process; stateless."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()

    def begin(self, menu: Menu, session: SessionState) -> Reply:
        """Show the start screen (following routers and set screens)."""
        session.state = menu.start
        session.page = 0
        self._follow_automatic(menu, session)
        return self.render(menu, session)

    def answer(self, menu: Menu, session: SessionState, raw: str) -> Reply:
        """Apply one input to the current screen and render the screen that follows."""
        screen = menu.screens[session.state]
        if isinstance(screen, InputScreen):
            return self._answer_input(menu, session, screen, raw)
        if isinstance(screen, MenuScreen | LanguageScreen):
            return self._answer_choice(menu, session, screen, raw.strip())
        return self.render(menu, session)

    def _answer_input(
        self, menu: Menu, session: SessionState, screen: InputScreen, raw: str
    ) -> Reply:
        nav = menu.navigation
        if (
            nav.enabled
            and screen.navigation
            and raw.strip() == nav.more
            and session.page + 1 < len(self._pages(menu, session, session.invalid))
        ):
            session.page += 1
            return self.render(menu, session, invalid=session.invalid)
        value = screen.validate(raw)
        if value is None:
            moved = self._navigate(menu, session, screen, raw.strip())
            return moved or self._reprompt(menu, session)
        self._advance(menu, session, SUBMIT, value=value)
        return self.render(menu, session)

    def _answer_choice(
        self, menu: Menu, session: SessionState, screen: MenuScreen | LanguageScreen, key: str
    ) -> Reply:
        moved = self._navigate(menu, session, screen, key)
        if moved:
            return moved
        if isinstance(screen, LanguageScreen):
            languages = menu.languages
            if key.isdigit() and 1 <= int(key) <= len(languages):
                self._advance(menu, session, SUBMIT, value=languages[int(key) - 1])
                return self.render(menu, session)
        elif any(o.key == key for o in self._visible_options(screen, session)):
            self._advance(menu, session, SELECT + key)
            return self.render(menu, session)
        return self._reprompt(menu, session)

    def _reprompt(self, menu: Menu, session: SessionState) -> Reply:
        """A wrong answer: the screen again. With an ``invalid`` text, from the first page, which
        opens with it; without one, the subscriber stays on the page they were reading."""
        if getattr(menu.screens[session.state], "invalid", None) is not None:
            session.page = 0
        return self.render(menu, session, invalid=True)

    def _navigate(
        self, menu: Menu, session: SessionState, screen: Screen, key: str
    ) -> Reply | None:
        nav = menu.navigation
        if not nav.enabled or not getattr(screen, "navigation", False):
            return None
        if key == nav.more and session.page + 1 < len(self._pages(menu, session, session.invalid)):
            session.page += 1
            return self.render(menu, session, invalid=session.invalid)
        if key == nav.back and session.page > 0:
            session.page -= 1
            return self.render(menu, session, invalid=session.invalid)
        if key == nav.back and session.history:
            session.state = session.history.pop()
            session.page = 0
        elif key == nav.home and session.state != menu.start:
            session.history.clear()
            self.begin(menu, session)
        else:
            return None
        return self.render(menu, session)

    def _advance(self, menu: Menu, session: SessionState, event: str, **kwargs: Any) -> None:
        came_from = session.state
        if not menu.machine.events[event].trigger(session, **kwargs):
            raise HopError(f"no transition {event!r} from screen {came_from!r}")
        session.push_history(came_from)
        session.page = 0
        self._follow_automatic(menu, session)

    def _follow_automatic(self, menu: Menu, session: SessionState) -> None:
        for _ in range(MAX_AUTOMATIC_STEPS):
            screen = menu.screens[session.state]
            if not isinstance(screen, RouterScreen | SetScreen):
                return
            if not menu.machine.events[ROUTE].trigger(session):
                raise HopError(f"router {screen.id!r}: no route matched")
        raise HopError(
            f"more than {MAX_AUTOMATIC_STEPS} routers/set screens in a row "
            f"(a loop?) at {session.state!r}"
        )

    @staticmethod
    def _visible_options(screen: MenuScreen, session: SessionState) -> list[Any]:
        return [o for o in screen.options if o.when is None or o.when(session.vars)]

    def _pages(self, menu: Menu, session: SessionState, invalid: bool = False) -> list[str]:
        if session.state not in menu.static_screens:
            return self._paginate(menu, session, invalid)
        key = (session.state, session.language, invalid, bool(session.history), self.budget)
        pages = menu.page_cache.get(key)
        if pages is None:
            pages = menu.page_cache[key] = self._paginate(menu, session, invalid)
        return pages

    def _paginate(self, menu: Menu, session: SessionState, invalid: bool) -> list[str]:
        screen = menu.screens[session.state]
        language, default = session.language, menu.default_language
        text = screen.text if hasattr(screen, "text") else None
        if invalid and getattr(screen, "invalid", None) is not None:
            text = screen.invalid  # type: ignore[union-attr]
        header = text.render(language, default, session.vars).strip() if text else ""
        if isinstance(screen, EndScreen):
            return [self._fit(header)]
        items: list[str] = []
        if isinstance(screen, MenuScreen):
            items = [
                f"{o.key}. {o.label.render(language, default, session.vars)}"
                for o in self._visible_options(screen, session)
            ]
        elif isinstance(screen, LanguageScreen):
            items = [f"{i}. {screen.labels[lang]}" for i, lang in enumerate(menu.languages, 1)]
        nav = menu.navigation
        navigable = nav.enabled and getattr(screen, "navigation", False)
        more = f"{nav.more}. {message('more', language, menu.messages)}" if navigable else ""
        back = f"{nav.back}. {message('back', language, menu.messages)}" if navigable else ""
        try:
            pages = paginate(header, items, self.budget, more=more or "98. More", back=back)
        except ItemTooLong:  # `jumbe check` rejects such labels; variables can still grow one
            room = f"\n{more or '98. More'}\n{back}"
            items = [self._fit(item, room) for item in items]
            pages = paginate(header, items, self.budget, more=more or "98. More", back=back)
        if len(pages) == 1 and navigable and nav.show_back and session.history:
            with_back = f"{pages[0]}\n{back}"
            if self.budget.fits(with_back):
                return [with_back]
        return pages

    def _fit(self, text: str, suffix: str = "") -> str:
        """``text`` shortened with "…" so that ``text + suffix`` fits the budget."""
        if self.budget.fits(text + suffix):
            return text
        low, high = 0, len(text)
        while low < high:
            middle = (low + high + 1) // 2
            if self.budget.fits(text[:middle] + "…" + suffix):
                low = middle
            else:
                high = middle - 1
        return text[:low] + "…"

    def render(self, menu: Menu, session: SessionState, invalid: bool = False) -> Reply:
        """The reply for the session's current screen and page.

        ``invalid`` shows the screen's ``invalid`` text; paging keeps that pagination so that
        "More" after a re-prompt neither skips nor repeats an option.
        """
        screen = menu.screens[session.state]
        pages = self._pages(menu, session, invalid)
        session.invalid = invalid
        session.page = min(session.page, len(pages) - 1)
        end = isinstance(screen, EndScreen)
        session.ended = end
        return Reply(pages[session.page], end)
