"""``language``: offers the file's languages; the choice is kept for this subscriber across
sessions (by pseudonym).

.. code-block:: yaml

    language:
      language:
        text: {en: "Choose a language", sw: "Chagua lugha"}
        labels: {en: English, sw: Kiswahili}
        next: main
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from transitions import EventData

from gateway.menu.model import Menu, Screen, Text
from gateway.menu.screens.base import SUBMIT, Edge, ScreenKind, Transition, session_of
from gateway.menu.screens.context import PLACEHOLDER, ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import PathKey

if TYPE_CHECKING:
    from gateway.channels.base import Reply
    from gateway.menu.engine import Engine


@dataclass(frozen=True, slots=True)
class LanguageScreen(Screen):
    text: Text = PLACEHOLDER
    next: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    navigation: bool = True
    kind: ClassVar[str] = "language"


def _set_language(event: EventData) -> None:
    session_of(event).language = event.kwargs["value"]


class LanguageKind(ScreenKind[LanguageScreen]):
    name = "language"
    fields = frozenset({"text", "next", "labels", "navigation"})
    mode = "ask"
    shape = ("(", ")")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> LanguageScreen:
        text = ctx.text((*key, "text"), body.get("text"))
        labels = body.get("labels") or {}
        if not isinstance(labels, dict):
            ctx.error((*key, "labels"), "labels: expected {language: name}")
            labels = {}
        names = {lang: str(labels.get(lang, lang)) for lang in ctx.languages}
        return LanguageScreen(
            screen_id,
            text or PLACEHOLDER,
            ctx.target((*key, "next"), body.get("next")),
            names,
            ctx.flag(key, body, "navigation"),
        )

    def edges(self, screen: LanguageScreen, language: str) -> list[Edge]:
        return [Edge(screen.next, ("screens", screen.id, "language", "next"))]

    def transitions(self, screen: LanguageScreen) -> list[Transition]:
        return [Transition(SUBMIT, screen.next, before=[_set_language])]

    def header(self, screen: LanguageScreen, invalid: bool) -> Text:
        return screen.text

    def items(
        self, screen: LanguageScreen, menu: Menu, language: str, values: Mapping[str, Any]
    ) -> list[str]:
        return [f"{i}. {screen.labels[lang]}" for i, lang in enumerate(menu.languages, 1)]

    def navigable(self, screen: LanguageScreen) -> bool:
        return screen.navigation

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: LanguageScreen, raw: str
    ) -> Reply:
        key = raw.strip()
        moved = engine.navigate(menu, session, screen, key)
        if moved:
            return moved
        if key.isdigit() and 1 <= int(key) <= len(menu.languages):
            return engine.advance(menu, session, SUBMIT, value=menu.languages[int(key) - 1])
        return engine.reprompt(menu, session)
