"""The SMS report (``GET /v1/reports/sms``) as tables, CSV and an HTML page with charts.

Works on the report's JSON only, so the gateway (``?format=csv``) and ``jumbe report sms``
render the same rows from the same document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.reports import page, svg, tables
from gateway.reports.tables import Table

COUNTS = ("messages", "sent", "pending", "delivered", "failed", "rejected", "dead", "refused")
RATES = ("delivery_rate", "median_seconds_to_delivery")
CSV_COLUMNS = ("date", "category", *COUNTS, *RATES)
SHOWN = (*COUNTS, "rate", "median")
"""Column names of the terminal and HTML tables (CSV keeps the JSON names)."""
FORMATS = {"rate": "percent", "median": "seconds"}
STATUS_COLORS = {
    "delivered": "#2e7d32",
    "failed": "#c62828",
    "rejected": "#ef6c00",
    "dead": "#4e342e",
    "refused": "#6a1b9a",
    "pending": "#9e9e9e",
}
"""The stacked bar's layers, bottom first (what became of each day's messages)."""


LEGEND = (
    "rate: delivered ÷ sent · pending: sent, no final delivery report yet\n"
    "median: half the delivered messages were reported delivered within this time of sending"
)


def csv_table(report: dict[str, Any]) -> Table:
    """One row per day × category (the CSV of ``?format=csv``)."""
    rows = []
    for day in report["days"]:
        for category, counts in day["categories"].items():
            rows.append((day["date"], category, *(counts[k] for k in (*COUNTS, *RATES))))
    return Table(CSV_COLUMNS, rows)


def day_table(report: dict[str, Any]) -> Table:
    """One row per day, all categories together, then the total."""
    columns = ("date", *SHOWN)
    rows = [(day["date"], *(day[k] for k in (*COUNTS, *RATES))) for day in report["days"]]
    totals = report["totals"]
    rows.append(("total", *(totals[k] for k in (*COUNTS, *RATES))))
    return Table(columns, rows)


def category_table(report: dict[str, Any]) -> Table:
    """One row per category over the whole range."""
    columns = ("category", *SHOWN)
    rows = [
        (name, *(counts[k] for k in (*COUNTS, *RATES)))
        for name, counts in report["totals"]["categories"].items()
    ]
    return Table(columns, rows)


def heading(report: dict[str, Any]) -> str:
    return f"SMS report {report['from']} to {report['to']} ({report['tz']})"


def text(report: dict[str, Any]) -> str:
    """What ``jumbe report sms`` prints: the days, the categories, what the columns mean."""
    return (
        f"{heading(report)}\n\n{tables.to_text(day_table(report), FORMATS)}\n"
        f"By category\n{tables.to_text(category_table(report), FORMATS)}\n{LEGEND}\n"
    )


def html(report: dict[str, Any]) -> str:
    """A self-contained page: headline figures, messages per day by final status (stacked
    bars), the delivery rate per day (a line), and the tables."""
    days = report["days"]
    labels = [_short(day["date"]) for day in days]
    layers = [
        svg.Series(status, [day[status] for day in days], color)
        for status, color in STATUS_COLORS.items()
    ]
    bars = svg.stacked_bar_chart("Messages per day, by final status", labels, layers)
    rate = svg.line_chart(
        "Delivery rate per day (delivered ÷ sent)",
        labels,
        [svg.Series("delivery rate", [day["delivery_rate"] for day in days], "#1565c0")],
        percent=True,
        legend=False,
    )
    totals = report["totals"]
    headline = page.figures(
        [
            ("messages", f"{totals['messages']:,}"),
            ("sent", f"{totals['sent']:,}"),
            ("delivered", f"{totals['delivered']:,}"),
            ("delivery rate", tables.show(totals["delivery_rate"], "percent")),
            (
                "median time to delivery",
                tables.show(totals["median_seconds_to_delivery"], "seconds"),
            ),
        ]
    )
    return page.page(
        heading(report),
        _subtitle(report),
        [
            page.Section("", headline + bars + rate),
            page.Section("Per day", tables.to_html(day_table(report), FORMATS)),
            page.Section("By category", tables.to_html(category_table(report), FORMATS)),
        ],
    )


def _subtitle(report: dict[str, Any]) -> str:
    return (
        "Each message counts on the day it was handed to the aggregator (or, if it never "
        "was, the day it failed, died or was refused); pending: sent, no final delivery "
        "report yet. Median time to delivery is the histogram bound within which half the "
        "delivered messages arrived."
    )


def _short(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b}"
