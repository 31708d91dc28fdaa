"""Encoding-aware pagination of a USSD screen into More/Back pages.

Each page is decided greedily and independently: a page is UCS-2 if it holds
any non-GSM character, and must fit the budget for its own encoding.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.text.budget import Budget


class ItemTooLong(ValueError):
    """A menu item cannot fit on a page even next to only the More/Back lines."""

    def __init__(self, item: str) -> None:
        super().__init__(f"menu item does not fit on one screen: {item!r}")
        self.item = item


@dataclass(frozen=True, slots=True)
class _Screen:
    budget: Budget
    more: str
    back: str

    def fits(self, lines: Sequence[str]) -> bool:
        return self.budget.fits("\n".join(lines))

    def tail(self, page_no: int, *, last: bool) -> list[str]:
        """Navigation lines closing page `page_no`; empty labels are omitted."""
        lines = [] if last or not self.more else [self.more]
        if page_no > 0 and self.back:
            lines.append(self.back)
        return lines


def paginate(
    header: str,
    items: Sequence[str],
    budget: Budget,
    *,
    more: str = "98. More",
    back: str = "0. Back",
) -> list[str]:
    """Split a screen into pages that each fit `budget` (what the subscriber reads: a
    channel's own overhead, such as Africa's Talking's 4-character prefix, is taken off it).

    The header comes first, then each item on its own line, in order, never
    split. Non-last pages end with `more`; pages after the first end with
    `back` (omitted if ""). A header too long for a page is split at
    whitespace (inner whitespace is normalized to single spaces; an
    over-long word is cut hard). Raises `ItemTooLong` for an item that fits
    on no page.
    """
    screen = _Screen(budget, more, back)
    whole = ([header] if header else []) + list(items)
    if screen.fits(whole):
        return ["\n".join(whole)]
    words = deque(_header_units(screen, header))
    todo = deque(items)
    pages: list[str] = []
    while True:
        page_no = len(pages)
        rest = ([" ".join(words)] if words else []) + list(todo)
        last_page = rest + screen.tail(page_no, last=True)
        if screen.fits(last_page):
            pages.append("\n".join(last_page))
            return pages
        lines = _take_header(screen, words, page_no, keep_one=not todo)
        if not words:
            lines += _take_items(screen, lines, todo, page_no)
        if not lines:
            raise ItemTooLong(todo[0])
        if not words and not todo:  # only with budgets where removing More can overflow
            raise ValueError("cannot paginate: the More line is needed to fit the last page")
        pages.append("\n".join(lines + screen.tail(page_no, last=False)))


def _header_units(screen: _Screen, header: str) -> list[str]:
    """The header whole if it fits on the first page next to More, else its words."""
    if not header or screen.fits([header, *screen.tail(0, last=False)]):
        return [header] if header else []
    return header.split()


def _take_header(screen: _Screen, words: deque[str], page_no: int, *, keep_one: bool) -> list[str]:
    """Pop the longest run of header words (or a hard-cut word) fitting this page."""
    if not words:
        return []
    tail = screen.tail(page_no, last=False)
    if not screen.fits([words[0], *tail]):
        return [_cut_word(screen, words, tail)]
    piece = words.popleft()
    while len(words) > keep_one and screen.fits([f"{piece} {words[0]}", *tail]):
        piece = f"{piece} {words.popleft()}"
    return [piece]


def _cut_word(screen: _Screen, words: deque[str], tail: list[str]) -> str:
    """Cut the first word to the longest prefix that fits; leave the rest queued."""
    word = words[0]
    cut = 0
    while cut < len(word) and screen.fits([word[: cut + 1], *tail]):
        cut += 1
    if cut == 0:
        raise ValueError("cannot paginate: More/Back lines leave no room for the header")
    words[0] = word[cut:]
    return word[:cut]


def _take_items(screen: _Screen, lines: list[str], todo: deque[str], page_no: int) -> list[str]:
    """Pop items while they fit after `lines`; always leave one for a later page."""
    tail = screen.tail(page_no, last=False)
    taken: list[str] = []
    while len(todo) > 1 and screen.fits([*lines, *taken, todo[0], *tail]):
        taken.append(todo.popleft())
    return taken
