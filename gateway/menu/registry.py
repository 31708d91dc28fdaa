"""The menus being served: service code → menu, every loaded version by (id, version).

Loading is all-or-nothing per file: a file with errors is not served, and on reload the
previous good version of it keeps serving. Swapping in a new set of menus is one assignment,
so a hop sees either the old set or the new one. Old versions stay available (the last
``KEEP_VERSIONS`` per menu) so that sessions in flight finish on the version they started with.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from gateway.menu.findings import Finding, has_errors
from gateway.menu.model import Menu
from gateway.menu.parse import parse_file
from gateway.text import Budget

KEEP_VERSIONS = 5
MENU_SUFFIXES = (".yaml", ".yml")


def menu_files(paths: list[Path]) -> list[Path]:
    """Menu files named by ``paths`` (files, or folders searched one level deep), sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.iterdir())
                if p.suffix in MENU_SUFFIXES and not p.name.startswith(".")
            )
        else:
            found.append(path)
    return found


def check_files(
    paths: list[Path], budget: Budget | None = None
) -> tuple[list[Menu], list[Finding]]:
    """Parse every file and check service codes across files. Menus with errors are left out.

    ``budget`` is the screen size to check lengths against (the strictest network's).
    """
    return combine([parse_file(path, budget) for path in menu_files(paths)])


def combine(parsed: list[tuple[Menu | None, list[Finding]]]) -> tuple[list[Menu], list[Finding]]:
    """Per-file results → the menus to serve and every finding, adding the checks across files
    (menu ids, service codes). A file with any error is left out."""
    menus = [menu for menu, _ in parsed if menu is not None]
    findings = [finding for _, file_findings in parsed for finding in file_findings]
    findings.extend(_cross_file(menus))
    bad = {f.path for f in findings if f.severity == "error"}
    return [m for m in menus if m.path not in bad], findings


def _cross_file(menus: list[Menu]) -> list[Finding]:
    findings = []
    owner: dict[str, Menu] = {}
    ids: dict[str, Menu] = {}
    for menu in menus:
        if menu.id in ids:
            findings.append(
                Finding(
                    menu.path,
                    1,
                    1,
                    "error",
                    f"menu id {menu.id!r} is also used by {ids[menu.id].path}",
                )
            )
        ids.setdefault(menu.id, menu)
        for code in menu.service_codes:
            if code in owner:
                findings.append(
                    Finding(
                        menu.path,
                        1,
                        1,
                        "error",
                        f"service code {code} is also served by {owner[code].path}",
                    )
                )
            owner.setdefault(code, menu)
    return findings


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
        self.install(menus or [])

    def install(self, menus: list[Menu]) -> list[Menu]:
        """Serve exactly ``menus`` from now on (old versions stay reachable by version); the
        versions dropped for good (beyond ``KEEP_VERSIONS``) are returned."""
        snapshot = _Snapshot()
        for menu in menus:
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


def load_registry(
    menus_dir: Path, budget: Budget | None = None
) -> tuple[MenuRegistry, list[Finding]]:
    """Load every menu in ``menus_dir``; the caller decides what to do with errors."""
    menus, findings = check_files([menus_dir], budget)
    return MenuRegistry(menus), findings


__all__ = ["MenuRegistry", "check_files", "has_errors", "load_registry", "menu_files"]
