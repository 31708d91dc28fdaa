"""The validated, immutable form of a menu file. Built by ``gateway.menu.parse``.

A ``Menu`` is one version of one file; its ``machine`` (a ``transitions.Machine``) is built once
at load and shared by every session on that version.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.menu.conditions import Condition
from gateway.menu.findings import Finding
from gateway.menu.templates import Template
from gateway.menu.validators import Validator
from gateway.text import Budget

ANY_LANGUAGE = "*"


@dataclass(frozen=True, slots=True)
class Text:
    """A text in several languages (``*`` = the same in every language)."""

    by_language: Mapping[str, Template]

    def template(self, language: str, default_language: str) -> Template:
        found = self.by_language.get(language) or self.by_language.get(ANY_LANGUAGE)
        if found is None:
            found = self.by_language.get(default_language)
        if found is None:
            found = next(iter(self.by_language.values()))
        return found

    def render(self, language: str, default_language: str, values: Mapping[str, Any]) -> str:
        return self.template(language, default_language).render(values)


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    label: Text
    next: str
    value: str
    when: Condition | None = None


@dataclass(frozen=True, slots=True)
class MenuScreen:
    id: str
    text: Text
    options: tuple[Option, ...]
    invalid: Text | None = None
    save: str | None = None
    navigation: bool = True
    kind: Literal["menu"] = "menu"


@dataclass(frozen=True, slots=True)
class InputScreen:
    id: str
    text: Text
    validate: Validator
    next: str
    invalid: Text | None = None
    save: str | None = None
    navigation: bool = True
    kind: Literal["input"] = "input"


@dataclass(frozen=True, slots=True)
class EndScreen:
    id: str
    text: Text
    kind: Literal["end"] = "end"


@dataclass(frozen=True, slots=True)
class Route:
    condition: Condition | None
    source: str
    next: str


@dataclass(frozen=True, slots=True)
class RouterScreen:
    id: str
    routes: tuple[Route, ...]
    kind: Literal["router"] = "router"


@dataclass(frozen=True, slots=True)
class SetScreen:
    id: str
    values: Mapping[str, Template]
    next: str
    kind: Literal["set"] = "set"


@dataclass(frozen=True, slots=True)
class LanguageScreen:
    """Offers the file's languages; the choice is kept for this subscriber across sessions."""

    id: str
    text: Text
    next: str
    labels: Mapping[str, str]
    navigation: bool = True
    kind: Literal["language"] = "language"


Screen = MenuScreen | InputScreen | EndScreen | RouterScreen | SetScreen | LanguageScreen
INTERACTIVE = (MenuScreen, InputScreen, LanguageScreen)


@dataclass(frozen=True, slots=True)
class Navigation:
    """Keys for back/home/more and whether screens show a ``Back`` line."""

    enabled: bool = True
    back: str = "0"
    home: str = "00"
    more: str = "98"
    show_back: bool = True


@dataclass(frozen=True, slots=True)
class ResumePolicy:
    policy: Literal["resume", "confirm", "restart"] = "restart"
    within: int = 600


@dataclass(eq=False)
class Menu:
    """One version of one menu file, with its compiled state machine."""

    id: str
    version: str
    path: str
    service_codes: tuple[str, ...]
    languages: tuple[str, ...]
    start: str
    screens: Mapping[str, Screen]
    navigation: Navigation = field(default_factory=Navigation)
    resume: ResumePolicy = field(default_factory=ResumePolicy)
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    machine: Any = None
    page_cache: dict[tuple[str, str, bool, bool, Budget], list[str]] = field(default_factory=dict)
    """Rendered pages of screens without variables or conditions (see ``Engine._pages``)."""
    static_screens: frozenset[str] = frozenset()
    findings: tuple[Finding, ...] = ()
    """The check's warnings for this version (a served version has no errors)."""

    @property
    def default_language(self) -> str:
        return self.languages[0]
