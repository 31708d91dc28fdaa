"""``input``: a question whose answer is validated, saved, and leads to ``next``.

.. code-block:: yaml

    amount:
      input:
        text: "Amount in KES (10-1000)"
        validate: {amount: {min: 10, max: 1000, decimals: 0}}   # see gateway.menu.validators
        invalid: "Enter an amount from 10 to 1000"
        save: amount
        next: confirm
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.menu import validators
from gateway.menu.model import Menu, Screen, Text
from gateway.menu.screens.base import SUBMIT, Edge, ScreenKind, Transition, save_value
from gateway.menu.screens.context import PLACEHOLDER, ParseContext
from gateway.menu.state import SessionState
from gateway.menu.validators import Validator
from gateway.menu.yamlsource import PathKey

if TYPE_CHECKING:
    from gateway.channels.base import Reply
    from gateway.menu.engine import Engine


ANY_TEXT = validators.text(None)
"""The default validator: any non-empty text (up to 160 characters)."""


@dataclass(frozen=True, slots=True)
class InputScreen(Screen):
    text: Text = PLACEHOLDER
    validate: Validator = ANY_TEXT
    next: str = ""
    invalid: Text | None = None
    save: str | None = None
    navigation: bool = True
    kind: ClassVar[str] = "input"


class InputKind(ScreenKind[InputScreen]):
    name = "input"
    fields = frozenset({"text", "validate", "invalid", "save", "next", "navigation"})
    mode = "ask"
    shape = ("(", ")")

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> InputScreen:
        text = ctx.text((*key, "text"), body.get("text"))
        spec = body.get("validate")
        try:
            validate = validators.build(spec)
        except validators.ValidatorError as exc:
            where: PathKey = (*key, "validate")
            if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in validators.KINDS:
                where = (*where, next(iter(spec)))  # the line of `regex: …`, not of `validate:`
            ctx.error(where, str(exc))
            validate = ANY_TEXT
        return InputScreen(
            screen_id,
            text or PLACEHOLDER,
            validate,
            ctx.target((*key, "next"), body.get("next")),
            ctx.optional_text(key, body, "invalid"),
            ctx.save(key, body),
            ctx.flag(key, body, "navigation"),
        )

    def edges(self, screen: InputScreen, language: str) -> list[Edge]:
        return [Edge(screen.next, ("screens", screen.id, "input", "next"), "valid")]

    def transitions(self, screen: InputScreen) -> list[Transition]:
        before = [save_value(screen.save)] if screen.save else []
        return [Transition(SUBMIT, screen.next, before=before)]

    def header(self, screen: InputScreen, invalid: bool) -> Text:
        return screen.invalid if invalid and screen.invalid is not None else screen.text

    def navigable(self, screen: InputScreen) -> bool:
        return screen.navigation

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: InputScreen, raw: str
    ) -> Reply:
        # "More" first, on a question that spans pages: 98 may also be a valid answer.
        paged = engine.next_page(menu, session, screen, raw.strip())
        if paged:
            return paged
        value = screen.validate(raw)
        if value is None:
            moved = engine.navigate(menu, session, screen, raw.strip())
            return moved or engine.reprompt(menu, session)
        return engine.advance(menu, session, SUBMIT, value=value)
