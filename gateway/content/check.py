"""The checks across the content folder, and ``check_files`` for ``jumbe check`` and ``serve``.

Each file is checked alone by its kind; what it takes for itself across the folder (its id
within its kind, a service code, …) comes back as ``Claim``s, and a name claimed twice is an
error at the second claim, naming the first. Files are taken in path order, so the same folder
always gives the same answer. A file with any error is left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.content.files import build_file, content_files
from gateway.content.kind import Built, Claim
from gateway.menu.findings import Finding
from gateway.text import Budget


def check_files(
    paths: Iterable[Path], budget: Budget | None = None
) -> tuple[list[Built[Any]], list[Finding]]:
    """Check every content file named by ``paths`` (folders searched recursively) and the
    claims across them: the files to serve and every finding, file by file. ``budget`` is
    the screen texts are measured against (``channels.content_budget``)."""
    budget = budget or Budget()
    return combine([build_file(path, budget) for path in content_files(paths)])


def combine(files: Iterable[Built[Any]]) -> tuple[list[Built[Any]], list[Finding]]:
    """Per-file results → the files to serve (those without errors, in path order) and every
    finding: each file's own, then the clashes between files."""
    ordered = sorted(files, key=lambda built: built.path)
    findings = [finding for built in ordered for finding in built.findings]
    findings.extend(clashes(built for built in ordered if built.value is not None))
    bad = {finding.path for finding in findings if finding.severity == "error"}
    return [b for b in ordered if b.value is not None and b.path not in bad], findings


def clashes(files: Iterable[Built[Any]]) -> list[Finding]:
    """An error at every claim already made by an earlier file."""
    first: dict[tuple[str, str], tuple[str, Claim]] = {}
    findings = []
    for built in files:
        for claim in built.claims:
            owner = first.setdefault((claim.space, claim.value), (built.path, claim))
            if owner[0] != built.path:
                where = f"{owner[0]}:{owner[1].line}"
                findings.append(
                    Finding(built.path, claim.line, claim.col, "error", f"{claim.clash} {where}")
                )
    return findings


def count_by_kind(files: Iterable[Built[Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for built in files:
        counts[built.kind] = counts.get(built.kind, 0) + 1
    return counts
