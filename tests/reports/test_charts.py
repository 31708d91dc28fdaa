"""The chart primitives later reports draw with: well-formed inline SVG, every value on hover,
names escaped, nothing fetched."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from gateway.reports import page, svg, tables
from gateway.reports.tables import Table

DAYS = ["1 Mar", "2 Mar", "3 Mar"]
CHARTS = {
    "bar": svg.bar_chart("Impressions <per day>", DAYS, [3, 7, 0]),
    "stacked": svg.stacked_bar_chart("Answers & skips", DAYS, [
        svg.Series("answered", [5, 0, 2], "#2e7d32"), svg.Series("skipped", [1, 4, None])]),
    "line": svg.line_chart("Click-through", DAYS, [svg.Series("ctr", [0.5, None, 0.125])],
                           percent=True),
    "funnel": svg.funnel_chart("Menu <demo>", [("dialled", 200), ("chose 1", 50), ("done", 0)]),
    "empty": svg.stacked_bar_chart("Nothing yet", [], []),
}  # fmt: skip


def _tips(chart: str) -> list[str]:
    root = ET.fromstring(chart)
    return [el.text or "" for el in root.iter("title")][1:]  # the first is the chart's own


@pytest.mark.parametrize("name", sorted(CHARTS))
def test_every_chart_is_well_formed_and_self_contained(name: str) -> None:
    """Each chart parses as XML, is an accessible image with a title, and links to nothing."""
    chart = CHARTS[name]
    root = ET.fromstring(chart)
    assert (root.tag, root.get("role")) == ("svg", "img")
    assert root.find("title") is not None
    for network in ("http", "href", "url(", "<script", "<image"):
        assert network not in chart


def test_hovering_shows_each_value() -> None:
    """Bars, points and funnel steps carry their value (and share of the first step)."""
    assert _tips(CHARTS["bar"]) == ["1 Mar · Impressions <per day>: 3",
                                    "2 Mar · Impressions <per day>: 7"]  # fmt: skip
    assert _tips(CHARTS["stacked"]) == ["1 Mar · answered: 5", "1 Mar · skipped: 1",
                                        "2 Mar · skipped: 4", "3 Mar · answered: 2"]  # fmt: skip
    assert _tips(CHARTS["line"]) == ["1 Mar · ctr: 50%", "3 Mar · ctr: 12.5%"]
    assert _tips(CHARTS["funnel"]) == ["dialled: 200", "chose 1: 50 (25%)", "done: 0 (0%)"]


def test_a_missing_value_breaks_the_line() -> None:
    """A day with nothing to measure leaves a gap instead of a line through zero."""
    rates = svg.Series("r", [0.1, 0.2, None, 0.4])
    root = ET.fromstring(svg.line_chart("Rate", ["a", "b", "c", "d"], [rates], percent=True))
    assert len(root.findall("polyline")) == 1
    assert len(root.findall("circle")) == 3


def test_tables_render_for_terminal_csv_and_html() -> None:
    """One Table gives aligned text, CSV with empty cells for nothing, and an escaped <table>."""
    table = Table(("name", "count", "rate", "wait"), [("a<b", 3, 0.5, 90), ("c", 12, None, None)])
    formats = {"rate": "percent", "wait": "seconds"}
    assert tables.to_text(table, formats) == (
        "name  count   rate   wait\n"
        "a<b       3  50.0%  1m30s\n"
        "c        12      -      -\n"
    )  # fmt: skip
    assert tables.to_csv(table) == "name,count,rate,wait\r\na<b,3,0.5,90\r\nc,12,,\r\n"
    assert "<td>a&lt;b</td>" in tables.to_html(table, formats)
    document = page.page("T <1>", "sub", [page.Section("S", tables.to_html(table, formats))])
    assert "<title>T &lt;1&gt;</title>" in document and "http" not in document
