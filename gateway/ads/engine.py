"""The ad decision, without I/O: which campaigns may run on this check, in which order.

The caller (``gateway.ads.server``) reads what Redis knows of the subscriber (``SubscriberView``,
one round trip), asks ``rank`` for the candidates, then reserves the first one atomically
(caps on the subscriber's slot, pacing and budget on the campaign's, pipelined together).

Filter order (requirement A3): consent (opt-out) → flight (start inclusive, end exclusive) →
targeting (network, prefix, plan, balance band, lifecycle, language, local time, segments) →
caps → [pacing and budget: in Redis] → selection: override, then contract by priority (ties
shuffled), then remnant drawn by weight (each draw is proportional to weight among the
remnants left, so the first pick is exactly weight/total).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.ads.model import Campaign
from gateway.ads.parse import SEPARATOR
from gateway.text import units

Reason = str
"""Why a check gets no ad: no_consent, no_campaign, capped, no_fit, refused (pacing, goal,
budget), timeout, store_unavailable, error."""


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """One ``POST /v1/piggyback``: what the telco told us, plus the subscriber's pseudonym.
    ``digits`` (the number without ``+``) is used for prefix targeting only, never stored."""

    pseudonym: str
    digits: str
    text: str
    network: str
    plan: str | None = None
    balance: float | None = None
    language: str | None = None
    zone: str = "UTC"
    """The subscriber's time zone (their country's): calendar days for caps, local time."""


@dataclass(frozen=True, slots=True)
class SubscriberView:
    """What Redis knows of the subscriber at the start of a check."""

    consent: str = "unknown"
    """``granted``, ``revoked`` or ``unknown`` for purpose ``ads``."""
    day: Mapping[str, int] = field(default_factory=dict)
    """Ads shown today per campaign, and ``*`` for all."""
    week: Mapping[str, int] = field(default_factory=dict)
    lifetime: Mapping[str, int] = field(default_factory=dict)
    tags: frozenset[str] = frozenset()
    stage: str = "new"
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Calendar:
    """The subscriber's local calendar at the moment of the check."""

    day: str
    """``YYYYMMDD``"""
    week: str
    """``YYYYWww`` (ISO)"""
    minute: int
    """Minutes since local midnight."""

    @classmethod
    def at(cls, now: float, zone: str) -> Calendar:
        local = datetime.fromtimestamp(now, _zone(zone))
        year, week, _ = local.isocalendar()
        return cls(local.strftime("%Y%m%d"), f"{year}W{week:02d}", local.hour * 60 + local.minute)


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


@dataclass(frozen=True, slots=True)
class Offer:
    """A candidate: the campaign and the full text the subscriber would see."""

    campaign: Campaign
    text: str


@dataclass(slots=True)
class Ranking:
    offers: list[Offer]
    reason: Reason
    """Why ``offers`` is empty (meaningless otherwise)."""


def consent_allows(state: str, mode: str) -> bool:
    return state == "granted" or (state == "unknown" and mode == "opt_out")


def rank(
    campaigns: Iterable[Campaign],
    check: BalanceCheck,
    view: SubscriberView,
    now: float,
    limits: tuple[int, int],
    per_day: int,
    rng: random.Random,
) -> Ranking:
    """The offers that may be shown on this check, best first (at most one will be)."""
    calendar = Calendar.at(now, check.zone)
    if per_day > 0 and view.day.get("*", 0) >= per_day:
        return Ranking([], "capped")
    language = check.language or view.language
    base_encoding, _ = units(check.text)
    targeted = capped = 0
    offers: list[Offer] = []
    for campaign in campaigns:
        if not campaign.live(now) or not targets(campaign, check, view, calendar, language):
            continue
        targeted += 1
        if over_cap(campaign, view):
            capped += 1
            continue
        text = combined(check.text, campaign, language, base_encoding == "ucs2")
        if text is not None and fits(text, limits):
            offers.append(Offer(campaign, text))
    if not offers:
        reason = "no_campaign" if not targeted else "capped" if capped == targeted else "no_fit"
        return Ranking([], reason)
    return Ranking(order(offers, rng), "")


def targets(
    campaign: Campaign,
    check: BalanceCheck,
    view: SubscriberView,
    calendar: Calendar,
    language: str | None,
) -> bool:
    """Whether the campaign's targeting admits this check (empty fields admit everyone)."""
    t = campaign.target
    band = t.balance
    return (
        (not t.networks or check.network in t.networks)
        and (not t.prefixes or check.digits.startswith(t.prefixes))
        and (not t.plans or check.plan in t.plans)
        and (band is None or (check.balance is not None and band[0] <= check.balance < band[1]))
        and (not t.lifecycle or view.stage in t.lifecycle)
        and (not t.languages or language in t.languages)
        and (not t.hours or any(_inside(calendar.minute, w) for w in t.hours))
        and (not t.segments or not t.segments.isdisjoint(view.tags))
    )


def _inside(minute: int, window: tuple[int, int]) -> bool:
    start, end = window
    return start <= minute < end if start < end else minute >= start or minute < end


def over_cap(campaign: Campaign, view: SubscriberView) -> bool:
    caps, cid = campaign.caps, campaign.id
    return (
        (caps.per_day > 0 and view.day.get(cid, 0) >= caps.per_day)
        or (caps.per_week > 0 and view.week.get(cid, 0) >= caps.per_week)
        or (caps.lifetime > 0 and view.lifetime.get(cid, 0) >= caps.lifetime)
    )


def combined(balance_text: str, campaign: Campaign, language: str | None, ucs2: bool) -> str:
    """The balance text, unchanged, then the separator and the ad."""
    return balance_text + SEPARATOR + campaign.text_for(language, ucs2)


def fits(text: str, limits: tuple[int, int]) -> bool:
    """Within the screen: GSM-7 septets, or UCS-2 units if any part needs UCS-2."""
    encoding, n = units(text)
    return n <= (limits[0] if encoding == "gsm7" else limits[1])


def order(offers: list[Offer], rng: random.Random) -> list[Offer]:
    """Override (priority high first), contract (priority high first, ties shuffled), remnant
    (a weighted draw without replacement)."""
    overrides = [o for o in offers if o.campaign.cls == "override"]
    contracts = [o for o in offers if o.campaign.cls == "contract"]
    remnants = [o for o in offers if o.campaign.cls == "remnant"]
    overrides.sort(key=lambda o: -o.campaign.priority)
    rng.shuffle(contracts)
    contracts.sort(key=lambda o: -o.campaign.priority)  # stable: shuffled within a priority
    keyed = [(rng.random() ** (1.0 / o.campaign.weight), i) for i, o in enumerate(remnants)]
    keyed.sort(reverse=True)
    return overrides + contracts + [remnants[i] for _, i in keyed]
