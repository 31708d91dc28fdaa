"""The rewards reconciliation report (``GET /v1/reports/rewards``) as text, CSV and HTML:
redemptions per state, airtime sent per currency, and one row per mismatch."""

from __future__ import annotations

import html as escape
from typing import Any

from gateway.reports.tables import Table, to_csv, to_html, to_text


def mismatch_table(report: dict[str, Any]) -> Table:
    rows = [(m["redemption"], m["subscriber"], m["state"], m["problem"])
            for m in report.get("mismatches", [])]  # fmt: skip
    return Table(("redemption", "subscriber", "state", "problem"), rows)


def summary_table(report: dict[str, Any]) -> Table:
    states = report.get("states", {})
    sent = report.get("airtime_sent", {})
    rows = [(f"state {name}", count) for name, count in sorted(states.items())]
    rows += [(f"airtime sent, {currency}", value) for currency, value in sorted(sent.items())]
    return Table(("what", "count"), rows)


def heading(report: dict[str, Any]) -> str:
    count = len(report.get("mismatches", []))
    return (f"Rewards {report.get('from', '')} to {report.get('to', '')}: "
            f"{report.get('redemptions', 0)} redemption(s), {count} mismatch(es)")  # fmt: skip


def text(report: dict[str, Any]) -> str:
    parts = [heading(report), "", to_text(summary_table(report))]
    if report.get("mismatches"):
        parts += ["", to_text(mismatch_table(report))]
    return "\n".join(parts).rstrip("\n") + "\n"


def csv(report: dict[str, Any]) -> str:
    """One row per mismatch (an empty table when the ledger agrees with AT)."""
    return to_csv(mismatch_table(report))


def html(report: dict[str, Any]) -> str:
    title = escape.escape(heading(report))
    return (f"<!doctype html><meta charset=utf-8><title>{title}</title><h1>{title}</h1>"
            f"{to_html(summary_table(report))}{to_html(mismatch_table(report))}\n")  # fmt: skip
