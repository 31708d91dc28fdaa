"""``POST /v1/surveys/{id}/invite`` (scope ``surveys``) and ``GET /v1/reports/surveys/{id}``
(scope ``reports``), and the SMS survey runtime (``setup_surveys``: replies, reminders, expiry).

Invite: ``{"msisdns": [...], "channel": "sms"}`` → ``202 {"invited": n, "refused": [{"msisdn",
"reason"}]}``; an unknown survey → 404. Each number is checked on its own (an E.164 number,
``surveys`` consent, no other survey open, not already invited or finished).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from aiohttp import web

from gateway import logs
from gateway.appkeys import ACTIVITY, FEED, INCENTIVES, PSEUDONYM, REDIS, SETTINGS, SURVEYS
from gateway.errors import ApiError, StoreError
from gateway.http.api import ApiRoute, Call, bad_request, json_response, msisdn, read_object
from gateway.reports.tables import Table, to_csv
from gateway.sms.runtime import SMS
from gateway.surveys import report
from gateway.surveys.model import Survey
from gateway.surveys.sms import SmsSurveys
from gateway.surveys.store import SurveyStore

log = logs.get_logger("gateway.surveys")

SURVEY_SMS = web.AppKey("survey_sms", SmsSurveys)
"""The SMS side of surveys (invitations, replies, reminders, expiry)."""
MAX_INVITES = 1000
"""Numbers per invite call."""


def setup_surveys(app: web.Application) -> None:
    """Add the SMS survey runtime (after the SMS one: it sends through the outbox)."""
    app.cleanup_ctx.append(_surveys_context)


async def _surveys_context(app: web.Application) -> AsyncIterator[None]:
    settings, sms = app[SETTINGS], app[SMS]
    surveys = SmsSurveys(
        SurveyStore(app[REDIS]), lambda: app[SURVEYS], sms.outbox, sms.ledger, app[PSEUDONYM],
        lambda: app[INCENTIVES], settings.survey,
    )  # fmt: skip
    surveys.feed = app[FEED]
    if ACTIVITY in app:
        surveys.activity = app[ACTIVITY].record
    app[SURVEY_SMS] = surveys
    sms.inbound.surveys = surveys
    stop = asyncio.Event()
    task = asyncio.create_task(_ticks(surveys, stop)) if settings.sms.worker else None
    try:
        yield
    finally:
        sms.inbound.surveys = None
        if task is not None:
            stop.set()  # a cancellation can be swallowed inside a Redis call; the event cannot
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _ticks(surveys: SmsSurveys, stop: asyncio.Event) -> None:
    """Reminders and expiry, every ``survey.tick`` seconds, until ``stop``."""
    while not stop.is_set():
        try:
            await surveys.tick()
        except StoreError as exc:
            log.warning("survey_tick_failed", error=str(exc))
        except Exception:  # a background loop: a bug is logged, the next tick tries again
            log.exception("survey_tick_crashed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), surveys.settings.tick)


def _survey(request: web.Request) -> Survey:
    survey = request.app[SURVEYS].get(request.match_info["id"])
    if survey is None:
        raise ApiError(404, "not_found", "no such survey (is its file in the content folder?)")
    return survey


async def invite(request: web.Request, call: Call) -> web.Response:
    """Invite numbers to an SMS survey."""
    survey = _survey(request)
    body = await read_object(request, ("msisdns", "channel"))
    numbers = body.get("msisdns")
    if not isinstance(numbers, list) or not numbers:
        raise bad_request("msisdns: expected a non-empty list of E.164 numbers")
    if len(numbers) > MAX_INVITES:
        raise bad_request(f"msisdns: at most {MAX_INVITES} numbers per call")
    channel = body.get("channel") or "sms"
    if channel != "sms":
        raise bad_request(f"channel: only sms invitations are sent (got {str(channel)[:16]!r}); "
                          "over USSD a subscriber dials the survey")  # fmt: skip
    invited, refused = 0, []
    surveys = request.app[SURVEY_SMS]
    for raw in numbers:
        try:
            number = msisdn(raw) if isinstance(raw, str) else msisdn("")
        except ApiError:
            refused.append({"msisdn": str(raw)[:32], "reason": "not an E.164 number"})
            continue
        refusal = await surveys.invite(survey, number)
        if refusal is None:
            invited += 1
        else:
            refused.append({"msisdn": raw, "reason": refusal.reason})
    call.log.update(survey=survey.id, invited=invited, refused=len(refused))
    return json_response({"invited": invited, "refused": refused}, 202)


async def survey_report(request: web.Request, call: Call) -> web.Response:
    """The survey's report as JSON, or one row per respondent with ``?format=csv``."""
    survey = _survey(request)
    output = request.query.get("format", "json")
    if output not in ("json", "csv") or set(request.query) - {"format"}:
        raise bad_request("the only parameter is format=json|csv")
    rows = await report.respondents(request.app[REDIS], survey)
    call.log.update(survey=survey.id, respondents=len(rows), format=output)
    if output == "json":
        return json_response(report.summary(survey, rows))
    columns, lines = report.csv_rows(survey, rows)
    return web.Response(
        text=to_csv(Table(columns, lines)),
        content_type="text/csv",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="jumbe-survey-{survey.id}.csv"'},
    )


ROUTES = [
    ApiRoute("POST", "/v1/surveys/{id}/invite", "surveys", invite),
    ApiRoute("GET", "/v1/reports/surveys/{id}", "reports", survey_report),
]
