"""``kind: campaign`` files: checked by ``jumbe check`` at the right lines, indexed at load.

Fixture files spell out what they expect in ``# expect: line:col: severity: message`` comments.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from processes import jumbe

from gateway.ads.index import CampaignIndex
from gateway.content.check import check_files

FILES = Path(__file__).parent / "files"
ROOT = Path(__file__).resolve().parents[2]


def expected(path: Path) -> list[str]:
    return [
        line.removeprefix("# expect: ").strip()
        for line in path.read_text().splitlines()
        if line.startswith("# expect: ")
    ]


@pytest.mark.parametrize("path", sorted(FILES.glob("*.yaml")), ids=lambda p: p.stem)
def test_campaign_findings_match_expectations(path: Path) -> None:
    """Every mistake a brand makes is reported at its line, and nothing else is."""
    built, findings = check_files([path])
    assert [str(f).removeprefix(f"{path}:") for f in findings] == expected(path)
    assert len(built) == (0 if path.stem.startswith("invalid") else 1)


def test_worked_example_is_clean() -> None:
    """The campaigns brands copy (menus/campaigns/) pass `jumbe check` with no finding."""
    built, findings = check_files([ROOT / "menus" / "campaigns"])
    assert findings == []
    assert sorted(b.label for b in built) == ["data-bundles", "lunch-deal"]


def test_check_exit_codes(tmp_path: Path) -> None:
    """`jumbe check` exits 1 on a campaign error with path:line, 0 when an ended flight only
    warns."""
    bad = jumbe("check", str(FILES / "invalid_campaign.yaml"))
    assert bad.returncode == 1
    assert f"{FILES / 'invalid_campaign.yaml'}:6:8: error: unknown class" in bad.stdout
    ended = jumbe("check", str(FILES / "warning_ended.yaml"))
    assert ended.returncode == 0, ended.stdout + ended.stderr
    assert "warning: the flight has ended" in ended.stdout


def test_duplicate_campaign_id_is_an_error(tmp_path: Path) -> None:
    """Two campaign files with one id: an error at the second, naming the first."""
    text = (FILES / "valid_campaign.yaml").read_text()
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    built, findings = check_files([tmp_path])
    first = tmp_path / "a.yaml"
    assert [str(f) for f in findings] == [
        f"{tmp_path / 'b.yaml'}:2:5: error: campaign id 'good' is also used by {first}:2"
    ]
    assert [b.path for b in built] == [str(tmp_path / "a.yaml")]


def test_index_lists_only_campaigns_for_the_network(tmp_path: Path) -> None:
    """A decision for one network sees campaigns naming it and those for any network, in
    serving order (override, contract by priority, remnant), not the whole folder."""
    specs = [
        ("r-any", "class: remnant\nweight: 1", ""),
        ("c-low", "class: contract\npriority: 2", "target: {networks: ['63902']}"),
        ("c-high", "class: contract\npriority: 9", ""),
        ("o-other", "class: override", "target: {networks: ['63903']}"),
        ("o-here", "class: override", "target: {networks: ['63902']}"),
    ]
    for cid, cls, target in specs:
        (tmp_path / f"{cid}.yaml").write_text(
            f"kind: campaign\nid: {cid}\n{cls}\n{target}\n"
            "flight: {start: 2026-01-01, end: 2099-01-01}\ntext: {en: Hi}\n"
        )
    built, findings = check_files([tmp_path])
    assert findings == []
    index = CampaignIndex.build(b.value for b in built)
    here, there = index.for_network("63902"), index.for_network("62130")
    assert [c.id for c in (*here.ordered, *here.remnants)] == ["o-here", "c-high", "c-low",
                                                               "r-any"]  # fmt: skip
    assert [c.id for c in (*there.ordered, *there.remnants)] == ["c-high", "r-any"]
