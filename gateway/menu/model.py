"""The validated, immutable form of a menu file. Built by ``gateway.menu.parse``.

A ``Menu`` is one version of one file; its ``machine`` (a ``transitions.Machine``) is built once
at load and shared by every session on that version. Its screens are instances of the screen
kinds in ``gateway.menu.screens`` (one module each), all subclasses of ``Screen``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from gateway.menu.findings import Finding
from gateway.menu.templates import Template
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

    @property
    def has_variables(self) -> bool:
        return any(template.variables for template in self.by_language.values())


@dataclass(frozen=True, slots=True)
class Screen:
    """One screen of a menu; each kind (``gateway.menu.screens``) is a subclass."""

    id: str
    kind: ClassVar[str] = ""


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
    """Rendered pages of screens that depend on nothing but the language (``Engine.pages``)."""
    static_screens: frozenset[str] = frozenset()
    findings: tuple[Finding, ...] = ()
    """The check's warnings for this version (a served version has no errors)."""

    @property
    def default_language(self) -> str:
        return self.languages[0]
