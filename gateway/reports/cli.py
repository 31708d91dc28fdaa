"""``jumbe report ads|survey ID|funnel MENU|sms|rewards``: a client of ``/v1/reports/*``.

Prints the report as a table (default), JSON or CSV, and with ``--html FILE`` also writes a
self-contained page with charts (``sms``, ``funnel``, ``ads``, ``survey`` and ``rewards``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.http.client import DEFAULT_URL

COMMANDS = ("report",)
FORMATS = ("table", "json", "csv")


def add_commands(commands: Any) -> None:
    """Register ``jumbe report`` and its four reports."""
    report = commands.add_parser(
        "report",
        help="print a report from a running gateway (/v1/reports/*)",
        description="Fetch a report from a running gateway's /v1 API (token scope: reports) "
        "and print it; --html also writes a page with charts that works offline.",
    )
    kinds = report.add_subparsers(dest="report", required=True, metavar="REPORT")
    sms = _common(
        kinds.add_parser(
            "sms",
            help="messages per day by category and final status, delivery rate, median "
            "time to delivery",
        )
    )
    _range(sms)
    sms.add_argument("--tz", help="days in this IANA time zone, e.g. Africa/Nairobi (default: UTC)")
    _range(_common(kinds.add_parser("ads", help="impressions, reach, clicks, conversions")))
    survey = _common(kinds.add_parser("survey", help="one survey's answers and scores"))
    survey.add_argument("id", metavar="ID", help="the survey's id")
    funnel = _common(
        kinds.add_parser(
            "funnel",
            help="per screen of one menu: sessions that reached it, answered it, or dropped "
            "there (timeout, subscriber, error)",
        )
    )
    funnel.add_argument("menu", metavar="MENU", help="the menu's id")
    _range(funnel)
    funnel.add_argument(
        "--tz", help="days in this IANA time zone, e.g. Africa/Nairobi (default: UTC)"
    )
    rewards = _common(kinds.add_parser(
        "rewards", help="reconciliation: redemptions per state, airtime sent, every mismatch "
        "between Africa's Talking's answers and the ledger"))  # fmt: skip
    rewards.add_argument("--from", dest="start", metavar="ISO", help="from (default: 24 h ago)")
    rewards.add_argument("--to", dest="end", metavar="ISO", help="to (default: now)")


def _common(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--url", default=DEFAULT_URL, help="the gateway (default: %(default)s)")
    parser.add_argument(
        "--token", help="API token with the reports scope (default: JUMBE_API_TOKEN)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="table", help="what to print (default: table)"
    )
    parser.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write a self-contained HTML page with charts",
    )
    return parser


def _range(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="start", metavar="YYYY-MM-DD", help="first day")
    parser.add_argument("--to", dest="end", metavar="YYYY-MM-DD", help="last day")


def run(args: argparse.Namespace) -> int:
    """Fetch, print, write the page; one line on stderr and exit 1 on any failure."""
    from gateway.errors import NotAvailable, ReportError
    from gateway.reports.client import fetch

    path, params = _request(args)
    token = args.token or os.environ.get("JUMBE_API_TOKEN") or None
    try:
        report = fetch(args.url, path, token, params)
    except NotAvailable:
        return _fail(f"the {args.report} report is not available yet on this gateway ({args.url})")
    except ReportError as exc:
        return _fail(str(exc))
    renderers = _renderers(args.report)
    if args.format == "json":
        print(json.dumps(report, indent=2, ensure_ascii=False))
    elif renderers is None:
        return _fail(
            f"this jumbe cannot show the {args.report} report as {args.format} yet; "
            "use --format json"
        )
    else:
        print(renderers[args.format](report), end="")
    if args.html is not None:
        if renderers is None:
            return _fail(f"this jumbe cannot draw the {args.report} report yet")
        try:
            args.html.write_text(renderers["html"](report), encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.html}: {exc.strerror or exc}")
        print(f"jumbe: wrote {args.html}", file=sys.stderr)
    return 0


def _request(args: argparse.Namespace) -> tuple[str, dict[str, str | None]]:
    from gateway.reports.client import report_path

    if args.report == "sms":
        return report_path("sms"), {"from": args.start, "to": args.end, "tz": args.tz}
    if args.report == "ads":
        return report_path("ads"), {"from": args.start, "to": args.end}
    if args.report == "rewards":
        return report_path("rewards"), {"from": args.start, "to": args.end}
    if args.report == "survey":
        return report_path("surveys", args.id), {}
    return report_path("funnel", args.menu), {"from": args.start, "to": args.end, "tz": args.tz}


def _renderers(kind: str) -> dict[str, Callable[[dict[str, Any]], str]] | None:
    """table/csv/html renderers of one report kind (``None``: not in this version)."""
    if kind == "rewards":
        from gateway.reports import rewards

        return {"table": rewards.text, "csv": rewards.csv, "html": rewards.html}
    if kind == "survey":
        from gateway.reports import survey

        return {"table": survey.text, "csv": survey.csv, "html": survey.html}
    if kind == "ads":
        from gateway.reports import ads

        return {"table": ads.text, "csv": ads.csv, "html": ads.html}
    from gateway.reports import funnel, sms, tables

    module: Any = {"sms": sms, "funnel": funnel}.get(kind)
    if module is None:
        return None
    return {
        "table": module.text,
        "csv": lambda report: tables.to_csv(module.csv_table(report)),
        "html": module.html,
    }


def _fail(message: str) -> int:
    print(f"jumbe: {message}", file=sys.stderr)
    return 1
