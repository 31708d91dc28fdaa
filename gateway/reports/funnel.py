"""The funnel report (``GET /v1/reports/funnel/{menu}``) as tables, CSV and an HTML page with a
funnel chart and the drops per day.

Works on the report's JSON only, so the gateway (``?format=csv``) and ``jumbe report funnel``
render the same rows from the same document.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from gateway.reports import page, svg, tables
from gateway.reports.tables import Table

DROPS = ("timeout", "user", "error")
COUNTS = ("reached", "answered", "invalid")
CSV_COLUMNS = ("date", "screen", "kind", *COUNTS, *(f"dropped_{reason}" for reason in DROPS))
SHOWN = ("screen", "kind", *COUNTS, "timeout", "user", "error", "drop rate")
DROP_COLORS = {"timeout": "#ef6c00", "user": "#6a1b9a", "error": "#c62828"}
LEGEND = (
    "reached: sessions that were shown the screen · answered: left it with an answer\n"
    "invalid: answers the screen refused and asked again · timeout / user / error: sessions\n"
    "that ended on the screen before an END (idle too long, ended by the subscriber, a failure)\n"
    "drop rate: dropped ÷ reached"
)


def _row(screen: dict[str, Any]) -> tuple[Any, ...]:
    return (*(screen[k] for k in COUNTS), *(screen["dropped"][r] for r in DROPS))


def csv_table(report: dict[str, Any]) -> Table:
    """One row per day × screen (the CSV of ``?format=csv``)."""
    rows = [
        (day["date"], screen["screen"], screen["kind"] or "", *_row(screen))
        for day in report["days"]
        for screen in day["screens"]
    ]
    return Table(CSV_COLUMNS, rows)


def screen_table(report: dict[str, Any]) -> Table:
    """One row per screen over the whole range, in the menu's order."""
    rows = []
    for screen in report["screens"]:
        rate = screen["dropped_total"] / screen["reached"] if screen["reached"] else None
        rows.append((screen["screen"], screen["kind"] or "(gone)", *_row(screen), rate))
    return Table(SHOWN, rows)


def heading(report: dict[str, Any]) -> str:
    return f"Funnel of {report['menu']}, {report['from']} to {report['to']} ({report['tz']})"


def text(report: dict[str, Any]) -> str:
    """What ``jumbe report funnel`` prints: sessions, then a row per screen."""
    table = tables.to_text(screen_table(report), {"drop rate": "percent"})
    return f"{heading(report)}\nsessions: {report['sessions']:,}\n\n{table}\n{LEGEND}\n"


def html(report: dict[str, Any]) -> str:
    """A self-contained page: the funnel of sessions reaching each screen, the drops per day
    by reason, and the table."""
    steps = [("sessions", float(report["sessions"]))] + [
        (screen["screen"], float(screen["reached"]))
        for screen in report["screens"]
        if screen["reached"]
    ]
    chart = svg.funnel_chart("Sessions reaching each screen", steps)
    days = report["days"]
    drops = svg.stacked_bar_chart(
        "Sessions dropped per day, by reason",
        [_short(day["date"]) for day in days],
        [
            svg.Series(
                reason, [sum(s["dropped"][reason] for s in day["screens"]) for day in days], color
            )
            for reason, color in DROP_COLORS.items()
        ],
    )
    return page.page(
        heading(report),
        "Each session counts on the day of the hop (or the end) that is counted. Africa's "
        "Talking does not say whether an incomplete session timed out or was cancelled: one "
        "idle for longer than JUMBE_FUNNEL_IDLE_TIMEOUT is counted as a timeout.",
        [
            page.Section("", page.figures([("sessions", f"{report['sessions']:,}")]) + chart),
            page.Section("Drops", drops),
            page.Section(
                "Per screen", tables.to_html(screen_table(report), {"drop rate": "percent"})
            ),
        ],
    )


def _short(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b}"
