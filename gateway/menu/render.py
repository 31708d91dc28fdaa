"""The one place that lays a screen out in pages: the engine renders with it at run time and
``jumbe check`` measures with it, so what the check accepts is exactly what runs.

The budget is what the subscriber's screen holds less what the channel's wire format uses
(``gateway.channels``). A screen's header comes first, then its items (never split), with
More/Back lines where the screen is navigable. At run time an over-long option or END text is
cut with "…" (variables can still grow one); the check reports it instead (``strict``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.menu.messages import message
from gateway.menu.model import Menu, Screen
from gateway.menu.screens import kind_of
from gateway.text import Budget, ItemTooLong, paginate

FALLBACK_MORE = "98. More"
"""The More line of a screen without navigation that still needs pages."""


class Renderer:
    """Lays screens out within one budget."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def pages(
        self,
        menu: Menu,
        screen: Screen,
        language: str,
        values: Mapping[str, Any],
        *,
        invalid: bool = False,
        history: bool = False,
        strict: bool = False,
    ) -> list[str]:
        """The pages of ``screen`` in ``language`` with ``values``.

        ``invalid``: after a wrong answer (the screen's ``invalid`` text, if any); ``history``:
        there is a screen to go back to (a one-page screen then gets a Back line if it fits);
        ``strict``: raise ``ItemTooLong`` instead of cutting an item that fits no page.
        """
        kind = kind_of(screen)
        text = kind.header(screen, invalid)
        header = text.render(language, menu.default_language, values).strip() if text else ""
        if kind.ends(screen, values):
            return [self.fit(header)]
        items = kind.items(screen, menu, language, values)
        nav = menu.navigation
        navigable = nav.enabled and kind.navigable(screen)
        more = f"{nav.more}. {message('more', language, menu.messages)}" if navigable else ""
        back = f"{nav.back}. {message('back', language, menu.messages)}" if navigable else ""
        try:
            pages = paginate(header, items, self.budget, more=more or FALLBACK_MORE, back=back)
        except ItemTooLong:
            if strict:
                raise
            room = f"\n{more or FALLBACK_MORE}\n{back}"
            items = [self.fit(item, room) for item in items]
            pages = paginate(header, items, self.budget, more=more or FALLBACK_MORE, back=back)
        if len(pages) == 1 and navigable and nav.show_back and history:
            with_back = f"{pages[0]}\n{back}"
            if self.budget.fits(with_back):
                return [with_back]
        return pages

    def fits(self, text: str) -> bool:
        return self.budget.fits(text)

    def fit(self, text: str, suffix: str = "") -> str:
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
