"""``end``: the last screen; its text closes the session.

.. code-block:: yaml

    thanks:
      end: {en: "Thanks!", sw: "Asante!"}     # short for: end: {text: …}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from gateway.menu.model import Screen, Text
from gateway.menu.screens.base import ScreenKind
from gateway.menu.screens.context import PLACEHOLDER, ParseContext
from gateway.menu.yamlsource import PathKey


@dataclass(frozen=True, slots=True)
class EndScreen(Screen):
    text: Text = PLACEHOLDER
    kind: ClassVar[str] = "end"


class EndKind(ScreenKind[EndScreen]):
    name = "end"
    fields = frozenset({"text"})
    mode = "end"
    shape = ("([", "])")

    def shorthand(self, spec: Any) -> Any:
        if (isinstance(spec, dict) and "text" in spec) or spec is None:
            return spec
        return {"text": spec}

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> EndScreen:
        return EndScreen(screen_id, ctx.text((*key, "text"), body.get("text")) or PLACEHOLDER)

    def header(self, screen: EndScreen, invalid: bool) -> Text:
        return screen.text
