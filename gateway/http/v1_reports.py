"""``GET /v1/reports/sms`` and ``/v1/reports/funnel/{menu}`` (scope ``reports``).

SMS: messages per day by category and final status, read from the outbox's hourly counters
(``gateway.sms.stats``), so days older than the 30 days message records live are still
reported. Funnel: per screen of one menu, sessions that reached, answered, gave an invalid
answer or dropped there (``gateway.funnel.report``).

Query of both: ``from``/``to`` (``YYYY-MM-DD``, default the last 30 days), ``tz`` (IANA zone
whose offset is whole hours, default ``UTC``), ``format`` (``json`` or ``csv``). JSON shapes in
``docs/api.md``.
"""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from gateway.appkeys import REDIS, REGISTRY, SETTINGS
from gateway.errors import ApiError
from gateway.funnel import report as funnel
from gateway.http.api import ApiRoute, Call, bad_request, json_response
from gateway.reports import funnel as funnel_rendering
from gateway.reports import sms as sms_rendering
from gateway.reports.tables import to_csv
from gateway.sms import stats

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PARAMETERS = ("from", "to", "tz", "format")


async def sms_report(request: web.Request, call: Call) -> web.Response:
    """The SMS report as JSON, or CSV with ``?format=csv``."""
    span, output = _span_and_format(request)
    report = await stats.sms_report(request.app[REDIS], span, request.app[SETTINGS].sms.shards)
    call.log.update(days=len(report["days"]), tz=span.tz, format=output)
    if output == "json":
        return json_response(report)
    return _csv(to_csv(sms_rendering.csv_table(report)), f"jumbe-sms-{span.first}-{span.last}")


async def funnel_report(request: web.Request, call: Call) -> web.Response:
    """One menu's funnel as JSON, or CSV (a row per day and screen) with ``?format=csv``; 404
    for a menu this gateway does not serve."""
    menu_id = request.match_info["menu"]
    menu = next((m for m in request.app[REGISTRY].menus if m.id == menu_id), None)
    if menu is None:
        raise ApiError(404, "not_found", f"no menu {menu_id[:64]!r} is served here")
    span, output = _span_and_format(request)
    report = await funnel.funnel_report(request.app[REDIS], menu, span)
    call.log.update(menu=menu.id, days=len(report["days"]), tz=span.tz, format=output)
    if output == "json":
        return json_response(report)
    name = f"jumbe-funnel-{menu.id}-{span.first}-{span.last}"
    return _csv(to_csv(funnel_rendering.csv_table(report)), name)


def _span_and_format(request: web.Request) -> tuple[stats.Days, str]:
    """The days and the output format a report call asks for (400 with the reason)."""
    query = _query(request)
    tz = query.get("tz") or "UTC"
    if tz not in _zones():
        raise bad_request(
            f"tz: unknown time zone {tz[:64]!r}; use an IANA name such as Africa/Nairobi"
        )
    output = query.get("format") or "json"
    if output not in ("json", "csv"):
        raise bad_request(f"format: expected json or csv, got {output[:16]!r}")
    today = datetime.fromtimestamp(time.time(), ZoneInfo(tz)).date()
    try:
        return stats.days(_date(query, "from"), _date(query, "to"), tz, today), output
    except stats.RangeError as exc:
        raise bad_request(str(exc)) from None


def _csv(text: str, name: str) -> web.Response:
    return web.Response(
        text=text,
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _query(request: web.Request) -> dict[str, str]:
    """The query parameters; 400 for one we do not know (a typo must not be ignored) or given
    twice."""
    unknown = sorted(set(request.query) - set(_PARAMETERS))
    if unknown:
        raise bad_request(
            f"unknown parameter(s) {', '.join(unknown)}; expected {', '.join(_PARAMETERS)}"
        )
    twice = sorted(name for name in set(request.query) if len(request.query.getall(name)) > 1)
    if twice:
        raise bad_request(f"parameter(s) given more than once: {', '.join(twice)}")
    return {name: request.query[name].strip() for name in request.query}


def _date(query: dict[str, str], name: str) -> date | None:
    raw = query.get(name)
    if not raw:
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name}: expected a date as YYYY-MM-DD, got {raw[:32]!r}") from None


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones() | {"UTC"})


ROUTES = [
    ApiRoute("GET", "/v1/reports/sms", "reports", sms_report),
    ApiRoute("GET", "/v1/reports/funnel/{menu}", "reports", funnel_report),
]
