"""What a screen kind's ``parse`` works with: the file's locations and languages, and helpers
that read a field and report a finding at its line when it is wrong."""

from __future__ import annotations

from typing import Any

from gateway.menu import conditions, templates
from gateway.menu.findings import Finding
from gateway.menu.model import ANY_LANGUAGE, Text
from gateway.menu.yamlsource import Locations, PathKey

PLACEHOLDER = Text({ANY_LANGUAGE: templates.parse("")})
"""Stands in for a text that failed (its error is reported) so the rest can still be checked."""


class ParseContext:
    """Collects findings while one file is parsed."""

    def __init__(self, locations: Locations, languages: tuple[str, ...]) -> None:
        self.locations = locations
        self.languages = languages
        self.findings: list[Finding] = []
        self.declared: set[str] = set()

    def error(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "error"))

    def warning(self, key: PathKey, message: str) -> None:
        self.findings.append(self.locations.finding(key, message, "warning"))

    def template(self, key: PathKey, source: Any) -> templates.Template | None:
        if not isinstance(source, str | int | float):
            self.error(key, f"expected text, found {type(source).__name__}")
            return None
        try:
            return templates.parse(str(source))
        except templates.TemplateError as exc:
            self.error(key, f"bad template: {exc}")
            return None

    def text(self, key: PathKey, value: Any, what: str = "text") -> Text | None:
        """A text in one (``"…"``) or several (``{en: …, sw: …}``) languages."""
        if value is None:
            self.error(key, f"missing {what}")
            return None
        if isinstance(value, dict):
            parsed: dict[str, templates.Template] = {}
            for language, source in value.items():
                if language not in self.languages:
                    declared = ", ".join(self.languages)
                    self.warning(
                        (*key, language),
                        f"{what} in undeclared language {language!r} (declared: {declared})",
                    )
                tpl = self.template((*key, language), source)
                if tpl is not None:
                    parsed[str(language)] = tpl
            default = self.languages[0]
            for language in self.languages:
                if language in parsed or self._has_error_at(key):
                    continue
                fallback = default if default in parsed else next(iter(parsed), default)
                self.warning(key, f"missing {language!r} {what}; {fallback!r} is shown instead")
            return Text(parsed) if parsed else None
        tpl = self.template(key, value)
        return Text({ANY_LANGUAGE: tpl}) if tpl else None

    def optional_text(self, key: PathKey, body: dict[str, Any], name: str) -> Text | None:
        """``body[name]`` as a text when present (an ``invalid:`` message, say)."""
        return self.text((*key, name), body[name]) if name in body else None

    def _has_error_at(self, key: PathKey) -> bool:
        line, col = self.locations.at(key)
        return any(f.line == line and f.col == col and f.severity == "error" for f in self.findings)

    def fields(
        self, key: PathKey, body: dict[str, Any], allowed: frozenset[str] | set[str]
    ) -> None:
        for name in body:
            if name not in allowed:
                self.error(
                    (*key, name), f"unknown field {name!r} (allowed: {', '.join(sorted(allowed))})"
                )

    def target(self, key: PathKey, value: Any) -> str:
        """A ``next`` screen id ("" after reporting a missing one)."""
        if not isinstance(value, str) or not value:
            self.error(key, "missing next screen")
            return ""
        return value

    def save(self, key: PathKey, body: dict[str, Any]) -> str | None:
        """The variable named by ``save:``, if any."""
        name = body.get("save")
        if name is None:
            return None
        if not isinstance(name, str) or not templates.NAME.fullmatch(name):
            self.error((*key, "save"), f"save: bad variable name {name!r}")
            return None
        return name

    def flag(self, key: PathKey, body: dict[str, Any], name: str, default: bool = True) -> bool:
        value = body.get(name, default)
        if not isinstance(value, bool):
            self.error((*key, name), f"{name}: expected true or false")
            return default
        return value

    def condition(self, key: PathKey, source: Any) -> conditions.Condition | None:
        try:
            return conditions.compile_condition(str(source))[0]
        except conditions.ConditionError as exc:
            self.error(key, f"bad condition {source!r}: {exc}")
            return None
