"""``router``: goes on to the first route whose condition holds (a route without ``if`` always
matches), showing nothing.

.. code-block:: yaml

    rating_router:
      router:                     # short for: router: {routes: [...]}
        - {if: "rating >= 4", next: happy}
        - {next: sorry}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.menu.conditions import Condition
from gateway.menu.model import Screen
from gateway.menu.screens.base import ROUTE, Edge, ScreenKind, Transition, when
from gateway.menu.screens.context import ParseContext
from gateway.menu.yamlsource import PathKey


@dataclass(frozen=True, slots=True)
class Route:
    condition: Condition | None
    source: str
    next: str


@dataclass(frozen=True, slots=True)
class RouterScreen(Screen):
    routes: tuple[Route, ...] = ()
    routes_at: PathKey = ()
    """Where the list of routes is written (``router: [...]`` or ``router: {routes: [...]}``)."""
    kind: ClassVar[str] = "router"


class RouterKind(ScreenKind[RouterScreen]):
    name = "router"
    fields = frozenset({"routes"})
    mode = "pass"
    shape = ("{", "}")

    def shorthand(self, spec: Any) -> Any:
        return {"routes": spec} if isinstance(spec, list) else spec

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> RouterScreen | None:
        written: PathKey = (*key, "routes")  # absent for the short form `router: [...]`
        base = written if written in ctx.locations.marks else key
        raw_routes = body.get("routes")
        if not isinstance(raw_routes, list) or not raw_routes:
            ctx.error(key, f"router {screen_id!r} needs a list of routes ({{if: ..., next: ...}})")
            return None
        routes = []
        for i, raw in enumerate(raw_routes):
            rkey: PathKey = (*base, i)
            if not isinstance(raw, dict):
                ctx.error(rkey, "route: expected {if: condition, next: screen}")
                continue
            ctx.fields(rkey, raw, {"if", "next"})
            condition = ctx.condition((*rkey, "if"), raw["if"]) if "if" in raw else None
            target = ctx.target((*rkey, "next"), raw.get("next"))
            routes.append(Route(condition, str(raw.get("if", "")), target))
        if routes and routes[-1].condition is not None:
            ctx.warning(key, f"router {screen_id!r} has no default route (a last route without "
                        "'if'); when nothing matches the subscriber gets an error")  # fmt: skip
        return RouterScreen(screen_id, tuple(routes), base)

    def edges(self, screen: RouterScreen, language: str) -> list[Edge]:
        return [
            Edge(r.next, (*screen.routes_at, i, "next"), r.source if r.condition else "else")
            for i, r in enumerate(screen.routes)
        ]

    def transitions(self, screen: RouterScreen) -> list[Transition]:
        return [
            Transition(ROUTE, r.next, conditions=[when(r.condition)] if r.condition else [])
            for r in screen.routes
        ]
