"""Loading and live reload of the content folder, for every kind: one mechanism.

The first load (``create_app``), the file watcher, SIGHUP and ``POST /admin/reload`` all go
through ``ContentReloader``. A reload is all-or-nothing per file: a file that fails the check
keeps its previous version (whatever its kind); new sessions and the next inbound message see
the new set at once; sessions in flight keep the menu version they started with (the registry
keeps old versions).

A reload never stalls hops (a 10,000-screen file takes seconds to parse):

- only files whose fingerprint (mtime, ctime, size, inode) changed are read again, and only
  those whose content hash changed are checked again; the others keep what they built. The
  checks across files (ids, service codes) still run over the whole folder;
- reading and checking run in a worker thread (``reload_async``); while they do, the GIL goes
  back to the event loop thread more often (``sys.setswitchinterval``) and the cycle
  collector is paused; what was loaded is then frozen out of its sight (``gc.freeze``);
- reloads are serialized; each kind's swap happens on the event loop, in one assignment, and
  what it retires is freed in a worker thread, piece by piece.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from gateway.content.check import combine
from gateway.content.files import SUFFIXES, build_source, failed
from gateway.content.kind import Built, ContentKind
from gateway.content.kinds import KINDS
from gateway.menu.findings import Finding
from gateway.menu.parse import read_source, source_version
from gateway.text import Budget

Fingerprint = tuple[int, int, int, int]
"""(mtime_ns, ctime_ns, size, inode): ctime and inode catch a copy or rename that keeps mtime."""

SCAN_CHUNK = 64
SCAN_PAUSE_S = 0.001
"""The watcher's scan sleeps this long after every ``SCAN_CHUNK`` files (``_scan``): 1,000
files take ~15 ms longer, off the event loop, which then waits for the GIL for at most about
64 stats (~0.25 ms) at a time."""

BACKGROUND_SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits, during a background parse (default
0.005): the event loop thread gets it back within 0.5 ms instead of 5 ms after each I/O wait."""


@dataclass
class KindReport:
    loaded: list[str] = field(default_factory=list)
    """What is now served from its current file (menu ids; the file for kinds without ids)."""
    removed: list[str] = field(default_factory=list)
    """What is no longer served because its file is gone (or now holds another kind)."""


@dataclass
class ReloadReport:
    kinds: dict[str, KindReport] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    """Files with errors whose previous version keeps serving."""
    rejected: list[str] = field(default_factory=list)
    """New files with errors (nothing served from them)."""
    parsed: list[str] = field(default_factory=list)
    """Files read and checked again (the others were unchanged and kept what they built)."""
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.kept or self.rejected)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "kinds": {
                name: {"loaded": kind.loaded, "removed": kind.removed}
                for name, kind in self.kinds.items()
            },
            "kept_previous": self.kept,
            "rejected": self.rejected,
            "parsed": self.parsed,
            "findings": [str(f) for f in self.findings],
        }


@dataclass(frozen=True, slots=True)
class _File:
    """One file as last read: its fingerprint, content hash and what its kind built."""

    fingerprint: Fingerprint
    digest: str
    built: Built[Any]


@dataclass
class _Plan:
    """What a reload found, computed off the event loop; ``_apply`` makes it so."""

    fingerprints: dict[str, Fingerprint]
    files: dict[str, _File]
    parsed: list[str]
    good: list[Built[Any]]
    findings: list[Finding]


class ContentReloader:
    """Loads ``folder`` into ``app`` (each kind installs its part), then again when asked or
    when files change."""

    def __init__(
        self,
        app: web.Application,
        folder: Path,
        budget: Budget,
        kinds: tuple[ContentKind[Any], ...] = KINDS,
    ) -> None:
        self.app = app
        self.folder = folder
        self.budget = budget
        self.kinds = kinds
        self._lock = asyncio.Lock()
        self._fingerprint: dict[str, Fingerprint] = {}
        self._files: dict[str, _File] = {}
        self._served: dict[str, Built[Any]] = {}
        """What each file serves now, by path (a broken file: its previous version)."""

    def load(self) -> ReloadReport:
        """The first load, at start-up (on this thread, before the app runs): every kind
        creates what it serves, then the loaded content is frozen out of the collector's
        sight. A missing folder is an error (a mistyped ``--menus`` would serve nothing)."""
        if not self.folder.is_dir():
            missing = Finding(str(self.folder), 1, 1, "error", "no such content folder")
            return ReloadReport(rejected=[str(self.folder)], findings=[missing])
        report = self.reload()
        settle_loaded_content()
        return report

    def _scan(self, pausing: bool = False) -> dict[str, Fingerprint]:
        """Stat every content file (no reading; in no particular order); changes nothing, so
        the watcher runs it in a worker thread. ``os.scandir`` without ``Path`` objects or
        sorting: ~4 ms for 1,000 files, where a walk with ``Path.stat`` took ~17 ms of a core
        every second. ``pausing``: sleep ``SCAN_PAUSE_S`` after every ``SCAN_CHUNK`` files.
        Each stat releases the GIL and takes it straight back, so a busy event loop thread
        waiting for it got it only when its switch interval forced a handover: a 3.5-5.5 ms
        stall once a second under load (docs/benchmarks.md, "stop 21"); the pauses leave it
        the GIL."""
        fingerprint: dict[str, Fingerprint] = {}
        folders = [str(self.folder)] if self.folder.is_dir() else []
        while folders:
            try:
                entries = os.scandir(folders.pop())
            except OSError:
                continue
            with entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            folders.append(entry.path)
                            continue
                        if not entry.name.endswith(SUFFIXES) or not entry.is_file():
                            continue
                        stat = entry.stat()
                    except OSError:
                        continue
                    fingerprint[entry.path] = (
                        stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino,
                    )  # fmt: skip
                    if pausing and len(fingerprint) % SCAN_CHUNK == 0:
                        time.sleep(SCAN_PAUSE_S)
        return fingerprint

    def served(self) -> dict[str, int]:
        """How many files of each kind are served now."""
        counts = dict.fromkeys((kind.name for kind in self.kinds), 0)
        for built in self._served.values():
            counts[built.kind] = counts.get(built.kind, 0) + 1
        return counts

    def changed(self) -> bool:
        """Whether any content file was added, removed or modified since the last reload (the
        watcher asks every second, from a worker thread: the scan pauses to leave the event
        loop thread the GIL)."""
        return self._scan(pausing=True) != self._fingerprint

    def reload(self) -> ReloadReport:
        """Reload now, on this thread (start-up, ``jumbe`` tools, tests; the server uses
        ``reload_async``)."""
        report, retired = self._apply(self._prepare())
        _release(retired)
        return report

    async def reload_async(self) -> ReloadReport:
        """Reload with the reading and checking in a worker thread; one reload at a time."""
        async with self._lock:
            plan = await asyncio.to_thread(self._prepare_in_background)
            report, retired = self._apply(plan)
            del plan
            await asyncio.to_thread(_release, retired)
            return report

    def _prepare_in_background(self) -> _Plan:
        with _background_parse():
            return self._prepare()

    def _prepare(self) -> _Plan:
        scanned = self._scan()
        fingerprints = {p: scanned[p] for p in sorted(scanned, key=lambda p: Path(p).parts)}
        files: dict[str, _File] = {}
        parsed: list[str] = []
        for path, fingerprint in fingerprints.items():
            previous = self._files.get(path)
            if previous is not None and previous.fingerprint == fingerprint:
                files[path] = previous
                continue
            files[path] = self._read(path, fingerprint, previous)
            if previous is None or files[path].digest != previous.digest:
                parsed.append(path)
        good, findings = combine(file.built for file in files.values())
        return _Plan(fingerprints, files, parsed, good, findings)

    def _read(self, path: str, fingerprint: Fingerprint, previous: _File | None) -> _File:
        raw = read_source(Path(path))
        if isinstance(raw, Finding):
            return _File(fingerprint, "", failed(path, "", [raw]))
        digest = source_version(raw)
        if previous is not None and previous.digest == digest:  # touched, not changed
            return _File(fingerprint, digest, previous.built)
        return _File(fingerprint, digest, build_source(raw, path, self.budget))

    def _apply(self, plan: _Plan) -> tuple[ReloadReport, list[tuple[ContentKind[Any], list[Any]]]]:
        """Serve the good files, previous versions for broken ones (on the event loop): each
        kind installs its part. Also returns what each kind retired, to free off the loop."""
        self._fingerprint = plan.fingerprints
        self._files = plan.files
        report = ReloadReport(findings=plan.findings, parsed=plan.parsed)
        broken = {f.path for f in plan.findings if f.severity == "error"}
        served = {built.path: built for built in plan.good}
        for path in sorted(broken):
            previous = self._served.get(path)
            if previous is not None and path in plan.fingerprints:
                served[path] = previous
                report.kept.append(path)
            else:
                report.rejected.append(path)
        retired = []
        for kind in self.kinds:
            mine = [served[path] for path in sorted(served) if served[path].kind == kind.name]
            gone = [
                built.label
                for path, built in self._served.items()
                if built.kind == kind.name and path not in broken
                and (path not in served or served[path].kind != kind.name)
            ]  # fmt: skip
            fresh = [built.label for built in plan.good if built.kind == kind.name]
            report.kinds[kind.name] = KindReport(sorted(fresh), sorted(gone))
            retired.append((kind, kind.install(self.app, [built.value for built in mine])))
        self._served = served
        return report, retired


CONTENT = web.AppKey("content", ContentReloader)
"""The app's content reloader (``create_app`` makes it and runs the first load)."""


def _release(retired: list[tuple[ContentKind[Any], list[Any]]]) -> None:
    while retired:
        kind, values = retired.pop()
        kind.release(values)
        del values


_background_lock = threading.Lock()
_background = 0
_saved_interval = 0.0
_collector_was_on = True


def settle_loaded_content() -> None:
    """Collect garbage, then move every live object out of the cycle collector's sight
    (``gc.freeze``): loaded content is long-lived, and a full collection walking a
    10,000-screen menu holds the GIL for ~0.2-0.8 s. Replaced versions are still freed (by
    reference counting: compiled menus have no cycles, see ``menu/compiler.py``)."""
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def _background_parse() -> Iterator[None]:
    """While any background parse runs, keep it from stalling the event loop thread: the GIL
    changes hands every 0.5 ms instead of 5 ms, and the cycle collector is paused (its passes
    over the growing heap held the GIL for up to 0.8 s at a time and took over half the parse
    time). When the last one ends, the new content is frozen out of the collector's sight.
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
            gc.collect()  # cheap (loaded content is frozen); nothing pending gets frozen below
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
