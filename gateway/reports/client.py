"""Fetch a report from a gateway's ``/v1/reports/*``; every failure is one printable line."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from gateway.errors import GatewayUnreachable, NotAvailable, ReportError
from gateway.http.client import call

NO_ROUTE = "no such /v1 route"
"""The reason of the gateway's 404 for a path it does not serve (``gateway.http.api``)."""


def report_path(kind: str, name: str | None = None) -> str:
    """``/v1/reports/sms``, ``/v1/reports/surveys/<id>``, …"""
    return f"/v1/reports/{kind}" + (f"/{quote(name, safe='')}" if name is not None else "")


def fetch(url: str, path: str, token: str | None, params: dict[str, str | None]) -> dict[str, Any]:
    """The report's JSON; ``ReportError`` (or ``NotAvailable``) saying why not."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    try:
        answer = call(url, "GET", path + (f"?{query}" if query else ""), token, timeout=60)
    except GatewayUnreachable as exc:
        raise ReportError(f"{exc} (is `jumbe serve` running?)") from None
    if answer.status == 200:
        return answer.body
    if answer.status == 404 and answer.body.get("reason") == NO_ROUTE:
        raise NotAvailable(f"{path} is not available yet on this gateway")
    error = answer.body.get("error", "error")
    hint = " (set --token or JUMBE_API_TOKEN)" if answer.status == 401 and not token else ""
    raise ReportError(f"{error} (HTTP {answer.status}): {answer.reason}{hint}")
