"""One content folder: files found recursively, each kind dispatched on ``kind:``, checked across
the folder with line numbers, served by the real app."""

from __future__ import annotations

from pathlib import Path

from conftest import GatewayFactory, hop
from processes import jumbe

from gateway.content.check import check_files
from gateway.content.kinds import KNOWN

MENU = "id: {id}\nservice_codes: ['{code}']\nstart: a\nscreens:\n  a:\n    end: {text}\n"
KEYWORDS = "kind: keywords\nkeywords:\n  - {words: [PROMO], reply: Deals!}\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


async def test_a_menu_in_a_subfolder_is_served(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A brand's menu two folders down answers its service code; a hidden drafts folder with a
    broken file is ignored rather than stopping the gateway."""
    content = tmp_path / "content"
    acme = MENU.format(id="acme", code="*777#", text="Hello from Acme")
    write(content / "brands" / "acme" / "acme.yml", acme)
    write(content / "top.yaml", MENU.format(id="top", code="*778#", text="Top"))
    write(content / ".drafts" / "broken.yaml", "id: [unclosed\n")
    write(content / "brands" / ".acme.yaml.swp", "not yaml: [")
    client = await make_gateway(menus_dir=content)
    assert await hop(client, "", service_code="*777#") == (200, "END Hello from Acme")
    assert await hop(client, "", session_id="s2", service_code="*778#") == (200, "END Top")


def test_the_same_id_twice_in_a_kind_is_an_error_at_its_line(tmp_path: Path) -> None:
    """Two menus with id `shop` (one in a subfolder) and two keywords files: each second one
    is an error at its line naming the first file and line; menus and keywords never clash."""
    first = write(tmp_path / "a.yaml", MENU.format(id="shop", code="*1#", text="A"))
    second = write(tmp_path / "sub" / "b.yaml", MENU.format(id="shop", code="*2#", text="B"))
    kw_first = write(tmp_path / "keywords.yaml", KEYWORDS)
    kw_second = write(tmp_path / "sub" / "more-keywords.yaml", "# more\n" + KEYWORDS)
    write(tmp_path / "c.yaml", MENU.format(id="keywords", code="*3#", text="C"))
    good, findings = check_files([tmp_path])
    assert [str(f) for f in findings] == [
        f"{second}:1:5: error: menu id 'shop' is also used by {first}:1",
        f"{kw_second}:2:7: error: one keywords file per content folder: the keywords are already"
        f" in {kw_first}:1",
    ]
    assert sorted(b.path for b in good) == sorted(map(str, [first, kw_first, tmp_path / "c.yaml"]))


def test_an_unknown_kind_is_an_error_naming_the_known_kinds(tmp_path: Path) -> None:
    """`kind: campain` (a typo, or a kind from a later version) fails `jumbe check` at the line
    of its kind, listing the kinds this version knows; the other files still check clean."""
    path = write(tmp_path / "promo.yaml", "# summer promo\nkind: campain\nid: promo1\n")
    write(tmp_path / "menu.yaml", MENU.format(id="m", code="*1#", text="M"))
    result = jumbe("check", str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{path}:2:7: error: unknown kind 'campain' (known kinds: {', '.join(KNOWN)})"
    ]
    assert result.stderr.startswith("OK: 1 menu, 0 keywords") and "; 1 error(s)" in result.stderr


def test_a_file_that_is_not_a_mapping_says_what_a_content_file_is(tmp_path: Path) -> None:
    """A list at the top of a file is an error saying a file is a menu or names its kind."""
    path = write(tmp_path / "list.yaml", "- a\n- b\n")
    _, findings = check_files([path])
    assert len(findings) == 1
    assert str(findings[0]).startswith(
        f"{path}:1:1: error: a content file must be a mapping: a menu (id, service_codes, start,"
        " screens), or another kind ("
        + ", ".join(f"kind: {name}" for name in KNOWN if name != "menu")
        + ")"
    )


async def test_readyz_says_what_the_content_folder_serves(make_gateway: GatewayFactory) -> None:
    """/readyz lists how many files of each kind are served (the shipped folder: two menus,
    the keywords file, the ads, rewards and survey worked examples)."""
    client = await make_gateway()
    response = await client.get("/readyz")
    assert response.status == 200
    content = (await response.json())["content"]
    assert content == {"menu": 2, "keywords": 1, "catalog": 1, "campaign": 2, "survey": 1}
