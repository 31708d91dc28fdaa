"""Data-subject requests (scope ``subjects``): ``GET /v1/subscribers/{msisdn}/export`` answers
everything held about one subscriber, per engine; ``DELETE /v1/subscribers/{msisdn}`` erases it
(``gateway.subjects``: what is kept, and why). Both are audited; neither logs the number."""

from __future__ import annotations

from aiohttp import web

from gateway import logs
from gateway.appkeys import ACTIVITY, PSEUDONYM, REDIS
from gateway.http.api import ApiRoute, Call, json_response, msisdn
from gateway.subjects import HOLDERS, requests
from gateway.subjects.base import Subject

log = logs.get_logger("gateway.api")


def _subject(request: web.Request) -> Subject:
    number = msisdn(request.match_info["msisdn"])
    return Subject(number, request.app[PSEUDONYM](number))


async def export(request: web.Request, call: Call) -> web.Response:
    """One JSON document: the number, its pseudonym, and a section per engine."""
    subject = _subject(request)
    assert call.token is not None  # views run only after the guard authorized the call
    document = await requests.export(request.app[REDIS], HOLDERS, subject, call.token.name)
    call.log.update(subscriber=subject.pseudonym)
    return json_response(document)


async def erase(request: web.Request, call: Call) -> web.Response:
    """``{"erased": true, "removed": {engine: count}}``; a repeat removes nothing more."""
    subject = _subject(request)
    assert call.token is not None  # views run only after the guard authorized the call
    activity = request.app.get(ACTIVITY)
    if activity is not None:  # activity noted just before must not be written just after
        await activity.forget(subject.pseudonym)
    removed = await requests.erase(request.app[REDIS], HOLDERS, subject, call.token.name)
    call.log.update(subscriber=subject.pseudonym, removed=sum(removed.values()))
    log.warning("subscriber_erased", subscriber=subject.pseudonym,
                requested_by=call.token.name, removed=removed)  # fmt: skip
    return json_response({"erased": True, "removed": removed})


ROUTES = [
    ApiRoute("GET", "/v1/subscribers/{msisdn}/export", "subjects", export),
    ApiRoute("DELETE", "/v1/subscribers/{msisdn}", "subjects", erase),
]
