"""``{variable}`` templating for menu texts: ``{name}``, ``{profile.name|there}``, ``{{``/``}}``.

Templates are parsed once at load into literal and variable parts; rendering is a join.
A missing variable renders its default, or an empty string when it has none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
"""A variable name: `name` or dotted `a.b` (a value saved from a webhook answer, say)."""


class TemplateError(ValueError):
    """The template text is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Variable:
    name: str
    default: str | None


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    parts: tuple[str | Variable, ...]

    @property
    def variables(self) -> tuple[Variable, ...]:
        return tuple(p for p in self.parts if isinstance(p, Variable))

    def render(self, values: Mapping[str, Any]) -> str:
        if len(self.parts) == 1 and isinstance(self.parts[0], str):
            return self.parts[0]
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                value = lookup(values, part.name)
                if value is None or value == "":
                    out.append(part.default or "")
                else:
                    out.append(str(value))
        return "".join(out)


def lookup(values: Mapping[str, Any], name: str) -> Any:
    """``a.b`` looks up ``values["a"]["b"]``, falling back to a flat ``values["a.b"]``."""
    if name in values:
        return values[name]
    current: Any = values
    for piece in name.split("."):
        if not isinstance(current, Mapping) or piece not in current:
            return None
        current = current[piece]
    return current


def parse(source: str) -> Template:
    """Parse ``source``; raises ``TemplateError`` on an unclosed or empty ``{}``."""
    parts: list[str | Variable] = []
    literal: list[str] = []
    i = 0
    while i < len(source):
        ch = source[i]
        if ch in "{}" and source[i : i + 2] in ("{{", "}}"):
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise TemplateError(f"unmatched '}}' at character {i + 1} (write '}}}}' for a brace)")
        if ch != "{":
            literal.append(ch)
            i += 1
            continue
        end = source.find("}", i)
        if end < 0:
            raise TemplateError(f"unclosed '{{' at character {i + 1}")
        name, _, default = source[i + 1 : end].partition("|")
        name = name.strip()
        if not NAME.fullmatch(name):
            raise TemplateError(f"bad variable name {name!r} at character {i + 1}")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Variable(name, default if "|" in source[i + 1 : end] else None))
        i = end + 1
    if literal or not parts:
        parts.append("".join(literal))
    return Template(source, tuple(parts))
