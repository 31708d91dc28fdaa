"""Brand YAML cannot hang or crash the gateway: aliases, deep nesting, huge files are findings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from conftest import MENUS, GatewayFactory, hop
from processes import jumbe

from gateway.content.check import check_files
from gateway.menu import yamlsource

ROOT = Path(__file__).resolve().parents[2]
ALIAS_MESSAGE = "YAML aliases (*a) are not allowed in brand files: write the value out"


def billion_laughs() -> str:
    """A valid menu followed by the classic alias bomb: 9 levels of 9 references each (9^9 lols)."""
    lines = [
        "id: bomb",
        "service_codes: ['*384#']",
        "start: main",
        "screens:",
        "  main:",
        "    end: Hi",
        "samples:",
        '  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    ]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        refs = ",".join(f"*{prev}" for _ in range(9))
        lines.append(f"  {name}: &{name} [{refs}]")
    return "\n".join(lines) + "\n"


def test_bomb_is_small_and_really_expands() -> None:
    """The test bomb is the real thing: under 700 bytes, and PyYAML's composer accepts it."""
    text = billion_laughs()
    assert len(text.encode()) < 700
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    assert node is not None


def test_check_refuses_the_alias_bomb_at_the_alias(tmp_path: Path) -> None:
    """`jumbe check` on a 600-byte alias bomb exits 1 at once naming the alias's line."""
    path = tmp_path / "bomb.yaml"
    path.write_text(billion_laughs())
    result = jumbe("check", str(path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [f"{path}:9:10: error: {ALIAS_MESSAGE}"]


async def test_live_reload_refuses_the_bomb_and_keeps_serving(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """Reloading an alias bomb over demo.yaml reports it and the previous demo keeps serving."""
    menus = tmp_path / "menus"
    shutil.copytree(MENUS, menus)
    client = await make_gateway(menus_dir=menus, reload_interval=0, admin_token="adm")
    demo = menus / "demo.yaml"
    demo.write_text(billion_laughs())
    response = await client.post("/admin/reload", headers={"Authorization": "Bearer adm"})
    report = await response.json()
    assert response.status == 422
    assert report["kept_previous"] == [str(demo)]
    assert report["findings"] == [f"{demo}:9:10: error: {ALIAS_MESSAGE}"]
    status, body = await hop(client, "", service_code="*384#")
    assert (status, body.split("\n")[0]) == (200, "CON Welcome to Jumbe")


def test_anchor_without_alias_is_fine(tmp_path: Path) -> None:
    """An anchor nobody refers to is harmless and accepted."""
    path = tmp_path / "anchor.yaml"
    path.write_text("id: a\nservice_codes: ['*1#']\nstart: m\nscreens:\n  m: &m\n    end: Hi\n")
    good, findings = check_files([path])
    assert (findings, [b.label for b in good]) == ([], ["a"])


@pytest.mark.parametrize(
    ("nesting", "col"),
    [("[" * 3000 + "]" * 3000, 68), ("{a: " * 3000 + "x" + "}" * 3000, 254)],
    ids=["flow-sequences", "flow-mappings"],
)
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path: Path, nesting: str, col: int) -> None:
    """3,000 nested brackets give a finding at the 65th level instead of a RecursionError."""
    path = tmp_path / "deep.yaml"
    path.write_text(f"id: deep\nsamples:\n  x: {nesting}\n")
    good, findings = check_files([path])
    assert good == []
    assert [str(f) for f in findings] == [
        f"{path}:3:{col}: error: nesting deeper than {yamlsource.MAX_DEPTH} levels:"
        " brand files do not need more"
    ]


def test_block_nesting_at_the_limit_is_accepted() -> None:
    """Nesting up to the limit loads: the bound refuses only absurd files."""
    depth = yamlsource.MAX_DEPTH
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(depth - 1)) + "  " * (depth - 1) + "k: v\n"
    data, _, findings = yamlsource.load(text, "ok.yaml")
    assert findings == []
    assert data is not None


def test_huge_file_is_refused_without_parsing(tmp_path: Path) -> None:
    """A file over the size limit is one finding at line 1, whatever it contains."""
    path = tmp_path / "huge.yaml"
    path.write_text("id: huge\nsamples:\n" + "  k: 'x'\n" * (yamlsource.MAX_BYTES // 9 + 1))
    _, findings = check_files([path])
    limit = yamlsource.MAX_BYTES // (1 << 20)
    assert [str(f) for f in findings] == [
        f"{path}:1:1: error: file is larger than {limit} MiB: split it into several files"
    ]


def test_sms_keywords_file_refuses_aliases(tmp_path: Path) -> None:
    """The SMS keywords file goes through the same loader: an alias is an error at its line."""
    path = tmp_path / "keywords.yaml"
    path.write_text(
        "kind: keywords\nkeywords:\n  - words: &w [PROMO]\n    reply: Deals!\n"
        "  - words: *w\n    reply: Again\n"
    )
    good, findings = check_files([path])
    assert good == []
    assert [str(f) for f in findings] == [
        f"{path}:5:12: error: YAML aliases (*w) are not allowed in brand files: write the value out"
    ]
