"""``jumbe check``: every content file checked, findings as ``path:line:col: severity: …``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from gateway import channels, config
from gateway.content.check import check_files, count_by_kind
from gateway.content.kinds import KNOWN
from gateway.menu.findings import has_errors

COMMANDS = ("check",)


def add_commands(commands: Any) -> None:
    """Register ``check`` on ``jumbe``'s subparsers."""
    check = commands.add_parser("check", help=f"validate content files (kinds: {', '.join(KNOWN)})")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        default=[Path("menus")],
        help="files or folders, searched recursively (default: menus)",
    )


def run(args: argparse.Namespace) -> int:
    """``jumbe check``."""
    return run_check(args.paths)


def run_check(paths: list[Path]) -> int:
    """Print findings as ``path:line:col: severity: message``; 1 when any is an error."""
    missing = [p for p in paths if not p.exists()]
    for path in missing:
        print(f"{path}:1:1: error: no such file or folder")
    budget = channels.content_budget(config.from_env())
    good, findings = check_files([p for p in paths if p.exists()], budget)
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings) + len(missing)
    warnings = sum(f.severity == "warning" for f in findings)
    counts = count_by_kind(good)
    files = ", ".join(f"{counts.get(kind, 0)} {kind}" for kind in KNOWN)
    print(f"OK: {files}; {errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors or has_errors(findings) else 0
