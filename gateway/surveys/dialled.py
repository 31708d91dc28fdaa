"""A survey with ``service_codes`` is served through the menu registry as a one-screen menu
(``survey:<id>``): the dialled code starts a session on its ``survey`` screen, so dedupe,
retries, concurrency and the compare-and-set save are the hop pipeline's, unchanged."""

from __future__ import annotations

from gateway.menu.compiler import compile_machine
from gateway.menu.model import Menu, Navigation
from gateway.menu.screens.survey import SurveyScreen
from gateway.surveys.model import Survey

SCREEN = "survey"


def dialled_menu(survey: Survey) -> Menu:
    """The menu that serves ``survey``'s service codes. It has one language (a menu of one
    language reads nothing about the subscriber before the survey does); the survey's first
    read fetches the subscriber's language with the respondent (``hops.surveys``)."""
    menu = Menu(
        f"survey:{survey.id}", survey.version, survey.path, survey.service_codes,
        (survey.default_language,), SCREEN, {SCREEN: SurveyScreen(SCREEN, survey.id)},
        Navigation(enabled=False),
    )  # fmt: skip
    menu.machine = compile_machine(menu)
    return menu
