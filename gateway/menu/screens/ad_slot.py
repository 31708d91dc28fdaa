"""``ad_slot``: put the best eligible ad into the space an end screen leaves free.

.. code-block:: yaml

    bye_ad:
      ad_slot: {next: bye}        # save: ad (default) — the variable the ad goes into
    bye:
      end: "Thanks for calling Mama's!{ad}"

The ad comes from the same engine and rules as balance-check ads (consent, flight, targeting,
caps, pacing, budget; ``gateway.ads``): the hop pipeline performs an ``AdFill`` effect within
the ads deadline, with the end screen's text as rendered without the ad and the subscriber's
screen as the budget, so the ad only appears if the whole end screen still fits. No ad (or
any failure) leaves ``{ad}`` empty: the end screen shows exactly what it would without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.menu.effects import Effect, EffectResult
from gateway.menu.findings import Finding
from gateway.menu.model import Menu, Screen
from gateway.menu.screens.base import Edge, ScreenKind, Transition, save_value
from gateway.menu.screens.context import ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import Locations, PathKey

if TYPE_CHECKING:
    from gateway.menu.engine import Engine

FILLED = "ad_slot:filled"
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class AdFill(Effect):
    """Find an ad that fits after ``base`` on a screen of ``limits`` (GSM-7, UCS-2)."""

    base: str = ""
    limits: tuple[int, int] = (160, 70)
    language: str = ""


@dataclass(frozen=True, slots=True)
class AdSlotScreen(Screen):
    next: str = ""
    save: str = "ad"
    kind: ClassVar[str] = "ad_slot"


class AdSlotKind(ScreenKind[AdSlotScreen]):
    name = "ad_slot"
    fields = frozenset({"next", "save"})
    mode = "pass"
    shape = ("[/", "/]")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> AdSlotScreen:
        save = body.get("save", "ad")
        if not isinstance(save, str) or not _VARIABLE.match(save):
            ctx.error((*key, "save"), f"save: bad variable name {save!r} (letters, digits, _)")
            save = "ad"
        return AdSlotScreen(screen_id, ctx.target((*key, "next"), body.get("next")), save)

    def check(
        self, screen: AdSlotScreen, menu: Menu, locations: Locations, findings: list[Finding]
    ) -> None:
        where = ("screens", screen.id, "ad_slot", "next")
        target = menu.screens.get(screen.next)
        if target is None:
            return  # reported by the graph checks
        if target.kind != "end":
            findings.append(locations.finding(
                where, f"an ad_slot fills an end screen; {screen.next!r} is a {target.kind}"
            ))  # fmt: skip
            return
        text = getattr(target, "text", None)
        sources = [t.source for t in text.by_language.values()] if text is not None else []
        if not any("{" + screen.save + "}" in source for source in sources):
            findings.append(locations.finding(
                where, f"end screen {screen.next!r} never shows {{{screen.save}}}: the ad has "
                "nowhere to go", "warning",
            ))  # fmt: skip

    def edges(self, screen: AdSlotScreen, language: str) -> list[Edge]:
        return [Edge(screen.next, ("screens", screen.id, "ad_slot", "next"), "ad")]

    def summary(self, screen: AdSlotScreen, language: str) -> str:
        return f"ad into {{{screen.save}}}"

    def transitions(self, screen: AdSlotScreen) -> list[Transition]:
        return [Transition(FILLED, screen.next, before=[save_value(screen.save)])]

    def enter(
        self, engine: Engine, menu: Menu, session: SessionState, screen: AdSlotScreen
    ) -> Effect | None:
        from gateway.menu.screens import kind_of  # the table imports this module

        target = menu.screens[screen.next]
        header = kind_of(target).header(target, False)
        values = {**session.vars, screen.save: ""}
        base = header.render(session.language, menu.default_language, values) if header else ""
        limits = (engine.budget.gsm7, engine.budget.ucs2)
        return AdFill(screen.id, base, limits, session.language)

    def resume(
        self,
        engine: Engine,
        menu: Menu,
        session: SessionState,
        screen: AdSlotScreen,
        result: EffectResult,
    ) -> None:
        engine.route(menu, session, FILLED, value=result.value if result.ok else "")
