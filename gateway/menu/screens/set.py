"""``set``: assigns variables (templates of other variables) and goes on, showing nothing.

.. code-block:: yaml

    join:
      set:
        values: {member: "yes", greeting: "Hi {name}"}
        next: joined
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from transitions import EventData

from gateway.menu.model import Screen
from gateway.menu.screens.base import ROUTE, Callback, Edge, ScreenKind, Transition, session_of
from gateway.menu.screens.context import ParseContext
from gateway.menu.templates import Template
from gateway.menu.yamlsource import PathKey


@dataclass(frozen=True, slots=True)
class SetScreen(Screen):
    values: Mapping[str, Template] = field(default_factory=dict)
    next: str = ""
    kind: ClassVar[str] = "set"


def _assign(screen: SetScreen) -> Callback:
    def assign(event: EventData) -> None:
        values = session_of(event).vars
        values.update({name: template.render(values) for name, template in screen.values.items()})

    return assign


class SetKind(ScreenKind[SetScreen]):
    name = "set"
    fields = frozenset({"values", "next"})
    mode = "pass"
    shape = ("[[", "]]")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> SetScreen | None:
        raw_values = body.get("values")
        values = {}
        if not isinstance(raw_values, dict) or not raw_values:
            ctx.error(key, f"set {screen_id!r} needs values: {{name: value}}")
            return None
        for name, source in raw_values.items():
            tpl = ctx.template((*key, "values", name), source)
            if tpl is not None:
                values[str(name)] = tpl
        return SetScreen(screen_id, values, ctx.target((*key, "next"), body.get("next")))

    def edges(self, screen: SetScreen, language: str) -> list[Edge]:
        return [Edge(screen.next, ("screens", screen.id, "set", "next"))]

    def summary(self, screen: SetScreen, language: str) -> str:
        return ", ".join(f"{name}={value.source}" for name, value in screen.values.items())

    def transitions(self, screen: SetScreen) -> list[Transition]:
        return [Transition(ROUTE, screen.next, before=[_assign(screen)])]
