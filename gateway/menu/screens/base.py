"""The one protocol every screen kind implements (one module per kind, listed in
``gateway.menu.screens.KINDS``).

A kind says how its YAML is parsed and checked, how the state machine leaves it
(``transitions``, compiled once per menu version), where its arrows go (``edges``: the graph
checks and ``jumbe graph``), what it shows (``header`` and ``items``, laid out by the one
``Renderer`` that the engine and ``jumbe check`` share), and how it behaves at run time:

- ``ask`` kinds wait for the subscriber (``answer``): menu, input, language;
- ``end`` kinds close the session with their text;
- ``pass`` kinds are followed without showing anything (``enter``): router, set — or return
  an effect for the hop pipeline to perform (a webhook), whose result ``resume`` gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar, cast

from transitions import EventData

from gateway.menu.conditions import Condition
from gateway.menu.findings import Finding
from gateway.menu.model import Menu, Screen, Text
from gateway.menu.screens.context import ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import Locations, PathKey

if TYPE_CHECKING:
    from gateway.channels.base import Reply
    from gateway.menu.effects import Effect, EffectResult
    from gateway.menu.engine import Engine

S = TypeVar("S", bound=Screen)
Mode = Literal["ask", "end", "pass"]

SELECT = "select:"
"""Event: a menu option was chosen (``select:<key>``); an option's ``when`` is a condition."""
SUBMIT = "submit"
"""Event: a valid answer on an input or language screen."""
ROUTE = "route"
"""Event: leave a pass-through screen (the first transition whose conditions hold wins)."""
Callback = Callable[[EventData], Any]


@dataclass(frozen=True, slots=True)
class Transition:
    """One way out of a screen, for the state machine."""

    event: str
    dest: str
    conditions: list[Callback] = field(default_factory=list)
    before: list[Callback] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Edge:
    """An arrow: the target screen, where its ``next`` is written, and for graphs a label (which
    a graph may shorten) and a note (kept whole)."""

    target: str
    where: PathKey
    label: str = ""
    note: str = ""


class ScreenKind(Generic[S]):
    """Base of every kind; override what the kind does (the defaults do nothing)."""

    name: ClassVar[str]
    fields: ClassVar[frozenset[str]]
    mode: ClassVar[Mode]
    shape: ClassVar[tuple[str, str]] = ("[", "]")
    """How ``jumbe graph`` draws it (Mermaid node brackets)."""

    # --- the file ---------------------------------------------------------------------------

    def shorthand(self, spec: Any) -> Any:
        """Turn a short form (``end: "Thanks"``) into the mapping of fields."""
        return spec

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> S | None:
        """Build the screen from its fields (unknown fields are already reported); ``None``
        when it cannot be built at all (the error is reported; the rest is still checked)."""
        raise NotImplementedError

    def check(self, screen: S, menu: Menu, locations: Locations, findings: list[Finding]) -> None:
        """Checks of this kind beyond its fields (the whole menu is parsed by now)."""

    def edges(self, screen: S, language: str) -> list[Edge]:
        """Every way out, with its location in the file and a label for graphs."""
        return []

    def summary(self, screen: S, language: str) -> str:
        """What a reviewer reads on the screen's node in ``jumbe graph``."""
        header = self.header(screen, invalid=False)
        return header.template(language, language).source if header else ""

    # --- the state machine ------------------------------------------------------------------

    def transitions(self, screen: S) -> list[Transition]:
        return []

    # --- what it shows ----------------------------------------------------------------------

    def header(self, screen: S, invalid: bool) -> Text | None:
        """The text shown first (with ``invalid``: after a wrong answer, if it has one)."""
        return None

    def items(self, screen: S, menu: Menu, language: str, values: Mapping[str, Any]) -> list[str]:
        """The numbered lines under the header (never split across pages)."""
        return []

    def item_where(self, screen: S, index: int) -> PathKey:
        """Where item ``index`` is written (for a label too long for any page)."""
        return ("screens", screen.id, screen.kind)

    def navigable(self, screen: S) -> bool:
        """Whether back/home/more work here (and Back/More lines are shown)."""
        return False

    def texts(self, screen: S) -> list[Text]:
        """Every brand text it can show (for the GSM-7 checks)."""
        return [t for t in (self.header(screen, False), self.header(screen, True)) if t]

    def static(self, screen: S) -> bool:
        """Whether its pages depend on nothing but the language (so they can be cached)."""
        return not any(text.has_variables for text in self.texts(screen))

    # --- run time ---------------------------------------------------------------------------

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: S, raw: str
    ) -> Reply:
        """``ask`` kinds: apply the subscriber's input and render what follows."""
        return engine.render(menu, session)

    def enter(self, engine: Engine, menu: Menu, session: SessionState, screen: S) -> Effect | None:
        """``pass`` kinds: move on (``engine.route``), or return an effect to perform first."""
        engine.route(menu, session)
        return None

    def resume(
        self, engine: Engine, menu: Menu, session: SessionState, screen: S, result: EffectResult
    ) -> None:
        """``pass`` kinds that returned an effect: take its result and move on (an ``ask`` kind
        whose ``arrive`` or ``answer`` asked for one: take its result and stay)."""
        raise NotImplementedError(f"{self.name} screens perform no effect")

    def arrive(self, engine: Engine, menu: Menu, session: SessionState, screen: S) -> Effect | None:
        """``ask`` kinds: an effect to perform when the session reaches the screen, before it
        is shown (a survey loads its respondent); ``None`` (the default) shows it at once."""
        return None

    def ends(self, screen: S, values: Mapping[str, Any]) -> bool:
        """Whether showing the screen ends the session (``end`` kinds; a survey that is over)."""
        return self.mode == "end"


def session_of(event: EventData) -> SessionState:
    return cast(SessionState, event.model)


def when(condition: Condition) -> Callback:
    """A transition condition on the session's variables."""
    return lambda event: condition(session_of(event).vars)


def save_value(name: str) -> Callback:
    """Store the transition's ``value`` keyword argument as variable ``name``."""

    def save(event: EventData) -> None:
        session_of(event).vars[name] = event.kwargs["value"]

    return save


def save_constant(name: str, value: Any) -> Callback:
    """Store ``value`` as variable ``name`` (a chosen option's value)."""

    def save(event: EventData) -> None:
        session_of(event).vars[name] = value

    return save
