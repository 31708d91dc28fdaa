"""Length checks at publish time: every screen rendered in every language with sample values.

- error: an option label that cannot fit on a page even next to only the More/Back lines;
- warning: an END text longer than one screen (it would be cut with "…");
- warning: a screen that needs several pages (subscribers must press More to read it).

Variables take the value declared under ``samples:`` in the file, else ``DEFAULT_SAMPLE``
(a plausible long name or number).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.menu.findings import Finding
from gateway.menu.messages import message
from gateway.menu.model import (
    EndScreen,
    InputScreen,
    LanguageScreen,
    Menu,
    MenuScreen,
    Screen,
    Text,
)
from gateway.menu.yamlsource import Locations
from gateway.text import Budget, ItemTooLong, encoding_of, length, non_gsm_characters, paginate

DEFAULT_SAMPLE = "X" * 12


class _Samples(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return DEFAULT_SAMPLE


def _render(text: Text | None, language: str, menu: Menu, values: Mapping[str, Any]) -> str:
    return text.render(language, menu.default_language, values) if text else ""


def check_budget(
    menu: Menu,
    locations: Locations,
    findings: list[Finding],
    budget: Budget,
    samples: Mapping[str, Any],
) -> None:
    """Append length findings for every screen of ``menu`` in every language."""
    values = _Samples({**samples})
    for screen in menu.screens.values():
        base = ("screens", screen.id, screen.kind)
        paged: list[str] = []
        for language in menu.languages:
            _check_stray_characters(screen, menu, language, values, budget, locations, findings)
            if isinstance(screen, EndScreen):
                text = _render(screen.text, language, menu, values)
                if not budget.fits(text):
                    message_ = _too_long(f"end screen {screen.id!r}", text, language, budget)
                    findings.append(
                        locations.finding(
                            (*base, "text"), message_ + "; it will be cut with '…'", "warning"
                        )
                    )
            elif isinstance(screen, MenuScreen | InputScreen | LanguageScreen):
                pages = _pages(screen, menu, language, values, budget, locations, findings)
                if pages > 1:
                    paged.append(f"{pages} in {language!r}")
        if paged:
            findings.append(
                locations.finding(
                    (*base, "text"),
                    (
                        f"screen {screen.id!r} does not fit one screen: pages needed "
                        f"{', '.join(paged)}; subscribers must press "
                        f"{menu.navigation.more} to read it all"
                    ),
                    "warning",
                )
            )


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
    texts = [getattr(screen, "text", None)]
    if isinstance(screen, MenuScreen):
        texts += [option.label for option in screen.options]
    rendered = " ".join(_render(t, language, menu, values) for t in texts if t is not None)
    strays = sorted(set(non_gsm_characters(rendered)))
    # Letters outside GSM-7 (Yoruba ẹ, Amharic) need UCS-2; punctuation, symbols and odd
    # spaces (an em dash, smart quotes from a word processor, emoji) do not.
    if strays and all(unicodedata.category(c)[0] in "PSZ" for c in strays):
        shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in strays)
        findings.append(
            locations.finding(
                ("screens", screen.id, screen.kind),
                (
                    f"screen {screen.id!r} in {language!r} uses {shown}, outside GSM-7: the whole "
                    f"screen becomes UCS-2 and holds {budget.ucs2} characters instead of "
                    f"{budget.gsm7}; replace with plain characters"
                ),
                "warning",
            )
        )


def _pages(
    screen: MenuScreen | InputScreen | LanguageScreen,
    menu: Menu,
    language: str,
    values: Mapping[str, Any],
    budget: Budget,
    locations: Locations,
    findings: list[Finding],
) -> int:
    """How many pages the screen takes in ``language`` (0 after reporting a label error)."""
    header = _render(screen.text, language, menu, values)
    items = _items(screen, menu, language, values)
    more = f"{menu.navigation.more}. {message('more', language, menu.messages)}"
    back = f"{menu.navigation.back}. {message('back', language, menu.messages)}"
    try:
        return len(paginate(header, items, budget, more=more, back=back))
    except ItemTooLong as exc:
        index = items.index(exc.item)
        findings.append(
            locations.finding(
                ("screens", screen.id, screen.kind, "options", index, "label"),
                _too_long("option", exc.item, language, budget)
                + " even alone with More/Back; shorten it",
            )
        )
        return 0


def _items(
    screen: MenuScreen | InputScreen | LanguageScreen,
    menu: Menu,
    language: str,
    values: Mapping[str, Any],
) -> list[str]:
    if isinstance(screen, MenuScreen):
        return [f"{o.key}. {_render(o.label, language, menu, values)}" for o in screen.options]
    if isinstance(screen, LanguageScreen):
        return [f"{i}. {screen.labels[lang]}" for i, lang in enumerate(menu.languages, 1)]
    return []


def _too_long(what: str, text: str, language: str, budget: Budget) -> str:
    encoding = "GSM-7" if encoding_of(text) == "gsm7" else "UCS-2"
    return (
        f"{what} too long in {language!r}: {length(text)} {encoding} characters "
        f"(a screen holds {budget.limit_for(text)})"
    )
