"""Live reload of the menu folder: a file that fails the check keeps its previous version.

Triggered by a change in the folder (polled), SIGHUP, or ``POST /admin/reload``. A reload is
all-or-nothing per file and atomic for the registry: new sessions see the new set at once;
sessions in flight keep the version they started with (the registry keeps old versions).

A reload never stalls hops (a 10,000-screen file takes seconds to parse):

- only files whose fingerprint (mtime, ctime, size, inode) changed are read again, and only
  those whose content hash changed are parsed again; the others keep their parsed ``Menu``.
  The checks across files (ids, service codes) still run over the whole set;
- reading and parsing run in a worker thread (``reload_async``); while they do, the GIL goes
  back to the event loop thread more often (``sys.setswitchinterval``) and the cycle
  collector is paused; loaded menus are then frozen out of its sight (``gc.freeze``);
- reloads are serialized, and the registry swap happens on the event loop, in one assignment.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from gateway.menu.findings import Finding
from gateway.menu.model import Menu
from gateway.menu.parse import parse_source, read_source, source_version
from gateway.menu.registry import MenuRegistry, combine, menu_files
from gateway.text import Budget

Fingerprint = tuple[int, int, int, int]
"""(mtime_ns, ctime_ns, size, inode): ctime and inode catch a copy or rename that keeps mtime."""

BACKGROUND_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits, during a background parse (default
0.005): the event loop thread gets it back within 0.5 ms instead of 5 ms after each I/O wait."""


@dataclass
class ReloadReport:
    loaded: list[str] = field(default_factory=list)
    """Menu ids now served from their current file."""
    kept: list[str] = field(default_factory=list)
    """Files with errors whose previous version keeps serving."""
    rejected: list[str] = field(default_factory=list)
    """New files with errors (nothing served from them)."""
    removed: list[str] = field(default_factory=list)
    """Menu ids no longer served because their file is gone."""
    parsed: list[str] = field(default_factory=list)
    """Files read and checked again (the others were unchanged and kept their parsed menu)."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.kept or self.rejected)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "loaded": self.loaded,
            "kept_previous": self.kept,
            "rejected": self.rejected,
            "removed": self.removed,
            "parsed": self.parsed,
            "findings": [str(f) for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class _Parsed:
    """One file as last read: its fingerprint, content hash and parse result."""

    fingerprint: Fingerprint
    digest: str
    menu: Menu | None
    findings: list[Finding]


@dataclass
class _Plan:
    """What a reload found, computed off the event loop; ``apply`` makes it so."""

    fingerprints: dict[str, Fingerprint]
    files: dict[str, _Parsed]
    parsed: list[str]
    menus: list[Menu]
    findings: list[Finding]


class MenuReloader:
    """Re-reads ``menus_dir`` into ``registry`` when asked or when files change."""

    def __init__(
        self, registry: MenuRegistry, menus_dir: Path, budget: Budget | None = None
    ) -> None:
        self.registry = registry
        self.menus_dir = menus_dir
        self.budget = budget
        self._lock = asyncio.Lock()
        self._fingerprint = self._scan()
        self._files = self._adopt(registry, self._fingerprint)
        settle_loaded_menus()

    def _scan(self) -> dict[str, Fingerprint]:
        """Stat every menu file (no reading): cheap enough to poll on the event loop."""
        fingerprint = {}
        for path in menu_files([self.menus_dir]) if self.menus_dir.is_dir() else []:
            try:
                stat = path.stat()
            except OSError:
                continue
            fingerprint[str(path)] = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)
        return fingerprint

    @staticmethod
    def _adopt(registry: MenuRegistry, fingerprints: dict[str, Fingerprint]) -> dict[str, _Parsed]:
        """The registry's menus whose file still holds that version, so that the first reload
        parses only what changed since start-up."""
        files = {}
        for menu in registry.menus:
            raw = read_source(Path(menu.path)) if menu.path in fingerprints else None
            if isinstance(raw, bytes) and source_version(raw) == menu.version:
                files[menu.path] = _Parsed(
                    fingerprints[menu.path], menu.version, menu, list(menu.findings)
                )
        return files

    def changed(self) -> bool:
        """Whether any menu file was added, removed or modified since the last reload."""
        return self._scan() != self._fingerprint

    def reload(self) -> ReloadReport:
        """Reload now, on this thread (``jumbe`` tools and tests; the server uses
        ``reload_async``)."""
        report, _ = self._apply(self._prepare())
        return report

    async def reload_async(self) -> ReloadReport:
        """Reload with the parsing in a worker thread; one reload at a time."""
        async with self._lock:
            plan = await asyncio.to_thread(self._prepare_in_background)
            report, retired = self._apply(plan)
            del plan
            await asyncio.to_thread(release_unused, retired)
            return report

    def _prepare_in_background(self) -> _Plan:
        with _background_parse():
            return self._prepare()

    def _prepare(self) -> _Plan:
        fingerprints = self._scan()
        files: dict[str, _Parsed] = {}
        parsed: list[str] = []
        for path, fingerprint in fingerprints.items():
            previous = self._files.get(path)
            if previous is not None and previous.fingerprint == fingerprint:
                files[path] = previous
                continue
            files[path] = self._read(path, fingerprint, previous)
            if previous is None or files[path].digest != previous.digest:
                parsed.append(path)
        menus, findings = combine([(f.menu, f.findings) for f in files.values()])
        return _Plan(fingerprints, files, parsed, menus, findings)

    def _read(self, path: str, fingerprint: Fingerprint, previous: _Parsed | None) -> _Parsed:
        raw = read_source(Path(path))
        if isinstance(raw, Finding):
            return _Parsed(fingerprint, "", None, [raw])
        digest = source_version(raw)
        if previous is not None and previous.digest == digest:  # touched, not changed
            return _Parsed(fingerprint, digest, previous.menu, previous.findings)
        menu, findings = parse_source(raw, path, self.budget)
        return _Parsed(fingerprint, digest, menu, findings)

    def _apply(self, plan: _Plan) -> tuple[ReloadReport, list[Menu]]:
        """Serve the good menus, previous versions for broken files (on the event loop); also
        returns the versions the registry no longer keeps."""
        self._fingerprint = plan.fingerprints
        self._files = plan.files
        report = ReloadReport(findings=plan.findings, parsed=plan.parsed)
        broken = {f.path for f in plan.findings if f.severity == "error"}
        previous = {menu.path: menu for menu in self.registry.menus}
        served = list(plan.menus)
        for path in sorted(broken):
            if path in previous and path in plan.fingerprints:
                served.append(previous[path])
                report.kept.append(path)
            else:
                report.rejected.append(path)
        served_paths = {menu.path for menu in served}
        report.removed = sorted(
            m.id for p, m in previous.items() if p not in served_paths and p not in broken
        )
        report.loaded = sorted(m.id for m in plan.menus)
        return report, self.registry.install(served)


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


_background_lock = threading.Lock()
_background = 0
_saved_interval = 0.0
_collector_was_on = True


def settle_loaded_menus() -> None:
    """Collect garbage, then move every live object out of the cycle collector's sight
    (``gc.freeze``): loaded menus are long-lived, and a full collection walking a
    10,000-screen menu holds the GIL for ~0.2-0.8 s. Replaced versions are still freed (by
    reference counting: compiled menus have no cycles, see ``compiler.py``)."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _background_parse() -> Iterator[None]:
    """While any background parse runs, keep it from stalling the event loop thread: the GIL
    changes hands every 0.5 ms instead of 5 ms, and the cycle collector is paused (its passes
    over the growing heap held the GIL for up to 0.8 s at a time and took over half the parse
    time). When the last one ends, the new menus are frozen out of the collector's sight.
    Cyclic garbage made meanwhile would be frozen too, never collected: a parse makes none,
    and neither do hops (2,000 hops with the collector off: 0 unreachable objects); only
    errors with tracebacks do. (Collecting only the young generations was worse: the parse's
    temporaries, freed piece by piece, kept their counter low while the youngest generation
    grew, and one pass over it took 210 ms.) Both settings are process-wide, and several apps may
    reload at once in one process (tests): the first one in saves them, the last one out
    restores them."""
    global _background, _saved_interval, _collector_was_on  # noqa: PLW0603 - process-wide
    with _background_lock:
        if _background == 0:
            gc.collect()  # cheap (loaded menus are frozen); nothing pending gets frozen below
            _collector_was_on = gc.isenabled()
            gc.disable()
            _saved_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(_saved_interval, BACKGROUND_SWITCH_INTERVAL))
        _background += 1
    try:
        yield
    finally:
        with _background_lock:
            _background -= 1
            if _background == 0:
                sys.setswitchinterval(_saved_interval)
                gc.freeze()
                if _collector_was_on:
                    gc.enable()
