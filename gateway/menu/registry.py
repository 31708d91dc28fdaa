"""The menus being served: service code → menu, every loaded version by (id, version).

The content folder decides what to serve (``gateway.content``: a file with errors is not
served, and on reload the previous good version of it keeps serving) and installs it here.
Swapping in a new set of menus is one assignment, so a hop sees either the old set or the new
one. Old versions stay available (the last ``KEEP_VERSIONS`` per menu) so that sessions in
flight finish on the version they started with.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

from gateway.menu.model import Menu

KEEP_VERSIONS = 5


@dataclass
class _Snapshot:
    by_code: dict[str, Menu] = field(default_factory=dict)
    by_base: dict[str, Menu] = field(default_factory=dict)
    current: dict[str, Menu] = field(default_factory=dict)
    longest_base: int = 0
    """Length of the longest key of ``by_base``: longer prefixes of a dialled code can't match."""


class MenuRegistry:
    """Resolves service codes to menus; holds old versions for sessions in flight."""

    def __init__(self, menus: list[Menu] | None = None) -> None:
        self._snapshot = _Snapshot()
        self._versions: OrderedDict[tuple[str, str], Menu] = OrderedDict()
        self._sources: dict[str, list[Menu]] = {}
        self.install(menus or [])

    def install(self, menus: list[Menu], source: str = "menu") -> list[Menu]:
        """Serve exactly ``menus`` for ``source`` from now on (the menu files; ``survey``: the
        one-screen menus of dialled surveys), with every other source's as they were. Old
        versions stay reachable by version; those dropped for good (beyond ``KEEP_VERSIONS``)
        are returned."""
        self._sources[source] = list(menus)
        snapshot = _Snapshot()
        for menu in (m for served in self._sources.values() for m in served):
            snapshot.current[menu.id] = menu
            for code in menu.service_codes:
                snapshot.by_code[code] = menu
                snapshot.by_base[code[:-1]] = menu
                snapshot.longest_base = max(snapshot.longest_base, len(code) - 1)
            self._versions[(menu.id, menu.version)] = menu
            self._versions.move_to_end((menu.id, menu.version))
        self._snapshot = snapshot
        return self._trim()

    def _trim(self) -> list[Menu]:
        per_menu: dict[str, int] = {}
        for menu_id, _ in reversed(self._versions):
            per_menu[menu_id] = per_menu.get(menu_id, 0) + 1
        dropped = []
        for key in list(self._versions):
            if per_menu[key[0]] > KEEP_VERSIONS:
                per_menu[key[0]] -= 1
                dropped.append(self._versions.pop(key))
        return dropped

    @property
    def menus(self) -> list[Menu]:
        return list(self._snapshot.current.values())

    def resolve(self, service_code: str) -> tuple[Menu, list[str]] | None:
        """The menu for a dialled code, plus extra dialled digits (``*384*123*2#`` → ``["2"]``)."""
        code = service_code.strip()
        snapshot = self._snapshot
        menu = snapshot.by_code.get(code)
        if menu is not None:
            return menu, []
        base = code[:-1] if code.endswith("#") else code
        # Longest known prefix first, trying only prefixes no longer than a known one: linear
        # in the code's length (splitting from the right one '*' at a time was quadratic).
        star = base.rfind("*", 1, snapshot.longest_base + 1)
        while star > 0:
            menu = snapshot.by_base.get(base[:star])
            if menu is not None:
                return menu, base[star + 1 :].split("*")
            star = base.rfind("*", 1, star)
        return None

    def version(self, menu_id: str, version: str) -> Menu | None:
        """A specific loaded version, else the current version of that menu, else ``None``."""
        return self._versions.get((menu_id, version)) or self._snapshot.current.get(menu_id)


__all__ = ["KEEP_VERSIONS", "MenuRegistry"]
