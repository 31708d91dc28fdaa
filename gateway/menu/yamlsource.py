"""Load YAML keeping the line and column of every node, so errors can point at the line.

``load(text, path)`` returns plain Python data plus ``Locations``: a map from a path tuple
(``("screens", "main", "menu", "options", 0, "next")``) to the 1-based (line, col) of that node.
Duplicate mapping keys, which PyYAML silently collapses, are reported as errors.

Brand files are untrusted input, so three things are refused while the file is *composed*,
before any value is built: aliases (``*name``: a 600-byte "billion laughs" file expands to a
billion nodes), nesting deeper than ``MAX_DEPTH`` (the composer recurses; a few thousand
brackets would end in ``RecursionError``) and files larger than ``MAX_BYTES``. Each is a
finding at its line. ``safe_load`` applies the same rules to the other YAML files brands write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from gateway.menu.findings import Finding

PathKey = tuple[str | int, ...]

MAX_DEPTH = 64
"""Deepest nesting of mappings and sequences; real menus use fewer than 10 levels."""
MAX_BYTES = 4 << 20
"""Largest brand file: a 10,000-screen menu is about 1.3 MiB."""


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

    def release(self) -> None:
        """Drop the marks one by one: freed in one go, a 10,000-screen file's marks hold the
        GIL for ~40 ms (this runs in a background thread while the event loop serves)."""
        while self.marks:
            self.marks.popitem()

    def finding(self, key: PathKey, message: str, severity: str = "error") -> Finding:
        line, col = self.at(key)
        return Finding(self.path, line, col, "error" if severity == "error" else "warning", message)


class RefusedYAML(yaml.YAMLError):
    """Valid YAML that brand files may not use (an alias, absurd nesting, a huge file)."""

    def __init__(self, line: int, col: int, problem: str) -> None:
        super().__init__(problem)
        self.line, self.col, self.problem = line, col, problem

    @classmethod
    def at(cls, event: yaml.Event, problem: str) -> RefusedYAML:
        mark = event.start_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        return cls(line, col, problem)

    def __str__(self) -> str:
        return f"line {self.line}, column {self.col}: {self.problem}"


class _Composer(yaml.composer.Composer, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
    """Composes nodes from parser events, refusing aliases and nesting deeper than
    ``MAX_DEPTH``; YAML 1.2 booleans (only true/false, so ``[yes, no]`` stays two words)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[attr-defined]
        if isinstance(event, yaml.AliasEvent):
            raise RefusedYAML.at(
                event,
                f"YAML aliases (*{event.anchor}) are not allowed in brand files:"
                " write the value out",
            )
        if not isinstance(event, yaml.CollectionStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise RefusedYAML.at(
                event,
                f"nesting deeper than {MAX_DEPTH} levels: brand files do not need more",
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _Loader(_Composer, CParser):
        """libyaml's scanner and parser (5x faster than PyYAML's: 2.6 s instead of 14 s for a
        10,000-screen file) feeding the Python composer above, which sees every event."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

else:  # pragma: no cover - PyYAML built without libyaml

    class _Loader(  # type: ignore[no-redef]
        _Composer, yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser
    ):
        def __init__(self, stream: str) -> None:
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)


_Composer.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Composer.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


TOO_LARGE = f"file is larger than {MAX_BYTES >> 20} MiB: split it into several files"


def safe_load(text: str, path: str) -> Any:
    """Plain data from a brand's YAML under the same rules as menus (aliases, depth, size,
    duplicate keys); raises ``yaml.YAMLError`` whose message starts ``line L, column C:``."""
    data, _, findings = load(text, path)
    for finding in findings:
        if finding.severity == "error":
            raise RefusedYAML(finding.line, finding.col, finding.message)
    return data


def load(text: str, path: str) -> tuple[Any, Locations, list[Finding]]:
    """Parse ``text``; on a syntax error return ``None`` and the error as a finding."""
    locations = Locations(path)
    findings: list[Finding] = []
    if len(text) > MAX_BYTES or len(text.encode()) > MAX_BYTES:
        findings.append(Finding(path, 1, 1, "error", TOO_LARGE))
        return None, locations, findings
    try:
        node = _compose(text)
    except RefusedYAML as exc:
        findings.append(Finding(path, exc.line, exc.col, "error", exc.problem))
        return None, locations, findings
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


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _build(
    node: yaml.Node,
    key: PathKey,
    locations: Locations,
    findings: list[Finding],
    constructor: _Composer,
) -> Any:
    """Plain data from ``node``, noting every location. Each node is emptied once built, so the
    node tree is freed a piece at a time (freed in one go at the end, a 10,000-screen file's
    tree held the GIL for ~110 ms, stalling the event loop during a background reload)."""
    locations.marks[key] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            name = _scalar(key_node, constructor)
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
        node.value.clear()
        return result
    if isinstance(node, yaml.SequenceNode):
        items = [
            _build(item, (*key, i), locations, findings, constructor)
            for i, item in enumerate(node.value)
        ]
        node.value.clear()
        return items
    return _scalar(node, constructor)


def _scalar(node: yaml.Node, constructor: _Composer) -> Any:
    value = constructor.construct_object(node, deep=True)
    constructor.constructed_objects.clear()  # its cache of every node built (no aliases here)
    return value
