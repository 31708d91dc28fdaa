"""Live reload of the menu folder: a file that fails the check keeps its previous version.

Triggered by a change in the folder (polled), SIGHUP, or ``POST /admin/reload``. A reload is
all-or-nothing per file and atomic for the registry: new sessions see the new set at once;
sessions in flight keep the version they started with (the registry keeps old versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gateway.menu.findings import Finding
from gateway.menu.registry import MenuRegistry, check_files, menu_files
from gateway.text import Budget


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
            "findings": [str(f) for f in self.findings],
        }


class MenuReloader:
    """Re-reads ``menus_dir`` into ``registry`` when asked or when files change."""

    def __init__(
        self, registry: MenuRegistry, menus_dir: Path, budget: Budget | None = None
    ) -> None:
        self.registry = registry
        self.menus_dir = menus_dir
        self.budget = budget
        self._fingerprint = self._scan()

    def _scan(self) -> dict[str, tuple[int, int]]:
        fingerprint = {}
        for path in menu_files([self.menus_dir]) if self.menus_dir.is_dir() else []:
            try:
                stat = path.stat()
            except OSError:
                continue
            fingerprint[str(path)] = (stat.st_mtime_ns, stat.st_size)
        return fingerprint

    def changed(self) -> bool:
        """Whether any menu file was added, removed or modified since the last reload."""
        return self._scan() != self._fingerprint

    def reload(self) -> ReloadReport:
        """Check every file and serve the good ones (previous versions for broken files)."""
        self._fingerprint = self._scan()
        menus, findings = check_files([self.menus_dir], self.budget)
        report = ReloadReport(findings=findings)
        broken = {f.path for f in findings if f.severity == "error"}
        previous = {menu.path: menu for menu in self.registry.menus}
        served = list(menus)
        for path in sorted(broken):
            if path in previous and Path(path).exists():
                served.append(previous[path])
                report.kept.append(path)
            else:
                report.rejected.append(path)
        served_paths = {menu.path for menu in served}
        report.removed = sorted(
            m.id for p, m in previous.items() if p not in served_paths and p not in broken
        )
        report.loaded = sorted(m.id for m in menus)
        self.registry.install(served)
        return report
