"""``jumbe check``: every finding at the right line, exactly the expected ones, right exit code.

Fixture files spell out what they expect in ``# expect: line:col: severity: message`` comments
(``valid_*`` files expect nothing).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gateway.channels import content_budget
from gateway.config import Settings
from gateway.content.check import check_files

FILES = Path(__file__).parent / "files"
BUDGET = content_budget(Settings())
"""What `jumbe check` measures against by default."""
ROOT = Path(__file__).resolve().parents[2]


def expected(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ").strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect: ")
    ]


@pytest.mark.parametrize("path", sorted(FILES.glob("*.yaml")), ids=lambda p: p.stem)
def test_findings_match_expectations(path: Path) -> None:
    """The checker reports exactly the findings the fixture file documents."""
    _, findings = check_files([path], BUDGET)
    got = [str(f).removeprefix(f"{path}:") for f in findings]
    assert got == expected(path)


def test_shipped_menus_are_clean() -> None:
    """menus/ has no errors and no warnings."""
    good, findings = check_files([ROOT / "menus"], BUDGET)
    assert findings == []
    assert {b.label for b in good if b.kind == "menu"} >= {"demo", "benchmark"}


def test_duplicate_service_codes_across_files(tmp_path: Path) -> None:
    """Two files claiming *500# are an error at the second one's code, naming the other file."""
    body = "service_codes: ['*500#']\nstart: a\nscreens:\n  a:\n    end: Hi\n"
    (tmp_path / "one.yaml").write_text("id: one\n" + body)
    (tmp_path / "two.yaml").write_text("id: two\n" + body)
    good, findings = check_files([tmp_path])
    assert [str(f).removeprefix(f"{tmp_path}/") for f in findings] == [
        f"two.yaml:2:17: error: service code *500# is also served by {tmp_path}/one.yaml:2"
    ]
    assert [b.label for b in good] == ["one"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        capture_output=True,
        check=False,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_cli_exit_codes() -> None:
    """Exit 1 and path:line:col lines on errors; exit 0 on clean files."""
    bad = run_cli("check", str(FILES / "invalid_four_findings.yaml"))
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[0].endswith(
        "invalid_four_findings.yaml:17:49: error: unknown next screen 'nowhere'"
    )
    assert len(bad.stdout.splitlines()) == 4
    good = run_cli("check", "menus")
    assert (good.returncode, good.stdout) == (0, "")
    missing = run_cli("check", "no/such/file.yaml")
    assert missing.returncode == 1 and "no such file" in missing.stdout


def test_serve_refuses_menus_with_errors(tmp_path: Path) -> None:
    """`jumbe serve` names the errors and exits 1 instead of serving a broken menu."""
    (tmp_path / "bad.yaml").write_text(
        "id: bad\nservice_codes: ['*1#']\nstart: nope\nscreens:\n  a:\n    end: Hi\n"
    )
    result = run_cli(
        "serve", "--menus", str(tmp_path), "--port", "0", "--data-dir", str(tmp_path / "var")
    )
    assert result.returncode == 1
    assert "bad.yaml:3:8: error: start screen 'nope' is not defined" in result.stderr
