"""``survey``: run a survey (``kind: survey`` file) inside a menu, then go on to ``next``.

.. code-block:: yaml

    feedback:
      survey: {id: nps, next: main}      # or `survey: nps` (the session ends with its closing)

The survey's state belongs to the respondent (survey, subscriber pseudonym), not the session:
on arriving here the screen asks for it (``SurveyStep``, an effect the hop pipeline performs:
``hops.surveys``), and every answer is another ``SurveyStep`` decided by the pure survey engine
(``gateway.surveys.engine``); what it records rides with the session's save
(``SessionState.rides``), so an answer costs no extra Redis round trip. A completed survey
goes on to ``next`` (without one, its closing text ends the session); an already finished
survey, a quota rejection, a breakoff or a refusal end the session with their text.

The screen shows what the last step decided, kept in the session variable ``_sv``: ``h`` the
text, ``o`` the choices, ``end`` whether it closes the session, ``l`` the survey's language for
this respondent (``hops.surveys.choose_language``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gateway.channels.base import Reply
from gateway.menu import templates
from gateway.menu.effects import Effect, EffectResult
from gateway.menu.model import ANY_LANGUAGE, Menu, Screen, Text
from gateway.menu.screens.base import Edge, ScreenKind, Transition
from gateway.menu.screens.context import ParseContext
from gateway.menu.state import SessionState
from gateway.menu.yamlsource import PathKey
from gateway.surveys.answers import closing

if TYPE_CHECKING:
    from gateway.menu.engine import Engine

DONE = "survey:done"
"""The event that leaves a survey screen once the survey is completed."""
VAR = "_sv"
"""The session variable holding what the survey screen shows."""
HEADER = Text({ANY_LANGUAGE: templates.parse("{_sv.h}")})
_ID = templates.NAME


@dataclass(frozen=True, slots=True)
class SurveyStep(Effect):
    """Begin (``raw`` is ``None``: load the respondent) or answer (``raw``, from ``progress``,
    the respondent's progress as this session knows it)."""

    survey: str = ""
    raw: str | None = None
    progress: Mapping[str, Any] | None = None
    language: str = "en"


@dataclass(frozen=True, slots=True)
class SurveyScreen(Screen):
    survey: str = ""
    next: str = ""
    kind: ClassVar[str] = "survey"


class SurveyKind(ScreenKind[SurveyScreen]):
    name = "survey"
    fields = frozenset({"id", "next"})
    mode = "ask"
    shape = ("[[", "]]")

    def shorthand(self, spec: Any) -> Any:
        return {"id": spec} if isinstance(spec, str) else spec

    def parse(
        self, ctx: ParseContext, key: PathKey, screen_id: str, body: dict[str, Any]
    ) -> SurveyScreen:
        survey = body.get("id")
        if not isinstance(survey, str) or not _ID.fullmatch(survey.replace("-", "_")):
            ctx.error((*key, "id") if "id" in body else key, "survey needs the id of a survey "
                      "(a kind: survey file in the content folder)")  # fmt: skip
            survey = ""
        nxt = ctx.target((*key, "next"), body.get("next")) if "next" in body else ""
        return SurveyScreen(screen_id, survey, nxt)

    def edges(self, screen: SurveyScreen, language: str) -> list[Edge]:
        if not screen.next:
            return []
        return [Edge(screen.next, ("screens", screen.id, "survey", "next"), "completed")]

    def summary(self, screen: SurveyScreen, language: str) -> str:
        return f"survey {screen.survey}"

    def transitions(self, screen: SurveyScreen) -> list[Transition]:
        return [Transition(DONE, screen.next)] if screen.next else []

    def header(self, screen: SurveyScreen, invalid: bool) -> Text:
        return HEADER

    def items(
        self, screen: SurveyScreen, menu: Menu, language: str, values: Mapping[str, Any]
    ) -> list[str]:
        shown = values.get(VAR) or {}
        return [f"{i}. {label}" for i, label in enumerate(shown.get("o", ()), 1)]

    def ends(self, screen: SurveyScreen, values: Mapping[str, Any]) -> bool:
        shown = values.get(VAR) or {}
        return bool(shown.get("end")) and shown.get("s") == screen.id

    def arrive(
        self, engine: Engine, menu: Menu, session: SessionState, screen: SurveyScreen
    ) -> Effect | None:
        shown = session.vars.get(VAR) or {}
        if shown.get("s") == screen.id:
            return None
        return SurveyStep(screen.id, screen.survey, None, None, session.language)

    def answer(
        self, engine: Engine, menu: Menu, session: SessionState, screen: SurveyScreen, raw: str
    ) -> Reply:
        shown = session.vars.get(VAR) or {}
        more = menu.navigation.more
        if raw.strip() == more and session.page + 1 < len(engine.pages(menu, session)):
            session.page += 1  # a long question on several screens (channels.ussd.paginate)
            return engine.render(menu, session)
        session.effect = SurveyStep(screen.id, screen.survey, raw, shown.get("p"),
                                    shown.get("l") or session.language)  # fmt: skip
        return Reply("", False)  # not shown: the engine performs the effect and resumes

    def resume(
        self,
        engine: Engine,
        menu: Menu,
        session: SessionState,
        screen: SurveyScreen,
        result: EffectResult,
    ) -> None:
        session.page = 0
        if not result.ok:  # Redis down, the survey gone: a readable END, the respondent unchanged
            text = closing(None, "unavailable", session.language)
            session.vars[VAR] = {"s": screen.id, "h": text, "o": [], "end": True}
            return
        value = result.value
        session.rides.extend(value["rides"])
        if value["completed"] and screen.next:
            session.vars.pop(VAR, None)
            engine.route(menu, session, DONE)
            return
        session.vars[VAR] = {"s": screen.id, "p": value["progress"], "h": value["text"],
                             "o": value["options"], "end": value["end"],
                             "l": value["language"]}  # fmt: skip
