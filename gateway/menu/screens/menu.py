"""``menu``: a text and numbered options; an option may be shown only ``when`` a condition holds.

.. code-block:: yaml

    main:
      menu:
        text: {en: "Welcome", sw: "Karibu"}
        options:
          - {label: {en: Balance, sw: Salio}, next: balance}
          - {label: Rewards, next: rewards, when: "member == 'yes'", key: 7, value: rewards}
        invalid: "Pick 1 or 2"        # optional; shown after a wrong choice
        save: choice                  # optional; the chosen option's value
        navigation: true              # optional; false hides Back/More on this screen
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.menu.conditions import Condition
from gateway.menu.findings import Finding
from gateway.menu.model import Menu, Screen, Text
from gateway.menu.screens.base import (
    SELECT,
    Edge,
    ScreenKind,
    Transition,
    save_constant,
    when,
)
from gateway.menu.screens.context import PLACEHOLDER, ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import Locations, PathKey

if TYPE_CHECKING:
    from gateway.channels.base import Reply
    from gateway.menu.engine import Engine


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: Text
    next: str
    value: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class MenuScreen(Screen):
    text: Text = PLACEHOLDER
    options: tuple[Option, ...] = ()
    invalid: Text | None = None
    save: str | None = None
    navigation: bool = True
    kind: ClassVar[str] = "menu"


def visible(screen: MenuScreen, values: Mapping[str, Any]) -> list[Option]:
    """The options shown now (those without ``when``, or whose condition holds)."""
    return [o for o in screen.options if o.when is None or o.when(values)]


class MenuKind(ScreenKind[MenuScreen]):
    name = "menu"
    fields = frozenset({"text", "options", "invalid", "save", "navigation"})
    mode = "ask"

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> MenuScreen | None:
        text = ctx.text((*key, "text"), body.get("text"))
        raw_options = body.get("options")
        options: list[Option] = []
        if not isinstance(raw_options, list) or not raw_options:
            ctx.error(
                (*key, "options") if raw_options is not None else key,
                f"menu {screen_id!r} needs a non-empty list of options",
            )
            return None
        seen: set[str] = set()
        for i, raw in enumerate(raw_options):
            okey: PathKey = (*key, "options", i)
            if not isinstance(raw, dict):
                ctx.error(okey, "option: expected {label: ..., next: ...}")
                continue
            ctx.fields(okey, raw, {"label", "next", "key", "value", "when"})
            option_key = str(raw.get("key", i + 1)).strip()
            if option_key in seen:
                ctx.error((*okey, "key") if "key" in raw else okey,
                          f"duplicate option key {option_key!r}")  # fmt: skip
            seen.add(option_key)
            label = ctx.text((*okey, "label"), raw.get("label"), "label")
            condition = ctx.condition((*okey, "when"), raw["when"]) if "when" in raw else None
            target = ctx.target((*okey, "next"), raw.get("next"))
            if label:
                value = str(raw.get("value", option_key))
                options.append(Option(option_key, label, target, value, condition))
        return MenuScreen(
            screen_id,
            text or PLACEHOLDER,
            tuple(options),
            ctx.optional_text(key, body, "invalid"),
            ctx.save(key, body),
            ctx.flag(key, body, "navigation"),
        )

    def check(
        self, screen: MenuScreen, menu: Menu, locations: Locations, findings: list[Finding]
    ) -> None:
        """An option key must not be a navigation key (it could never be chosen)."""
        nav = menu.navigation
        if not (nav.enabled and screen.navigation):
            return
        reserved = {nav.back: "back", nav.home: "home", nav.more: "more"}
        for i, option in enumerate(screen.options):
            if option.key in reserved:
                findings.append(locations.finding(
                    ("screens", screen.id, "menu", "options", i),
                    f"option key {option.key!r} is the {reserved[option.key]} key; pick another "
                    "key or set navigation: false on this screen",
                ))  # fmt: skip

    def edges(self, screen: MenuScreen, language: str) -> list[Edge]:
        edges = []
        for i, option in enumerate(screen.options):
            where: PathKey = ("screens", screen.id, "menu", "options", i, "next")
            label = f"{option.key}. {option.label.template(language, language).source}"
            note = "(when …)" if option.when is not None else ""
            edges.append(Edge(option.next, where, label, note))
        return edges

    def transitions(self, screen: MenuScreen) -> list[Transition]:
        return [
            Transition(
                SELECT + o.key,
                o.next,
                conditions=[when(o.when)] if o.when else [],
                before=[save_constant(screen.save, o.value)] if screen.save else [],
            )
            for o in screen.options
        ]

    def header(self, screen: MenuScreen, invalid: bool) -> Text:
        return screen.invalid if invalid and screen.invalid is not None else screen.text

    def items(
        self, screen: MenuScreen, menu: Menu, language: str, values: Mapping[str, Any]
    ) -> list[str]:
        default = menu.default_language
        return [f"{o.key}. {o.label.render(language, default, values)}" for o in visible(
            screen, values)]  # fmt: skip

    def item_where(self, screen: MenuScreen, index: int) -> PathKey:
        return ("screens", screen.id, "menu", "options", index, "label")

    def navigable(self, screen: MenuScreen) -> bool:
        return screen.navigation

    def texts(self, screen: MenuScreen) -> list[Text]:
        return [*super().texts(screen), *(o.label for o in screen.options)]

    def static(self, screen: MenuScreen) -> bool:
        return super().static(screen) and all(o.when is None for o in screen.options)

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: MenuScreen, raw: str
    ) -> Reply:
        key = raw.strip()
        moved = engine.navigate(menu, session, screen, key)
        if moved:
            return moved
        if any(o.key == key for o in visible(screen, session.vars)):
            return engine.advance(menu, session, SELECT + key)
        return engine.reprompt(menu, session)
