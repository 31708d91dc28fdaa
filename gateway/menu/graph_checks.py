"""Checks across the screens of one menu: targets exist, every screen is reachable and has a
way out, and each kind's own checks (``ScreenKind.check``)."""

from __future__ import annotations

from collections import deque

from gateway.menu.findings import Finding
from gateway.menu.model import Menu
from gateway.menu.screens import kind_of
from gateway.menu.yamlsource import Locations


def check_graph(
    menu: Menu, locations: Locations, findings: list[Finding], declared: set[str]
) -> None:
    """Append findings about the screen graph of ``menu``.

    ``declared`` holds every screen id in the file, including screens that failed to parse:
    those already have their own error, so links to them are not reported again, and the
    whole-graph warnings (unreachable, no way out) wait until every screen parses.
    """
    graph: dict[str, list[str]] = {}
    broken: set[str] = set()  # screens with a missing or unknown target (already an error)
    missing_next = False
    for screen in menu.screens.values():
        kind = kind_of(screen)
        targets = []
        for edge in kind.edges(screen, menu.default_language):
            if not edge.target:
                broken.add(screen.id)
                missing_next = True
            elif edge.target not in declared:
                findings.append(
                    locations.finding(edge.where, f"unknown next screen {edge.target!r}")
                )
                broken.add(screen.id)
            elif edge.target in menu.screens:
                targets.append(edge.target)
        graph[screen.id] = targets
        kind.check(screen, menu, locations, findings)
    if menu.start in menu.screens and declared == set(menu.screens):
        _check_reachability(menu, graph, broken, not missing_next, locations, findings)


def _check_reachability(
    menu: Menu,
    graph: dict[str, list[str]],
    broken: set[str],
    report_unreachable: bool,
    locations: Locations,
    findings: list[Finding],
) -> None:
    """Every screen is reachable from the start and can reach an end screen.

    Screens with a broken link get the benefit of the doubt (their error comes first), and
    with a missing ``next`` nothing can be said about reachability.
    """
    reachable = _reach(graph, [menu.start])
    if report_unreachable:
        for screen_id in menu.screens:
            if screen_id not in reachable:
                findings.append(locations.finding(
                    ("screens", screen_id),
                    f"screen {screen_id!r} is unreachable from start screen {menu.start!r}",
                    "warning",
                ))  # fmt: skip
    reverse: dict[str, list[str]] = {s: [] for s in menu.screens}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    ends = [s.id for s in menu.screens.values() if kind_of(s).mode == "end"] + sorted(broken)
    can_finish = _reach(reverse, ends)
    for screen_id in menu.screens:
        if screen_id in reachable and screen_id not in can_finish:
            findings.append(locations.finding(
                ("screens", screen_id),
                f"screen {screen_id!r} has no way out: no path from it reaches an end screen",
                "warning",
            ))  # fmt: skip


def _reach(graph: dict[str, list[str]], starts: list[str]) -> set[str]:
    seen = set(starts)
    queue = deque(starts)
    while queue:
        for target in graph.get(queue.popleft(), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen
