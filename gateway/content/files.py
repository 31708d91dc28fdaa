"""Content files: find them in the folder, read each once, dispatch on its ``kind:``.

Every ``.yaml``/``.yml`` file under the content folder is a brand file, in any subfolder;
hidden files and folders (``.git``, an editor's ``.swp``) are skipped. Each file is read and
loaded once by the safe YAML loader (``menu.yamlsource``: aliases, depth and size refused,
the line and column of every node kept), then handed to the kind it names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gateway.content.kind import Built, Document
from gateway.content.kinds import BY_NAME, DEFAULT_KIND, KNOWN
from gateway.menu.findings import Finding
from gateway.menu.parse import read_source, source_version
from gateway.menu.yamlsource import load
from gateway.text import Budget

SUFFIXES = (".yaml", ".yml")
NOT_A_MAPPING = "a content file must be a mapping: a menu (id, service_codes, start, screens)"


def content_files(paths: Iterable[Path]) -> list[Path]:
    """The content files named by ``paths``: a file as given, a folder searched recursively."""
    found: list[Path] = []
    for path in paths:
        found.extend(_walk(path) if path.is_dir() else [path])
    return found


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(
            Path(root, name)
            for name in files
            if not name.startswith(".") and name.endswith(SUFFIXES)
        )
    return sorted(found)


def build_file(path: Path, budget: Budget) -> Built[Any]:
    """Read, load and check one content file."""
    raw = read_source(path)
    if isinstance(raw, Finding):
        return failed(str(path), "", [raw])
    return build_source(raw, str(path), budget)


def build_source(raw: bytes, path: str, budget: Budget) -> Built[Any]:
    """Load the bytes of a content file and let its kind check and build it."""
    version = source_version(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return failed(
            path, version, [Finding(path, 1, 1, "error", f"not UTF-8 text: {exc.reason}")]
        )
    data, locations, findings = load(text, path)
    if data is None and findings:
        return failed(path, version, findings)
    if not isinstance(data, dict):
        kinds = ", ".join(f"kind: {name}" for name in KNOWN if name != DEFAULT_KIND)
        message = f"{NOT_A_MAPPING}, or another kind ({kinds})"
        return failed(path, version, [*findings, locations.finding((), message)])
    name = data.get("kind", DEFAULT_KIND)
    kind = BY_NAME.get(name) if isinstance(name, str) else None
    if kind is None:
        message = f"unknown kind {name!r} (known kinds: {', '.join(KNOWN)})"
        return failed(path, version, [*findings, locations.finding(("kind",), message)])
    try:
        return kind.build(Document(path, version, data, locations, findings, budget))
    finally:
        locations.release()


def failed(path: str, version: str, findings: list[Finding]) -> Built[Any]:
    """A file no kind could build (unreadable, bad YAML, unknown kind)."""
    return Built("", path, version, None, findings)
