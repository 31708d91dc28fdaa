"""`jumbe check` on catalog files: every mistake at its line, item ids unique across catalogs."""

from __future__ import annotations

from pathlib import Path

from processes import jumbe

from gateway.content.check import check_files

GOOD = """kind: catalog
id: {id}
items:
  - {{id: {item}, label: {{en: "KES 50"}}, points: 100, airtime: {{amount: 50, currency: KES}}}}
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_good_catalog_and_a_voucher_list_pass(tmp_path: Path) -> None:
    """Airtime and a voucher file beside the catalog: no findings, the catalog is served."""
    (tmp_path / "codes.txt").write_text("# codes\nA-1\nA-2\n")
    _write(tmp_path / "c.yaml", GOOD.format(id="c", item="air50") +
           "  - {id: cup, label: Cup, points: 5, voucher: {codes: codes.txt}}\n")  # fmt: skip
    good, findings = check_files([tmp_path])
    assert findings == []
    assert [b.value.id for b in good if b.kind == "catalog"] == ["c"]


def test_mistakes_are_reported_at_their_lines(tmp_path: Path) -> None:
    """Below AT's minimum, unknown currency, points not whole, both fulfilments, missing codes."""
    path = _write(
        tmp_path / "bad.yaml",
        """kind: catalog
id: bad
items:
  - {id: tiny, label: Tiny, points: 10, airtime: {amount: 2, currency: KES}}
  - {id: fx, label: FX, points: 10, airtime: {amount: 50, currency: XYZ}}
  - {id: half, label: Half, points: 1.5, airtime: {amount: 50, currency: KES}}
  - {id: both, label: Both, points: 5, airtime: {amount: 50, currency: KES}, voucher: {codes: x}}
  - {id: gone, label: Gone, points: 5, voucher: {codes: missing.txt}}
""",
    )
    result = jumbe("check", str(path))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        lines[0].startswith(f"{path}:4:") and "below the smallest airtime send (KES 5)" in lines[0]
    )
    assert lines[1].startswith(f"{path}:5:") and "unknown currency 'XYZ'" in lines[1]
    assert lines[2].startswith(f"{path}:6:") and "positive whole number" in lines[2]
    assert lines[3].startswith(f"{path}:7:") and "exactly one of airtime or voucher" in lines[3]
    assert lines[4].startswith(f"{path}:8:") and "cannot read" in lines[4]
    assert len(lines) == 5


def test_item_ids_are_unique_across_catalogs(tmp_path: Path) -> None:
    """The same item id in two catalog files is an error at the second, naming the first."""
    first = _write(tmp_path / "a.yaml", GOOD.format(id="a", item="air50"))
    second = _write(tmp_path / "b.yaml", GOOD.format(id="b", item="air50"))
    _, findings = check_files([tmp_path])
    assert [str(f) for f in findings] == [
        f"{second}:4:10: error: catalog item 'air50' is already in {first}:4"
    ]
