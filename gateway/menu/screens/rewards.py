"""``rewards_balance``, ``rewards_catalog``, ``rewards_redeem``: points in a USSD menu.

.. code-block:: yaml

    points:
      rewards_balance:               # look up the balance (and the catalog's items)
        catalog: rewards             # optional: the catalog a rewards_catalog screen offers
        next: pick                   # {points} is the balance from here on
        on_error: sorry
    pick:
      rewards_catalog:               # the items, numbered and paged; the choice is saved as
        text: "You have {points} points. Pick a reward:"   # {reward}, {reward_label},
        next: confirm                                       # {reward_points}
        empty: "Nothing to redeem yet."                     # optional: no item (→ Back/Home)
    confirm:
      menu:
        text: "Redeem {reward_label} for {reward_points} points?"
        options: [{label: Yes, next: redeem}, {label: No, next: main}]
    redeem:
      rewards_redeem:                # hold the points (one atomic step) and queue the send
        next: redeemed               # "You will get {reward_label} shortly" — only if held
        on_error: not_redeemed       # {rewards_error}: why not, in the subscriber's language

The balance and the redemption are effects (``RewardsLookup``, ``RewardsRedeem``) the hop
pipeline performs through ``gateway.rewards`` (``hops/rewards.py``); the catalog screen shows
what the lookup saved in the session, so the engine stays pure. One module for the three:
they share the effects and the session variables they pass to each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.menu.effects import Effect, EffectResult
from gateway.menu.model import Menu, Screen, Text
from gateway.menu.screens.base import SUBMIT, Edge, ScreenKind, Transition
from gateway.menu.screens.context import PLACEHOLDER, ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import PathKey

if TYPE_CHECKING:
    from gateway.channels.base import Reply
    from gateway.menu.engine import Engine

OK, ERROR = "rewards:ok", "rewards:error"
ITEMS = "rewards_items"
"""The session variable holding the catalog's items (saved by ``rewards_balance``)."""
POINTS = {"en": "pts", "sw": "pointi"}


@dataclass(frozen=True, slots=True)
class RewardsLookup(Effect):
    """The subscriber's balance, and the items of ``catalog`` (labels in ``language``)."""

    catalog: str = ""
    language: str = "en"


@dataclass(frozen=True, slots=True)
class RewardsRedeem(Effect):
    """Redeem ``item`` for the subscriber: held, or refused with a readable reason. ``hop`` (the
    session's hop count) names the redemption together with the session: a hop computed twice
    (a retry reaching another process, a lost compare-and-set) redeems once."""

    item: str = ""
    language: str = "en"
    hop: int = 0


@dataclass(frozen=True, slots=True)
class BalanceScreen(Screen):
    catalog: str = ""
    next: str = ""
    on_error: str = ""
    kind: ClassVar[str] = "rewards_balance"


@dataclass(frozen=True, slots=True)
class CatalogScreen(Screen):
    text: Text = PLACEHOLDER
    next: str = ""
    empty: Text | None = None
    kind: ClassVar[str] = "rewards_catalog"


@dataclass(frozen=True, slots=True)
class RedeemScreen(Screen):
    next: str = ""
    on_error: str = ""
    kind: ClassVar[str] = "rewards_redeem"


def _effect_edges(screen: BalanceScreen | RedeemScreen, ok: str) -> list[Edge]:
    base: PathKey = ("screens", screen.id, screen.kind)
    return [Edge(screen.next, (*base, "next"), ok), Edge(screen.on_error, (*base, "on_error"),
                                                        "error")]  # fmt: skip


def _targets(ctx: ParseContext, key: PathKey, body: dict[str, Any]) -> tuple[str, str]:
    return ctx.target((*key, "next"), body.get("next")), ctx.target(
        (*key, "on_error"), body.get("on_error"))  # fmt: skip


class BalanceKind(ScreenKind[BalanceScreen]):
    name = "rewards_balance"
    fields = frozenset({"catalog", "next", "on_error"})
    mode = "pass"
    shape = ("[[", "]]")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> BalanceScreen:
        catalog = body.get("catalog", "")
        if not isinstance(catalog, str):
            ctx.error((*key, "catalog"), "catalog: the id of a catalog file")
            catalog = ""
        return BalanceScreen(screen_id, catalog, *_targets(ctx, key, body))

    def edges(self, screen: BalanceScreen, language: str) -> list[Edge]:
        return _effect_edges(screen, "balance")

    def summary(self, screen: BalanceScreen, language: str) -> str:
        return "points balance" + (f" + catalog {screen.catalog}" if screen.catalog else "")

    def transitions(self, screen: BalanceScreen) -> list[Transition]:
        return [Transition(OK, screen.next), Transition(ERROR, screen.on_error)]

    def enter(
        self, engine: Engine, menu: Menu, session: SessionState, screen: BalanceScreen
    ) -> Effect | None:
        return RewardsLookup(screen.id, screen.catalog, session.language)

    def resume(
        self, engine: Engine, menu: Menu, session: SessionState, screen: BalanceScreen,
        result: EffectResult,
    ) -> None:  # fmt: skip
        if result.ok:
            session.vars["points"] = result.value["points"]
            session.vars[ITEMS] = result.value["items"]
            engine.route(menu, session, OK)
        else:
            session.vars["rewards_error"] = result.error
            engine.route(menu, session, ERROR)


def _items(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = values.get(ITEMS)
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


class CatalogKind(ScreenKind[CatalogScreen]):
    name = "rewards_catalog"
    fields = frozenset({"text", "next", "empty"})
    mode = "ask"

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> CatalogScreen:
        text = ctx.text((*key, "text"), body.get("text"))
        return CatalogScreen(screen_id, text or PLACEHOLDER, ctx.target((*key, "next"),
                             body.get("next")), ctx.optional_text(key, body, "empty"))  # fmt: skip

    def edges(self, screen: CatalogScreen, language: str) -> list[Edge]:
        return [Edge(screen.next, ("screens", screen.id, self.name, "next"), "chosen")]

    def transitions(self, screen: CatalogScreen) -> list[Transition]:
        return [Transition(SUBMIT, screen.next, before=[_choose])]

    def header(self, screen: CatalogScreen, invalid: bool) -> Text:
        return screen.text

    def texts(self, screen: CatalogScreen) -> list[Text]:
        return [screen.text, *([screen.empty] if screen.empty else [])]

    def static(self, screen: CatalogScreen) -> bool:
        return False

    def items(
        self, screen: CatalogScreen, menu: Menu, language: str, values: Mapping[str, Any]
    ) -> list[str]:
        items = _items(values)
        if not items and screen.empty is not None:
            return [screen.empty.render(language, menu.default_language, values)]
        unit = POINTS.get(language, POINTS["en"])
        return [f"{n}. {i.get('label', '')} ({i.get('points', '')} {unit})"
                for n, i in enumerate(items, 1)]  # fmt: skip

    def navigable(self, screen: CatalogScreen) -> bool:
        return True

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: CatalogScreen, raw: str
    ) -> Reply:
        key = raw.strip()
        moved = engine.navigate(menu, session, screen, key)
        if moved:
            return moved
        items = _items(session.vars)
        if key.isdigit() and 1 <= int(key) <= len(items):
            return engine.advance(menu, session, SUBMIT, value=items[int(key) - 1])
        return engine.reprompt(menu, session)


def _choose(event: Any) -> None:
    item = event.kwargs["value"]
    variables = event.model.vars
    variables["reward"] = item.get("id", "")
    variables["reward_label"] = item.get("label", "")
    variables["reward_points"] = item.get("points", "")


class RedeemKind(ScreenKind[RedeemScreen]):
    name = "rewards_redeem"
    fields = frozenset({"next", "on_error"})
    mode = "pass"
    shape = ("[[", "]]")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> RedeemScreen:
        return RedeemScreen(screen_id, *_targets(ctx, key, body))

    def edges(self, screen: RedeemScreen, language: str) -> list[Edge]:
        return _effect_edges(screen, "held")

    def summary(self, screen: RedeemScreen, language: str) -> str:
        return "redeem {reward}"

    def transitions(self, screen: RedeemScreen) -> list[Transition]:
        return [Transition(OK, screen.next), Transition(ERROR, screen.on_error)]

    def enter(
        self, engine: Engine, menu: Menu, session: SessionState, screen: RedeemScreen
    ) -> Effect | None:
        item = session.vars.get("reward")
        if not isinstance(item, str) or not item:
            session.vars["rewards_error"] = "no reward was chosen"
            engine.route(menu, session, ERROR)
            return None
        return RewardsRedeem(screen.id, item, session.language, session.hops)

    def resume(
        self, engine: Engine, menu: Menu, session: SessionState, screen: RedeemScreen,
        result: EffectResult,
    ) -> None:  # fmt: skip
        if result.ok:
            session.vars["redemption"] = result.value["redemption"]
            session.vars["points"] = result.value.get("balance", session.vars.get("points"))
            engine.route(menu, session, OK)
        else:
            session.vars["rewards_error"] = result.error
            engine.route(menu, session, ERROR)
