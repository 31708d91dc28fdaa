"""``kind: menu`` (the default): a USSD service, checked and compiled by ``gateway.menu``.

The menu package does the work (``parse_document``: screens, texts, budget, graph, compiled
machine); this module adds what the content folder needs: the claims across files (menu id,
service codes, at their lines), and serving through the ``MenuRegistry`` (old versions kept
for sessions in flight, dropped ones freed off the event loop).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from gateway.content.kind import Built, Claim, Document
from gateway.menu.model import Menu
from gateway.menu.parse import parse_document
from gateway.menu.registry import MenuRegistry

if TYPE_CHECKING:
    from aiohttp import web


class MenuKind:
    """Menu files: checked and compiled by ``menu.parse``, served by the ``MenuRegistry``."""

    name = "menu"

    def build(self, document: Document) -> Built[Menu]:
        where = _claim_positions(document)  # read before parse_document releases the marks
        menu, findings = parse_document(
            document.data, document.locations, document.version, document.budget,
            document.findings,
        )  # fmt: skip
        if menu is None:
            return Built(self.name, document.path, document.version, None, findings)
        claims = [Claim("menu id", menu.id, *where["id"], f"menu id {menu.id!r} is also used by")]
        claims += [
            Claim("service code", code, *where.get(code, where["id"]),
                  f"service code {code} is also served by")
            for code in menu.service_codes
        ]  # fmt: skip
        return Built(
            self.name, document.path, document.version, menu, findings, tuple(claims), menu.id
        )

    def install(self, app: web.Application, values: list[Menu]) -> list[Any]:
        from gateway.appkeys import REGISTRY  # not at import: `jumbe check` needs no app

        if REGISTRY not in app:  # the survey kind may have created it (dialled surveys)
            app[REGISTRY] = MenuRegistry()
        return app[REGISTRY].install(values)

    def release(self, retired: list[Any]) -> None:
        release_unused(retired)


def _claim_positions(document: Document) -> dict[str, tuple[int, int]]:
    """(line, col) of the id (key ``"id"``) and of each service code (keyed by the code)."""
    where = {"id": document.locations.at(("id",))}
    codes = document.data.get("service_codes")
    if isinstance(codes, list):
        for i, code in enumerate(codes):
            if isinstance(code, str):
                where.setdefault(code, document.locations.at(("service_codes", i)))
    elif isinstance(codes, str):
        where[codes] = document.locations.at(("service_codes",))
    return where


def release_unused(retired: list[Menu]) -> None:
    """Free versions the registry dropped a piece at a time, so that the GIL changes hands in
    between (in one go, a 10,000-screen version holds it for ~70 ms). A version something
    still uses (a hop in flight) is left alone: it is freed when that reference goes."""
    while retired:
        menu = retired.pop()
        if sys.getrefcount(menu) > 2:  # `menu` and getrefcount's argument: anything more is a user
            continue
        machine = menu.machine
        if machine is not None:
            for event in machine.events.values():
                while event.transitions:
                    event.transitions.popitem()
            while machine.states:
                machine.states.popitem()
        for table in (menu.screens, menu.page_cache):
            while isinstance(table, dict) and table:
                table.popitem()
        del menu, machine


KIND = MenuKind()
