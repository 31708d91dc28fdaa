"""Serving a decision against Redis: read the subscriber, rank, reserve atomically, record.

Round trips on the common path (the hop path's pipelined client, ``store.pipelined``):

1. one script on the subscriber's slot reads consent, the ads shown (today's, this week's and
   lifetime counts, one hash), tags (segments), lifecycle and language (``ad_view.lua``); in
   ``opt_out`` mode the data guard's marker is read in the same tick;
2. the chosen campaign is reserved by two scripts sent together: caps (and consent again, so a
   STOP that lands in between still wins) on the subscriber's slot, goal/pacing/budget and the
   report counters on the campaign's slot. If one refuses, the other is released (in the
   background) and the next candidate is tried, at most ``MAX_TRIES`` in all.

In ``opt_out`` mode, when the ranking does not depend on what the view says beyond caps (no
candidate looked at targets segments or lifecycle, or needs the remembered language), step 1
is skipped: the first offer is reserved at once, with the data guard's marker, in one round
trip. The subscriber's script still checks consent first and every cap; if consent refuses,
the campaign's side is given back and there is no ad; if a cap refuses (or data loss is not
acknowledged), the campaign's side is given back and the full path above decides.

So 100 concurrent checks never exceed a cap (each reservation is one atomic script) and a
budget overshoots by nothing: the script refuses the impression that would cross it.
"""

from __future__ import annotations

import asyncio
import math
import random
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from gateway import logs
from gateway.ads.engine import (
    BalanceCheck,
    Calendar,
    Offer,
    Reason,
    SubscriberView,
    consent_allows,
    rank,
)
from gateway.ads.index import Campaigns
from gateway.ads.model import Campaign
from gateway.background import Background
from gateway.errors import StoreError
from gateway.lifecycle.stages import Activity, Thresholds, stage
from gateway.store import keys, lua
from gateway.store.pipelined import Command, HopClient, Script
from gateway.store.resp import Packed

log = logs.get_logger("gateway.ads")

MAX_TRIES = 3
"""Candidates tried per check when a reservation is refused (pacing, budget, a cap raced)."""
_VIEW = lua.source("ad_view")
_RESERVE_SUB = lua.compose("ad_reserve_lib", "ad_reserve_subscriber")
_RELEASE_SUB = lua.source("ad_release_subscriber")
_RESERVE_CAMPAIGN = lua.compose("ad_reserve_lib", "ad_reserve_campaign")
_RESERVE_BOTH = lua.compose("ad_reserve_lib", "ad_reserve_both")
_RELEASE_CAMPAIGN = lua.source("ad_release_campaign")


_META = keys.meta()
_GUARD: Command = (b"HMGET", _META.encode(), b"epoch", b"lost_reason")
"""The data guard's marker: data loss not acknowledged if the epoch is gone or a reason set."""
_RESERVED = (b"ok", b"open")
"""The subscriber's side reserved: consent granted, or none recorded in ``opt_out`` mode."""
_LIFETIME_TTL, _STATS_TTL = str(keys.AD_LIFETIME_TTL), str(keys.AD_STATS_TTL)
"""Numbers a reservation sends are made text once (the client would make them text per call)."""


@dataclass(slots=True, init=False)
class Placement:
    """An ad reserved (counted) for one check: to show, or to release if it is not shown.
    ``__init__`` written out (as ``Decision``'s): the compiled build compiles it."""

    campaign: Campaign
    impression: str
    check: BalanceCheck
    calendar: Calendar
    campaign_day: str
    hour: int
    stored: str
    """The subscriber's last-impression value (``<impression>|<time>|<network>``)."""

    def __init__(
        self,
        campaign: Campaign,
        impression: str,
        check: BalanceCheck,
        calendar: Calendar,
        campaign_day: str,
        hour: int,
        stored: str,
    ) -> None:
        self.campaign = campaign
        self.impression = impression
        self.check = check
        self.calendar = calendar
        self.campaign_day = campaign_day
        self.hour = hour
        self.stored = stored


@dataclass(slots=True)
class _Side:
    """A campaign's part of its reservations on one network within one minute."""

    campaign: Campaign
    """The campaign as loaded (a reload makes a new one: this is then stale)."""
    minute: int
    day: str
    """The campaign's day (its zone's calendar)."""
    keys: list[str]
    caps: tuple[Any, ...]
    """The subscriber script's first arguments: mode, campaign, its caps, the global cap."""
    money: tuple[str, str, str]
    """Goal, budget, price."""
    packed: tuple[Packed, Packed, Packed]
    """On one Redis, the script's arguments that stay the same for the minute, packed once
    (``store.resp``): ``caps``; ``money``; the stats' TTL and the campaign's day."""


@dataclass(slots=True, init=False)
class Decision:
    text: str
    placement: Placement | None
    reason: Reason
    """Why there is no ad (``""`` when there is one)."""

    def __init__(self, text: str, placement: Placement | None, reason: Reason) -> None:
        self.text = text
        self.placement = placement
        self.reason = reason


class AdServer:
    """Decides and counts ads for balance checks (and ``ad_slot`` screens)."""

    def __init__(
        self,
        client: HopClient,
        campaigns: Campaigns,
        *,
        mode: str,
        per_day: int,
        thresholds: Thresholds,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._client = client
        self._one_node = client.one_node
        """One Redis (not a Cluster): a reservation's two sides run as one script."""
        self._campaigns = campaigns
        self._mode = mode
        self._per_day = per_day
        self._thresholds = thresholds
        self._clock = clock
        self._rng = rng or random.Random()
        self._ids = random.Random(secrets.randbits(128))
        """Impression ids: 64 random bits each, seeded from the OS once (not a syscall each)."""
        self._served: set[str] = set()
        self._background = Background("gateway.ads", "ad_background_failed")
        self._sides: dict[tuple[str, str], _Side] = {}
        self.deadlines = Deadlines()
        """The deadlines of decisions in flight (``decide_within``)."""

    async def decide(self, check: BalanceCheck, limits: tuple[int, int]) -> Decision:
        """The text to show and the reserved ad, or the balance text and why there is none."""
        now = self._clock()
        calendar = Calendar.at(now, check.zone)
        pool = self._campaigns.index.for_network(check.network)
        if self._mode == "opt_out":  # most subscribers may see ads: try the first offer at once
            # the best offer alone (the next ones only if it is refused: most checks need one)
            ranking = rank(pool, check, _UNSEEN["unknown"], now, limits, 0, self._rng, 1)
            if ranking.offers and not ranking.personal:
                # the first offer reserved in the round trip that would have read the view (one
                # round trip instead of two): valid because the ranking did not depend on the
                # view beyond caps, which the reservation checks itself, after consent. Inline
                # (no coroutine of its own): this is most checks' whole path.
                offers = ranking.offers
                placement, calls = self._reservation(offers[0], check, calendar, now, True)
                results = await self._client.run_together(
                    calls, partial(self._abandoned, placement)
                )
                reserved, refusal, lost = self._reserved(placement, results, True)
                if lost:  # data loss not acknowledged: opt-outs may be gone
                    if reserved is not None:
                        self.release(reserved)
                    # the view below says whether consent was recorded
                elif reserved is not None:
                    self._note_served(reserved.campaign.id)
                    return Decision(offers[0].text, reserved, "")
                elif refusal == "consent":
                    return Decision(check.text, None, "no_consent")
                elif refusal != "cap":  # a cap refused: only the view can tell what may run
                    # pacing, a goal or the budget refused it: the next offers, still at once
                    # if they too do not depend on the view
                    refused = offers[0].campaign
                    again = rank(pool, check, _UNSEEN["unknown"], now, limits, 0, self._rng)
                    if not again.personal:
                        rest = [o for o in again.offers if o.campaign is not refused]
                        return await self._first_reserved(
                            rest[: MAX_TRIES - 1], check, calendar, now
                        )
        view, lost = await self._view(check.pseudonym, calendar, now)
        if not consent_allows(view.consent, self._mode) or (view.consent == "unknown" and lost):
            return Decision(check.text, None, "no_consent")
        ranking = rank(pool, check, view, now, limits, self._per_day, self._rng)
        if not ranking.offers:
            return Decision(check.text, None, ranking.reason)
        return await self._first_reserved(ranking.offers[:MAX_TRIES], check, calendar, now)

    async def _first_reserved(
        self,
        offers: list[Offer],
        check: BalanceCheck,
        calendar: Calendar,
        now: float,
        reason: Reason = "refused",
    ) -> Decision:
        """The first of ``offers`` that both sides reserve, or why none."""
        for offer in offers:
            placement, refusal = await self._reserve(offer, check, calendar, now)
            if placement is not None:
                self._note_served(offer.campaign.id)
                return Decision(offer.text, placement, "")
            if refusal == "consent":
                return Decision(check.text, None, "no_consent")
            reason = "capped" if refusal == "cap" else "refused"
        return Decision(check.text, None, reason)

    async def _view(
        self, pseudonym: str, calendar: Calendar, now: float
    ) -> tuple[SubscriberView, bool]:
        calls: list[Script | Command] = [(_VIEW, [
            keys.consent(pseudonym), keys.ad_shown(pseudonym), keys.subscriber_tags(pseudonym),
            keys.lifecycle(pseudonym), keys.subscriber(pseudonym),
        ], [])]  # fmt: skip
        if self._mode == "opt_out":
            calls.append(_GUARD)  # sent in the same tick as the read
        results = await self._client.run_together(calls)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        raw = results[0]
        lost = self._mode == "opt_out" and _lost(results[1])
        consent, shown, tags, lifecycle, lang = raw
        state = consent.split(b"|", 1)[0].decode() if consent else "unknown"
        if not (shown or tags or lifecycle or lang):  # most checks: nothing known but consent
            return _UNSEEN[state] if state in _UNSEEN else SubscriberView(consent=state), lost
        day, week, life = _shown(shown, calendar)
        activity = Activity.parse(_flat(lifecycle, str))
        view = SubscriberView(
            consent=state, day=day, week=week, lifetime=life,
            tags=frozenset(t.decode() for t in tags),
            stage=stage(activity, now, self._thresholds), language=lang.decode() or None,
        )  # fmt: skip
        return view, lost

    async def _reserve(
        self, offer: Offer, check: BalanceCheck, calendar: Calendar, now: float
    ) -> tuple[Placement | None, str]:
        """Both sides' reservation of ``offer`` sent together: the placement or the refusal."""
        placement, calls = self._reservation(offer, check, calendar, now, False)
        results = await self._client.run_together(calls, partial(self._abandoned, placement))
        reserved, refusal, _ = self._reserved(placement, results, False)
        return reserved, refusal

    def _reservation(
        self, offer: Offer, check: BalanceCheck, calendar: Calendar, now: float, guard: bool
    ) -> tuple[Placement, list[Script | Command]]:
        """The placement ``offer`` would be, and the calls that reserve it on both sides (with
        the data guard's marker if ``guard``)."""
        campaign, p, network = offer.campaign, check.pseudonym, check.network
        impression = f"imp_{self._ids.getrandbits(64):016x}"
        stored = f"{impression}|{now:.3f}|{network}"
        minute = int(now // 60)
        side = self._sides.get((campaign.id, network))
        if side is None or side.minute != minute or side.campaign is not campaign:
            side = self._side(campaign, network, now, minute)
        subscriber_keys = [keys.consent(p), keys.ad_shown(p)]
        hour, hours_left = int(now // 3600), max(1, math.ceil((campaign.end - now) / 3600))
        calls: list[Script | Command]
        if self._one_node:  # both sides (and the guard's marker) in one script
            both = [*subscriber_keys, *side.keys, _META] if guard else subscriber_keys + side.keys
            limits, money, tail = side.packed  # the arguments below, the same ones packed once
            args = [limits, calendar.day, calendar.week, stored, _LIFETIME_TTL, hour, hours_left,
                    money, network, p, tail]  # fmt: skip
            calls = [(_RESERVE_BOTH, both, args)]
        else:  # a Cluster: each side on its own slot's node, sent together
            subscriber_args = [*side.caps, calendar.day, calendar.week, stored, _LIFETIME_TTL]
            campaign_args = [hour, hours_left, *side.money, network, p, _STATS_TTL, side.day]
            calls = [
                (_RESERVE_SUB, subscriber_keys, subscriber_args),
                (_RESERVE_CAMPAIGN, side.keys, campaign_args),
            ]
            if guard:
                calls.append(_GUARD)
        placement = Placement(campaign, impression, check, calendar, side.day, hour, stored)
        return placement, calls

    def _side(self, campaign: Campaign, network: str, now: float, minute: int) -> _Side:
        """What a reservation of ``campaign`` on ``network`` sends that is the same for a whole
        minute (its day in the campaign's zone, its keys, its caps and money), remembered."""
        day = Calendar.at(now, campaign.tz).day
        caps, cid = campaign.caps, campaign.id
        limits = (self._mode, cid, str(caps.per_day), str(caps.per_week), str(caps.lifetime),
                  str(self._per_day))  # fmt: skip
        money = (str(campaign.goal), str(campaign.budget), str(campaign.price))
        side = _Side(
            campaign, minute, day,
            [keys.ad_campaign(cid), keys.ad_stats(cid, day), keys.ad_reach(cid, day, network),
             keys.ad_days(cid)],
            limits, money, (Packed(limits), Packed(money), Packed((_STATS_TTL, day))),
        )  # fmt: skip
        if len(self._sides) > 8192:  # campaigns come and go with reloads
            self._sides.clear()
        self._sides[cid, network] = side
        return side

    def _reserved(
        self, placement: Placement, results: list[Any], guard: bool
    ) -> tuple[Placement | None, str, bool]:
        """What the replies to ``_reservation``'s calls say: the placement (both sides
        reserved) or the refusal, and whether data loss is unacknowledged. A side reserved
        alone is given back (in the background)."""
        if self._one_node:  # one script: both sides or neither were counted
            reply = results[0]
            if isinstance(reply, BaseException):
                raise reply
            subscriber, campaign, lost = reply
            if lost == b"1":
                return None, "", True
            if campaign == b"ok":
                return placement, subscriber.decode(), False
            return None, (campaign or subscriber).decode(), False
        sub_ok, camp_ok = results[0] in _RESERVED, results[1] == b"ok"
        lost = guard and not isinstance(results[2], BaseException) and _lost(results[2])
        if sub_ok and camp_ok and not (guard and isinstance(results[2], BaseException)):
            return placement, results[0].decode(), lost
        if sub_ok or camp_ok:
            self._background.spawn(self._release(placement, sub_ok, camp_ok))
        for result in results:
            if isinstance(result, BaseException):
                raise result
        refusal = results[0] if not sub_ok else results[1]
        return None, refusal.decode(), lost

    def _abandoned(self, placement: Placement, results: list[Any]) -> None:
        """A reservation whose decision was given up (past the deadline, or the caller gone)
        while it ran: give back whichever side reserved."""
        if self._one_node:
            reply = results[0]
            sub_ok = camp_ok = not isinstance(reply, BaseException) and reply[1] == b"ok"
        else:
            sub_ok, camp_ok = results[0] in _RESERVED, results[1] == b"ok"
        if sub_ok or camp_ok:
            self._background.spawn(self._release(placement, sub_ok, camp_ok))

    def release(self, placement: Placement) -> None:
        """Give back an ad that was reserved but not shown (the answer went out without it)."""
        self._background.spawn(self._release(placement, True, True))

    async def _release(self, placement: Placement, subscriber: bool, campaign: bool) -> None:
        p, c, calendar = placement.check.pseudonym, placement.campaign, placement.calendar
        calls = []
        if subscriber:
            calls.append(self._client.run_script(_RELEASE_SUB, [keys.ad_shown(p)], [
                c.id, placement.stored, calendar.day, calendar.week,
            ]))  # fmt: skip
        if campaign:
            calls.append(self._client.run_script(_RELEASE_CAMPAIGN, [
                keys.ad_campaign(c.id), keys.ad_stats(c.id, placement.campaign_day),
            ], [placement.hour, c.price, placement.check.network]))  # fmt: skip
        for result in await asyncio.gather(*calls, return_exceptions=True):
            if isinstance(result, StoreError):
                log.warning("ad_release_failed", campaign=c.id, subscriber=p, error=str(result))

    def _note_served(self, campaign: str) -> None:
        if campaign not in self._served:
            self._served.add(campaign)
            self._background.spawn(self._client.execute(b"SADD", keys.ads_served(), campaign))

    async def close(self) -> None:
        await self._background.close()


def _flat(raw: list[bytes], cast: Callable[[str], Any]) -> dict[str, Any]:
    return {raw[i].decode(): cast(raw[i + 1].decode()) for i in range(0, len(raw), 2)}


_UNSEEN = {state: SubscriberView(consent=state) for state in ("granted", "revoked", "unknown")}
"""The view of a subscriber Redis knows nothing about but consent (shared: views are frozen)."""


def _shown(
    raw: list[bytes], calendar: Calendar
) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Today's, this week's and lifetime ad counts from the ads-shown hash (a past day's or
    week's fields count for nothing)."""
    fields = {raw[i]: raw[i + 1] for i in range(0, len(raw), 2)}
    today = fields.get(b"d") == calendar.day.encode()
    this_week = fields.get(b"w") == calendar.week.encode()
    day: dict[str, int] = {}
    week: dict[str, int] = {}
    life: dict[str, int] = {}
    for name, value in fields.items():
        kind = name[:2]
        if kind == b"l:":
            life[name[2:].decode()] = int(value)
        elif kind == b"d:" and today:
            day[name[2:].decode()] = int(value)
        elif kind == b"w:" and this_week:
            week[name[2:].decode()] = int(value)
    return day, week, life


class Decider(Protocol):
    """What ``decide_within`` needs of an ``AdServer`` (a protocol, not the class: the compiled
    build checks declared classes at run time, and tests hand it a slow decider)."""

    @property
    def deadlines(self) -> Deadlines: ...

    async def decide(self, check: BalanceCheck, limits: tuple[int, int]) -> Decision: ...

    def release(self, placement: Placement) -> None: ...


async def decide_within(
    server: Decider, check: BalanceCheck, limits: tuple[int, int], deadline: float
) -> Decision:
    """The decision, or the balance text unchanged if it is not ready within ``deadline`` or
    fails. It runs in the caller's task (no task of its own: the answer goes out in the step
    its last reply arrives); a reservation still running at the deadline is given back when
    its replies arrive (``AdServer._abandoned``)."""
    task = asyncio.current_task()
    assert task is not None
    stop = server.deadlines.add(task, deadline)
    try:
        decision = await server.decide(check, limits)
    except asyncio.CancelledError:
        if stop.expired and task.uncancel() == 0:  # our deadline, not the caller's cancellation
            return Decision(check.text, None, "timeout")
        raise
    except StoreError:
        return Decision(check.text, None, "store_unavailable")
    except Exception:  # fail open, always; the bug is in the log
        log.exception("ad_decision_crashed", subscriber=check.pseudonym)
        return Decision(check.text, None, "error")
    finally:
        stop.finished()
    if decision.placement is not None and not decision.text.startswith(check.text):
        server.release(decision.placement)  # never happens; never cut the balance text
        return Decision(check.text, None, "error")
    return decision


DEADLINE_SLACK_S = 0.002
"""How late past its deadline a decision may be stopped (the shared timer's period, at most)."""


class Deadline:
    """One decision's deadline: when it ends, the decision's task is cancelled (``expired``)
    unless it has ``finished``."""

    __slots__ = ("at", "done", "expired", "handle", "task")

    def __init__(self, at: float, task: asyncio.Task[Any]) -> None:
        self.at = at
        self.task = task
        self.done = False
        self.expired = False
        self.handle: asyncio.TimerHandle | None = None

    def finished(self) -> None:
        self.done = True
        if self.handle is not None:
            self.handle.cancel()

    def expire(self) -> None:
        if not self.done:
            self.expired = True
            self.task.cancel()


class Deadlines:
    """The deadlines of decisions in flight, kept in the order they end, with one loop timer
    for all of them instead of a timer armed and cancelled per decision (~1.5 µs each under
    uvloop; ``asyncio.timeout`` without its objects). The timer runs at most every
    ``DEADLINE_SLACK_S`` while a deadline is pending, so a decision past its deadline is
    stopped at most that late. A deadline that ends before one already kept (a shorter one: a
    USSD hop's remaining budget) gets a timer of its own."""

    def __init__(self) -> None:
        self._pending: deque[Deadline] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def add(self, task: asyncio.Task[Any], seconds: float) -> Deadline:
        loop = task.get_loop()
        if loop is not self._loop:  # a new loop (tests): what the last one kept is moot
            self._pending, self._loop, self._timer = deque(), loop, None
        now = loop.time()
        deadline = Deadline(now + seconds, task)
        pending = self._pending
        if pending and pending[-1].at > deadline.at:
            deadline.handle = loop.call_at(deadline.at, deadline.expire)
            return deadline
        pending.append(deadline)
        if self._timer is None:
            self._timer = loop.call_at(max(deadline.at, now + DEADLINE_SLACK_S), self._sweep)
        return deadline

    def _sweep(self) -> None:
        self._timer = None
        loop, pending = self._loop, self._pending
        assert loop is not None
        now = loop.time()
        while pending and (pending[0].done or pending[0].at <= now):
            pending.popleft().expire()
        if pending:
            self._timer = loop.call_at(max(pending[0].at, now + DEADLINE_SLACK_S), self._sweep)


def _lost(meta: list[bytes | None]) -> bool:
    return meta[0] is None or bool(meta[1])
