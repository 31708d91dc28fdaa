"""The ads report (``GET /v1/reports/ads``) as a terminal table, CSV and an HTML page with a
chart of impressions and CTR over time. Works on the report's JSON only."""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.reports import page, svg, tables
from gateway.reports.tables import Table

COLUMNS = ("campaign", "impressions", "reach", "clicks", "ctr", "conversions", "spend")
DAY_COLUMNS = ("date", "campaign", "network", "impressions", "reach", "clicks", "ctr",
               "conversions", "spend")  # fmt: skip
FORMATS = {"ctr": "percent"}
LEGEND = (
    "reach: distinct subscribers (HyperLogLog, ±1%) · ctr: clicks ÷ impressions · "
    "days in each campaign's time zone"
)


def campaign_table(report: dict[str, Any]) -> Table:
    rows = [
        (c["id"], c["impressions"], c["reach"], c["clicks"], c["ctr"], c["conversions"],
         c["spend"])
        for c in report["campaigns"]
    ]  # fmt: skip
    return Table(COLUMNS, rows)


def day_table(report: dict[str, Any]) -> Table:
    """One row per day × campaign × network (the CSV)."""
    rows = [
        (d["date"], c["id"], d["network"], d["impressions"], d["reach"], d["clicks"], d["ctr"],
         d["conversions"], d["spend"])
        for c in report["campaigns"]
        for d in c["days"]
    ]  # fmt: skip
    return Table(DAY_COLUMNS, sorted(rows, key=lambda r: (str(r[0]), str(r[1]), str(r[2]))))


def stage_table(report: dict[str, Any]) -> Table:
    stages = report.get("lifecycle") or {}
    return Table(("stage", "subscribers"), [(name, n) for name, n in stages.items()])


def heading(report: dict[str, Any]) -> str:
    span = (
        f" {report['from'] or '…'} to {report['to'] or '…'}"
        if report.get("from") or report.get("to")
        else " (all time)"
    )
    return f"Ads report{span}"


def text(report: dict[str, Any]) -> str:
    """What ``jumbe report ads`` prints."""
    return (
        f"{heading(report)}\n\n{tables.to_text(campaign_table(report), FORMATS)}\n"
        f"Subscribers per lifecycle stage\n{tables.to_text(stage_table(report))}\n{LEGEND}\n"
    )


def csv(report: dict[str, Any]) -> str:
    return tables.to_csv(day_table(report))


def html(report: dict[str, Any]) -> str:
    """Headline figures, impressions per day (stacked by campaign), CTR per day per campaign,
    and the tables."""
    days = sorted({d["date"] for c in report["campaigns"] for d in c["days"]})
    labels = [_short(day) for day in days]
    impressions, ctr = [], []
    for i, campaign in enumerate(report["campaigns"]):
        color = svg.PALETTE[i % len(svg.PALETTE)]
        per_day = {day: [0, 0] for day in days}
        for row in campaign["days"]:
            per_day[row["date"]][0] += row["impressions"]
            per_day[row["date"]][1] += row["clicks"]
        impressions.append(svg.Series(campaign["id"], [per_day[d][0] for d in days], color))
        ctr.append(svg.Series(campaign["id"], [
            per_day[d][1] / per_day[d][0] if per_day[d][0] else None for d in days
        ], color))  # fmt: skip
    totals = {k: sum(c[k] for c in report["campaigns"]) for k in ("impressions", "clicks",
                                                                 "conversions")}  # fmt: skip
    headline = page.figures([
        ("impressions", f"{totals['impressions']:,}"),
        ("clicks", f"{totals['clicks']:,}"),
        ("CTR", tables.show(totals["clicks"] / totals["impressions"] if totals["impressions"]
                            else None, "percent")),
        ("conversions", f"{totals['conversions']:,}"),
    ])  # fmt: skip
    charts = svg.stacked_bar_chart("Impressions per day, by campaign", labels, impressions)
    charts += svg.line_chart("CTR per day (clicks ÷ impressions)", labels, ctr, percent=True)
    return page.page(heading(report), LEGEND, [
        page.Section("", headline + charts),
        page.Section("Campaigns", tables.to_html(campaign_table(report), FORMATS)),
        page.Section("Per day and network", tables.to_html(day_table(report), FORMATS)),
        page.Section("Subscribers per lifecycle stage", tables.to_html(stage_table(report))),
    ])  # fmt: skip


def _short(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b}"
