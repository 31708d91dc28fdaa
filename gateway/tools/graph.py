"""``jumbe graph``: one menu file as a Mermaid ``flowchart TD``, for brands to review.

Every screen is a node (id, kind and the start of its default-language text); every way out of
a screen is an edge. Labels are always ``"…"``-quoted with Mermaid entity codes (``#quot;``,
``#35;`` …) for the characters that would otherwise end a label or be read as HTML or Markdown.
"""

from __future__ import annotations

import re

from gateway.menu.model import Menu, Screen
from gateway.menu.screens import kind_of

LABEL_CHARS = 40
_ENTITIES = {
    "#": "#35;",  # first: every other replacement starts with '#'
    '"': "#quot;",
    "&": "#amp;",
    "<": "#lt;",
    ">": "#gt;",
    "|": "#124;",
    "`": "#96;",
    "*": "#42;",
    "\\": "#92;",
}
# Mermaid 11 reads labels as Markdown: "1. Rate us" would become a list, "- x" a bullet.
_LIST_MARKER = re.compile(r"^(\d+)([.)])|^([-+])(?= )")
_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def escape(text: str) -> str:
    """``text`` made safe inside a quoted Mermaid label: one line, entity-coded, and never
    read as Markdown structure (entity codes survive Mermaid's Markdown pass)."""
    text = " ".join(text.split())
    for char, entity in _ENTITIES.items():
        text = text.replace(char, entity)
    return _LIST_MARKER.sub(lambda m: (m[1] or "") + f"#{ord(m[2] or m[3])};", text)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    """Whitespace collapsed (newlines included), cut to ``limit`` characters with ``…``."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def mermaid(menu: Menu) -> str:
    """The Mermaid ``flowchart TD`` source for ``menu``, ending with a newline."""
    ids = node_ids(menu)
    codes = escape(" ".join(menu.service_codes))
    lines = ["flowchart TD", f'    dial(("{codes}"))', f"    dial --> {ids[menu.start]}"]
    lines += [f"    {_node(ids[s.id], s, menu)}" for s in menu.screens.values()]
    for screen in menu.screens.values():
        for target, label in transitions(screen, menu.default_language):
            link = f'-->|"{escape(label)}"|' if label else "-->"
            lines.append(f"    {ids[screen.id]} {link} {ids[target]}")
    lines.append("    classDef start stroke-width:4px")
    lines.append(f"    class {ids[menu.start]} start")
    return "\n".join(lines) + "\n"


def node_ids(menu: Menu) -> dict[str, str]:
    """Screen id → a Mermaid-safe node id (``s_`` + letters, digits, ``_``; never ``end``)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for screen_id in menu.screens:
        base = candidate = "s_" + _NOT_ID.sub("_", screen_id)
        n = 2
        while candidate in taken:
            candidate, n = f"{base}_{n}", n + 1
        ids[screen_id] = candidate
        taken.add(candidate)
    return ids


def _node(node_id: str, screen: Screen, menu: Menu) -> str:
    opening, closing = kind_of(screen).shape
    label = escape(f"{screen.id} · {screen.kind}")
    summary = summary_of(screen, menu.default_language)
    if summary:
        label += "<br/>" + escape(shorten(summary))
    return f'{node_id}{opening}"{label}"{closing}'


def summary_of(screen: Screen, language: str) -> str:
    """What a reviewer reads on the node: the text source, or a set screen's assignments."""
    return kind_of(screen).summary(screen, language)


def transitions(screen: Screen, language: str) -> list[tuple[str, str]]:
    """(target screen, edge label) for every way out of ``screen``; ``""`` = unlabelled."""
    return [
        (edge.target, " ".join(part for part in (shorten(edge.label), edge.note) if part))
        for edge in kind_of(screen).edges(screen, language)
    ]
