"""The ads API: ``POST /v1/piggyback`` (scope ``piggyback``), ``POST /v1/segments/{name}`` and
``POST /v1/ads/conversions`` (scope ``segments``: the brand CRM's), ``GET /v1/reports/ads``
(scope ``reports``).

``POST /v1/piggyback``: the balance text, and an ad if one is right.

Fails open: whatever goes wrong — the decision deadline (``JUMBE_ADS_DEADLINE_MS``, default
50 ms), Redis, a bug, no eligible campaign, no room on the screen — the answer is ``200`` with
the balance text byte for byte and ``"ad": null``; ``jumbe_ads_fail_open_total{reason}`` says
why. Only a request we cannot read at all (bad JSON, a missing field) is a 400.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

from aiohttp import web

from gateway import logs, metrics
from gateway.ads.engine import BalanceCheck
from gateway.ads.report import ads_report, campaign_ids
from gateway.ads.server import Placement, decide_within
from gateway.appkeys import (
    ACTIVITY,
    AD_EVENTS,
    ADS,
    CAMPAIGNS,
    FEED,
    PSEUDONYM,
    REDIS,
    SETTINGS,
)
from gateway.background import Background
from gateway.errors import ApiError, SendRefused, StoreError
from gateway.feed.events import stable_event_id
from gateway.http.api import (
    GATEWAY_MADE,
    ApiRoute,
    Call,
    bad_request,
    json_response,
    msisdn,
    read_object,
    require,
    text,
)
from gateway.sms.countries import country_of
from gateway.sms.runtime import SMS
from gateway.store import keys

log = logs.get_logger("gateway.ads")

FIELDS = ("msisdn", "text", "network", "plan", "balance", "language")
_NETWORK = re.compile(r"^\d{5,6}$")
_LOG_KNOWN = GATEWAY_MADE | {"subscriber", "network", "reason", "campaign"}
"""The piggyback line's fields the gateway made or checked (a pseudonym, MCC+MNC digits, a
reason word, a campaign id from the operator's files): not scanned for numbers (~1.5 µs)."""
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


async def piggyback(request: web.Request, call: Call) -> web.Response:
    """``{"msisdn", "text", "network", "plan"?, "balance"?, "language"?}`` → ``{"text", "ad"}``."""
    app = request.app
    check = _check(app, await read_object(request, FIELDS))
    settings = app[SETTINGS]
    limits = settings.screen_limits.get(check.network) or settings.screen_limits["default"]
    started = time.perf_counter()  # the decision: from here (the request is read and checked)
    decision = await decide_within(app[ADS], check, limits, settings.ads.deadline_ms / 1000)
    metrics.count_ad_decision(decision.reason, time.perf_counter() - started)
    placement = decision.placement
    call.log.update(
        subscriber=check.pseudonym, network=check.network, reason=decision.reason or "ad",
        campaign=placement.campaign.id if placement else None,
    )  # fmt: skip
    call.known = _LOG_KNOWN
    if placement is not None and placement.campaign.sms:
        follow_up(app, number_of(check), placement)
    ad = (
        {"campaign": placement.campaign.id, "impression": placement.impression}
        if placement
        else None
    )
    return json_response({"text": decision.text, "ad": ad})


FOLLOW_UPS = Background("gateway.ads", "ad_sms_failed")


def number_of(check: BalanceCheck) -> str:
    return "+" + check.digits


def follow_up(app: web.Application, number: str, placement: Placement) -> None:
    """Queue the campaign's SMS follow-up after the answer (never delays it): promotional,
    so the outbox checks consent and holds it through quiet hours; once per impression."""
    FOLLOW_UPS.spawn(_send_follow_up(app, number, placement))


async def _send_follow_up(app: web.Application, number: str, placement: Placement) -> None:
    campaign = placement.campaign
    language = placement.check.language
    text = campaign.sms.get(language or "") or next(iter(campaign.sms.values()))
    # which ad it follows (its delivery counts an SMS impression), and the flash intent (AT has
    # no class-0 flag: recorded for transports that have one), stored with the message itself
    annotations = {
        "ad_campaign": campaign.id, "ad_impression": placement.impression,
        "ad_network": placement.check.network, "flash": "1" if campaign.flash else "0",
    }  # fmt: skip
    try:
        message = await app[SMS].outbox.send(
            number, text, category="promotional", idempotency_key=f"ad:{placement.impression}",
            annotations=annotations,
        )  # fmt: skip
        log.info("ad_sms_queued", subscriber=placement.check.pseudonym, campaign=campaign.id,
                 message=message, flash=campaign.flash)  # fmt: skip
    except SendRefused as exc:
        log.info("ad_sms_refused", subscriber=placement.check.pseudonym, campaign=campaign.id,
                 reason=exc.reason)  # fmt: skip
    except StoreError as exc:
        log.warning("ad_sms_failed", subscriber=placement.check.pseudonym, campaign=campaign.id,
                    error=str(exc))  # fmt: skip


def _check(app: web.Application, body: dict[str, Any]) -> BalanceCheck:
    raw_network = body["network"]
    if body["msisdn"] is None or body["text"] is None or raw_network is None:
        require(body, "msisdn", "text", "network")  # says which
    number = msisdn(text(body, "msisdn", 32))
    balance_text = text(body, "text", 1000)
    network = str(raw_network) if isinstance(raw_network, int) else text(body, "network", 8)
    if not _NETWORK.match(network):
        raise bad_request(f"network: expected MCC+MNC digits such as 63902, got {network[:8]!r}")
    plan = body.get("plan")
    if plan is not None and plan not in ("prepaid", "postpaid"):
        raise bad_request("plan: expected prepaid or postpaid")
    balance = body.get("balance")
    if balance is not None and (isinstance(balance, bool) or not isinstance(balance, int | float)):
        raise bad_request("balance: expected a number")
    language = body.get("language")
    if language is not None and (not isinstance(language, str) or not _LANGUAGE.match(language)):
        raise bad_request("language: expected a language code such as en or sw")
    return BalanceCheck(
        app[PSEUDONYM](number), number.lstrip("+"), balance_text, network, plan,
        None if balance is None else float(balance), language, country_of(number).zone,
    )  # fmt: skip


MAX_SEGMENT_BATCH = 10_000
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")


async def segment(request: web.Request, call: Call) -> web.Response:
    """``POST /v1/segments/{name}`` ``{"msisdns": [...], "member": true|false}``: add the
    numbers to (or remove them from) a segment; the same tags SMS keywords set
    (``j:tags:{<pseudonym>}``), which campaigns target with ``target.segments``."""
    name = request.match_info["name"]
    if not _SEGMENT.match(name):
        raise bad_request("segment name: letters, digits, _ . - (at most 64)")
    body = await read_object(request, ("msisdns", "member"))
    require(body, "msisdns")
    numbers = body["msisdns"]
    if not isinstance(numbers, list) or not numbers or len(numbers) > MAX_SEGMENT_BATCH:
        raise bad_request(f"msisdns: expected a list of 1 to {MAX_SEGMENT_BATCH} numbers")
    member = True if body["member"] is None else body["member"]  # left out: add
    if not isinstance(member, bool):
        raise bad_request("member: expected true or false")
    pseudonym = request.app[PSEUDONYM]
    subscribers = []
    for i, raw in enumerate(numbers):
        if not isinstance(raw, str):
            raise bad_request(f"msisdns[{i}]: expected a string")
        subscribers.append(pseudonym(msisdn(raw, f"msisdns[{i}]")))
    pipe = request.app[REDIS].pipeline(transaction=False)
    for subscriber in subscribers:
        tags = keys.subscriber_tags(subscriber)
        pipe.sadd(tags, name) if member else pipe.srem(tags, name)
    changed = sum(int(n) for n in await pipe.execute())
    call.log.update(segment=name, member=member, numbers=len(subscribers), changed=changed)
    return json_response({"segment": name, "member": member, "changed": changed})


MAX_CONVERSION_ID = 200


async def conversion(request: web.Request, call: Call) -> web.Response:
    """``POST /v1/ads/conversions`` ``{"msisdn", "campaign", "event", "id"}``: counted once per
    ``id`` if the subscriber saw the campaign within its conversion window; the same ``id``
    again answers the same, counted once."""
    body = await read_object(request, ("msisdn", "campaign", "event", "id"))
    require(body, "msisdn", "campaign", "event", "id")
    number = msisdn(text(body, "msisdn", 32))
    cid = text(body, "campaign", 64)
    event = text(body, "event", 64)
    conversion_id = text(body, "id", MAX_CONVERSION_ID).strip()
    if not conversion_id or not event.strip():
        raise bad_request("id and event must not be empty")
    campaign = request.app[CAMPAIGNS].index.by_id.get(cid)
    if campaign is None:
        raise ApiError(404, "not_found", f"no campaign {cid[:64]!r} is being served")
    subscriber = request.app[PSEUDONYM](number)
    result = await request.app[AD_EVENTS].convert(subscriber, campaign, conversion_id)
    call.log.update(subscriber=subscriber, campaign=cid, conversion=event, counted=result.counted,
                    duplicate=result.duplicate)  # fmt: skip
    answer: dict[str, Any] = {"id": conversion_id, "campaign": cid, "event": event,
                              "counted": result.counted, "duplicate": result.duplicate}  # fmt: skip
    if result.reason:
        answer["reason"] = result.reason
    if result.counted and not result.duplicate:
        await request.app[FEED].publish_quietly("ad.conversion", subscriber, number, {
            "campaign": cid, "event": event, "id": conversion_id,
        }, stable_event_id("ad.conversion", cid, conversion_id))  # fmt: skip
    return json_response(answer)


async def report(request: web.Request, call: Call) -> web.Response:
    """``GET /v1/reports/ads[?from=YYYY-MM-DD&to=YYYY-MM-DD]`` (days in each campaign's zone)."""
    unknown = sorted(set(request.query) - {"from", "to"})
    if unknown:
        raise bad_request(f"unknown parameter(s) {', '.join(unknown)}; expected from, to")
    start, end = _day(request, "from"), _day(request, "to")
    if start and end and end < start:
        raise bad_request("to: before from")
    client = request.app[REDIS]
    ids = await campaign_ids(client, request.app[CAMPAIGNS].index.by_id)
    body = await ads_report(client, ids, start, end)
    body["lifecycle"] = await request.app[ACTIVITY].counts()
    call.log.update(campaigns=len(ids))
    return json_response(body)


def _day(request: web.Request, name: str) -> date | None:
    raw = request.query.get(name, "").strip()
    if not raw:
        return None
    try:
        if not re.match(r"^\d{4}-\d{2}-\d{2}$", raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name}: expected a date as YYYY-MM-DD, got {raw[:32]!r}") from None


ROUTES = [
    ApiRoute("POST", "/v1/piggyback", "piggyback", piggyback),
    ApiRoute("POST", "/v1/segments/{name}", "segments", segment),
    ApiRoute("POST", "/v1/ads/conversions", "segments", conversion),
    ApiRoute("GET", "/v1/reports/ads", "reports", report),
]
