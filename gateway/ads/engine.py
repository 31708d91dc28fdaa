"""The ad decision, without I/O: which campaigns may run on this check, in which order.

The caller (``gateway.ads.server``) reads what Redis knows of the subscriber (``SubscriberView``,
one round trip), asks ``rank`` for the candidates, then reserves the first one atomically
(caps on the subscriber's slot, pacing and budget on the campaign's, pipelined together).

Filter order (requirement A3): consent (opt-out) → flight (start inclusive, end exclusive) →
targeting (network, prefix, plan, balance band, lifecycle, language, local time, segments) →
caps → [pacing and budget: in Redis] → selection: override, then contract by priority (equal
priorities take turns, from a random one on), then remnant drawn by weight (each draw is
proportional to weight among the remnants left, so the first pick is exactly weight/total).
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.ads.model import Campaign, serving_order
from gateway.ads.parse import SEPARATOR
from gateway.text import units

Reason = str
"""Why a check gets no ad: no_consent, no_campaign, capped, no_fit, refused (pacing, goal,
budget), timeout, store_unavailable, error."""


@dataclass(slots=True, init=False)
class BalanceCheck:
    """One ``POST /v1/piggyback``: what the telco told us, plus the subscriber's pseudonym.
    ``digits`` (the number without ``+``) is used for prefix targeting only, never stored.
    Not changed once made (not ``frozen``: a frozen dataclass's ``__init__`` costs ~0.7 µs
    more, once per check). ``__init__`` written out, as for the ones below: the compiled build
    compiles it (the one ``dataclass`` makes stays interpreted: a Python frame per check)."""

    pseudonym: str
    digits: str
    text: str
    network: str
    plan: str | None = None
    balance: float | None = None
    language: str | None = None
    zone: str = "UTC"
    """The subscriber's time zone (their country's): calendar days for caps, local time."""

    def __init__(
        self,
        pseudonym: str,
        digits: str,
        text: str,
        network: str,
        plan: str | None = None,
        balance: float | None = None,
        language: str | None = None,
        zone: str = "UTC",
    ) -> None:
        self.pseudonym = pseudonym
        self.digits = digits
        self.text = text
        self.network = network
        self.plan = plan
        self.balance = balance
        self.language = language
        self.zone = zone


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
        """The calendar in ``zone`` at ``now`` (the same for a whole minute: remembered)."""
        key = (zone, int(now // 60))
        found = _CALENDARS.get(key)
        if found is None:
            if len(_CALENDARS) > 4096:
                _CALENDARS.clear()
            local = datetime.fromtimestamp(now, _zone(zone))
            year, week, _ = local.isocalendar()
            found = _CALENDARS[key] = cls(
                local.strftime("%Y%m%d"), f"{year}W{week:02d}", local.hour * 60 + local.minute
            )
        return found


_ZONES: dict[str, ZoneInfo] = {}
_CALENDARS: dict[tuple[str, int], Calendar] = {}


def _zone(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


@dataclass(slots=True, init=False)
class Offer:
    """A candidate: the campaign and the full text the subscriber would see."""

    campaign: Campaign
    text: str

    def __init__(self, campaign: Campaign, text: str) -> None:
        self.campaign = campaign
        self.text = text


@dataclass(slots=True, init=False)
class Ranking:
    offers: list[Offer]
    reason: Reason
    """Why ``offers`` is empty (meaningless otherwise)."""
    personal: bool = True
    """Whether the ranking looked at what the view says of the subscriber beyond caps (tags,
    lifecycle, a language not given by the check). When it did not, the same offers come out
    for any subscriber whose caps allow them: the server may reserve before reading the view."""

    def __init__(self, offers: list[Offer], reason: Reason, personal: bool = True) -> None:
        self.offers = offers
        self.reason = reason
        self.personal = personal


def consent_allows(state: str, mode: str) -> bool:
    return state == "granted" or (state == "unknown" and mode == "opt_out")


@dataclass(frozen=True, slots=True)
class Pool:
    """The campaigns one network can serve, laid out for a fast decision: overrides and
    contracts in serving order, remnants with their cumulative weights (for weighted draws
    without looking at every remnant)."""

    ordered: tuple[Campaign, ...] = ()
    remnants: tuple[Campaign, ...] = ()
    cumulative: tuple[float, ...] = ()
    groups: tuple[tuple[tuple[Campaign, ...], tuple[Campaign, ...], tuple[str, ...]], ...] = ()
    """``ordered`` cut into runs of equal class and priority (they take turns), each split
    into the campaigns without number prefixes and those with (most checks match none), with
    every prefix of the latter (one ``startswith`` tells whether any may match)."""

    @classmethod
    def of(cls, campaigns: Iterable[Campaign]) -> Pool:
        every = sorted(campaigns, key=serving_order)
        remnants = tuple(c for c in every if c.cls == "remnant")
        ordered = tuple(c for c in every if c.cls != "remnant")
        groups = tuple(
            (
                tuple(c for c in g if not c.target.prefixes),
                tuple(c for c in g if c.target.prefixes),
                tuple(p for c in g for p in c.target.prefixes),
            )
            for g in (list(g) for _, g in itertools.groupby(ordered, _rank_of))
        )
        return cls(
            ordered, remnants, tuple(itertools.accumulate(c.weight for c in remnants)), groups
        )

    def __len__(self) -> int:
        return len(self.ordered) + len(self.remnants)


WANTED = 3
"""Candidates a ranking returns at most (the server tries them in order)."""
DRAWS = 48
"""Weighted draws among remnants before falling back to looking at every one (few eligible)."""


class _Judge:
    """Decides whether one campaign may be offered on this check (and why not)."""

    __slots__ = (
        "base", "calendar", "check", "language", "limits", "now", "personal", "view", "why",
    )  # fmt: skip

    def __init__(
        self, check: BalanceCheck, view: SubscriberView, now: float, limits: tuple[int, int]
    ) -> None:
        self.check, self.view, self.now, self.limits = check, view, now, limits
        self.calendar = Calendar.at(now, check.zone)
        self.language = check.language or view.language
        encoding, n = units(check.text)
        self.base = (
            n if encoding == "gsm7" else None,
            n if encoding == "ucs2" else _utf16(check.text),
        )
        self.why = {"targeted": 0, "capped": 0}
        self.personal = False

    def offer(self, campaign: Campaign) -> Offer | None:
        """The offer of ``campaign`` on this check, or ``None`` (filters in the order of A3:
        what the check says first, then what the view says, then caps and the fit)."""
        if not campaign.start <= self.now < campaign.end:
            return None
        t, check = campaign.target, self.check
        if (
            (t.networks and check.network not in t.networks)
            or (t.prefixes and not check.digits.startswith(t.prefixes))
            or (t.plans and check.plan not in t.plans)
            or (t.balance is not None and (check.balance is None
                                           or not t.balance[0] <= check.balance < t.balance[1]))
            or (t.hours and not any(_inside(self.calendar.minute, w) for w in t.hours))
        ):  # fmt: skip
            return None  # whatever the view says
        view = self.view
        if campaign.personal or (campaign.multilingual and check.language is None):
            self.personal = True
        if (
            (t.lifecycle and view.stage not in t.lifecycle)
            or (t.languages and self.language not in t.languages)
            or (t.segments and t.segments.isdisjoint(view.tags))
        ):
            return None
        self.why["targeted"] += 1
        if over_cap(campaign, view):
            self.why["capped"] += 1
            return None
        ad = campaign.text_for(self.language, self.base[0] is None)
        septets, utf16 = campaign.sizes.get(ad) or _measure(ad)
        if self.base[0] is not None and septets is not None:
            fits = self.base[0] + septets <= self.limits[0]
        else:
            fits = self.base[1] + utf16 <= self.limits[1]
        return Offer(campaign, self.check.text + SEPARATOR + ad) if fits else None


def _utf16(text: str) -> int:
    """UTF-16 code units of ``text`` (its length when it is ASCII, as a GSM-7 text mostly is)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


def _rank_of(campaign: Campaign) -> tuple[str, int]:
    return campaign.cls, campaign.priority


def _measure(ad: str) -> tuple[int | None, int]:
    encoding, n = units(SEPARATOR + ad)
    return (n if encoding == "gsm7" else None), len((SEPARATOR + ad).encode("utf-16-le")) // 2


def rank(
    campaigns: Pool | Iterable[Campaign],
    check: BalanceCheck,
    view: SubscriberView,
    now: float,
    limits: tuple[int, int],
    per_day: int,
    rng: random.Random,
    wanted: int = WANTED,
) -> Ranking:
    """Up to ``wanted`` offers that may be shown on this check, best first (one will be)."""
    pool = campaigns if isinstance(campaigns, Pool) else Pool.of(campaigns)
    if per_day > 0 and view.day.get("*", 0) >= per_day:
        return Ranking([], "capped", False)
    judge = _Judge(check, view, now, limits)
    offers: list[Offer] = []
    digits = check.digits
    for anyone, prefixed, prefixes in pool.groups:
        # equal class and priority take turns: from a random one on, until enough are found
        group = anyone
        if prefixed and digits.startswith(prefixes):
            group += tuple([c for c in prefixed if digits.startswith(c.target.prefixes)])
        if not group:
            continue
        start = rng.randrange(len(group)) if len(group) > 1 else 0
        for campaign in itertools.chain(group[start:], group[:start]):
            offer = judge.offer(campaign)
            if offer is not None:
                offers.append(offer)
                if len(offers) == wanted:
                    return Ranking(offers, "", judge.personal)
    offers += _remnants(pool, judge, wanted - len(offers), rng)
    if offers:
        return Ranking(offers, "", judge.personal)
    targeted, capped = judge.why["targeted"], judge.why["capped"]
    reason = "no_campaign" if not targeted else "capped" if capped == targeted else "no_fit"
    return Ranking([], reason, judge.personal)


def _remnants(pool: Pool, judge: _Judge, wanted: int, rng: random.Random) -> list[Offer]:
    """Remnants drawn by weight among the eligible ones, without replacement: draw among all
    by weight and keep the eligible (the same distribution), or — when few are eligible —
    look at every one and draw among those."""
    if not pool.remnants or wanted <= 0:
        return []
    total = pool.cumulative[-1]
    picked: dict[int, Offer | None] = {}
    kept: list[Offer] = []
    for _ in range(DRAWS):
        i = bisect.bisect_right(pool.cumulative, rng.random() * total)
        i = min(i, len(pool.remnants) - 1)
        if i in picked:
            continue
        offer = picked[i] = judge.offer(pool.remnants[i])
        if offer is not None:
            kept.append(offer)
            if len(kept) == wanted:
                return kept
    rest = [o for i, c in enumerate(pool.remnants) if i not in picked
            for o in (judge.offer(c),) if o is not None]  # fmt: skip
    keyed = [(rng.random() ** (1.0 / o.campaign.weight), n) for n, o in enumerate(rest)]
    keyed.sort(reverse=True)
    return (kept + [rest[n] for _, n in keyed])[:wanted]


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
