"""Length checks at publish time: every screen laid out in every language with sample values,
by the same ``Renderer`` the engine uses at run time.

- error: an option label that cannot fit on a page even next to only the More/Back lines;
- warning: an END text longer than one screen (it would be cut with "…");
- warning: a screen that needs several pages (subscribers must press More to read it);
- warning: stray punctuation (smart quotes, an em dash, emoji) that makes a GSM-7 screen UCS-2.

Variables take the value declared under ``samples:`` in the file, else ``DEFAULT_SAMPLE``
(a plausible long name or number).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.menu.findings import Finding
from gateway.menu.model import Menu, Screen
from gateway.menu.render import Renderer
from gateway.menu.screens import kind_of
from gateway.menu.yamlsource import Locations
from gateway.text import Budget, ItemTooLong, encoding_of, length, non_gsm_characters

DEFAULT_SAMPLE = "X" * 12


class _Samples(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return DEFAULT_SAMPLE


def check_budget(
    menu: Menu,
    locations: Locations,
    findings: list[Finding],
    budget: Budget,
    samples: Mapping[str, Any],
) -> None:
    """Append length findings for every screen of ``menu`` in every language."""
    values = _Samples({**samples})
    renderer = Renderer(budget)
    for screen in menu.screens.values():
        kind = kind_of(screen)
        base = ("screens", screen.id, screen.kind)
        paged: list[str] = []
        for language in menu.languages:
            _check_stray_characters(screen, menu, language, values, budget, locations, findings)
            if kind.mode == "end":
                header = kind.header(screen, False)
                text = header.render(language, menu.default_language, values) if header else ""
                if not renderer.fits(text.strip()):
                    message = _too_long(f"end screen {screen.id!r}", text, language, budget)
                    message += "; it will be cut with '…'"
                    findings.append(locations.finding((*base, "text"), message, "warning"))
            elif kind.mode == "ask":
                pages = _pages(renderer, screen, menu, language, values, locations, findings)
                if pages > 1:
                    paged.append(f"{pages} in {language!r}")
        if paged:
            findings.append(locations.finding(
                (*base, "text"),
                f"screen {screen.id!r} does not fit one screen: pages needed "
                f"{', '.join(paged)}; subscribers must press {menu.navigation.more} to read it all",
                "warning",
            ))  # fmt: skip


def _check_stray_characters(
    screen: Screen,
    menu: Menu,
    language: str,
    values: Mapping[str, Any],
    budget: Budget,
    locations: Locations,
    findings: list[Finding],
) -> None:
    """Warn when stray punctuation turns a GSM-7 screen into a much smaller UCS-2 one."""
    texts = kind_of(screen).texts(screen)
    rendered = " ".join(t.render(language, menu.default_language, values) for t in texts)
    strays = sorted(set(non_gsm_characters(rendered)))
    # Letters outside GSM-7 (Yoruba ẹ, Amharic) need UCS-2; punctuation, symbols and odd
    # spaces (an em dash, smart quotes from a word processor, emoji) do not.
    if strays and all(unicodedata.category(c)[0] in "PSZ" for c in strays):
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in strays)
        findings.append(locations.finding(
            ("screens", screen.id, screen.kind),
            f"screen {screen.id!r} in {language!r} uses {shown}, outside GSM-7: the whole "
            f"screen becomes UCS-2 and holds {budget.ucs2} characters instead of "
            f"{budget.gsm7}; replace with plain characters",
            "warning",
        ))  # fmt: skip


def _pages(
    renderer: Renderer,
    screen: Screen,
    menu: Menu,
    language: str,
    values: Mapping[str, Any],
    locations: Locations,
    findings: list[Finding],
) -> int:
    """How many pages the screen takes in ``language`` (0 after reporting a label error)."""
    try:
        return len(renderer.pages(menu, screen, language, values, strict=True))
    except ItemTooLong as exc:
        kind = kind_of(screen)
        index = kind.items(screen, menu, language, values).index(exc.item)
        findings.append(locations.finding(
            kind.item_where(screen, index),
            _too_long("option", exc.item, language, renderer.budget)
            + " even alone with More/Back; shorten it",
        ))  # fmt: skip
        return 0


def _too_long(what: str, text: str, language: str, budget: Budget) -> str:
    encoding = "GSM-7" if encoding_of(text) == "gsm7" else "UCS-2"
    return (
        f"{what} too long in {language!r}: {length(text)} {encoding} characters "
        f"(a screen holds {budget.limit_for(text)})"
    )
