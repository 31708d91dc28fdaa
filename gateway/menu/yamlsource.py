"""Load YAML keeping the line and column of every node, so errors can point at the line.

``load(text, path)`` returns plain Python data plus ``Locations``: a map from a path tuple
(``("screens", "main", "menu", "options", 0, "next")``) to the 1-based (line, col) of that node.
Duplicate mapping keys, which PyYAML silently collapses, are reported as errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from gateway.menu.findings import Finding

PathKey = tuple[str | int, ...]


@dataclass
class Locations:
    path: str
    marks: dict[PathKey, tuple[int, int]] = field(default_factory=dict)

    def at(self, key: PathKey) -> tuple[int, int]:
        """The (line, col) of ``key``, or of its nearest located ancestor."""
        while key:
            if key in self.marks:
                return self.marks[key]
            key = key[:-1]
        return self.marks.get((), (1, 1))

    def finding(self, key: PathKey, message: str, severity: str = "error") -> Finding:
        line, col = self.at(key)
        return Finding(self.path, line, col, "error" if severity == "error" else "warning", message)


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: only true/false, so ``[yes, no]`` stays two words."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load(text: str, path: str) -> tuple[Any, Locations, list[Finding]]:
    """Parse ``text``; on a syntax error return ``None`` and the error as a finding."""
    locations = Locations(path)
    findings: list[Finding] = []
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        findings.append(Finding(path, line, col, "error", f"YAML syntax: {problem}"))
        return None, locations, findings
    except yaml.YAMLError as exc:
        findings.append(Finding(path, 1, 1, "error", f"YAML syntax: {exc}"))
        return None, locations, findings
    if node is None:
        return None, locations, findings
    constructor = _Loader("")
    data = _build(node, (), locations, findings, constructor)
    return data, locations, findings


def _build(
    node: yaml.Node,
    key: PathKey,
    locations: Locations,
    findings: list[Finding],
    constructor: yaml.SafeLoader,
) -> Any:
    locations.marks[key] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            name = constructor.construct_object(key_node, deep=True)
            if not isinstance(name, str | int | bool | float) or name is None:
                name = str(name)
            child: PathKey = (*key, name if isinstance(name, str | int) else str(name))
            if name in result:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                findings.append(
                    Finding(
                        locations.path,
                        line,
                        col,
                        "error",
                        f"duplicate key {name!r} (an earlier value would be lost)",
                    )
                )
            result[name] = _build(value_node, child, locations, findings, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, (*key, i), locations, findings, constructor)
            for i, item in enumerate(node.value)
        ]
    return constructor.construct_object(node, deep=True)
