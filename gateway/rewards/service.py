"""``Rewards``: earn and redeem, the one place both go through (``Rewards.activity`` is called
for each), and the settlement of a redemption (``settle``) that fulfilment and AT's status
callback share.

A redemption, in order: the item (404 unknown, 422 not for this number), the global daily budget
reserved in its own slot (409 ``budget``, the breaker trips), the redemption listed for
reconciliation, then one script checks the per-number guards and the balance and holds the
points (409 ``velocity`` / ``daily_cap`` / ``monthly_cap`` / ``insufficient_points``; the
budget is released again), and the fulfilment job is queued.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from datetime import time as time_of_day
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gateway import logs, metrics
from gateway.config import RewardsSettings
from gateway.errors import RedeemRefused, StoreError
from gateway.feed.events import EventFeed, stable_event_id
from gateway.jobs.queue import JobQueue
from gateway.privacy import Pseudonymizer
from gateway.rewards.amounts import amount_problem, currency_of
from gateway.rewards.catalog import Airtime, Catalogs, Item
from gateway.rewards.ledger import Earned, Guards, Ledger
from gateway.store import keys

log = logs.get_logger("gateway.rewards")

QUEUE = "rewards"
"""The job queue that fulfils redemptions."""

Activity = Callable[[str, str], Awaitable[None]]
"""``(subscriber pseudonym, "earn" | "redeem")``: told about every earn and redemption."""


class Notifier(Protocol):
    async def __call__(self, record: dict[str, str], outcome: str) -> None:
        """Tell the subscriber how ``record`` ended (``success`` or ``failed``)."""


Policy = RewardsSettings
"""What ``Rewards`` enforces: the ``rewards`` section of the settings (``JUMBE_REWARDS_*``)."""


def new_redemption_id() -> str:
    """Unique, roughly time-ordered; AT's ``Idempotency-Key`` for its airtime send."""
    return f"r{int(time.time() * 1000):x}{secrets.token_hex(6)}"


def expiry_for(earned_at: float, months: int, tz: str) -> float:
    """When points earned at ``earned_at`` expire: ``months`` later, at the end of that month
    (the first instant of the next month, local time); 0 = never."""
    if months <= 0:
        return 0.0
    local = datetime.fromtimestamp(earned_at, ZoneInfo(tz))
    month = local.month + months  # the month they last in, then the one after it
    year, month = local.year + month // 12, month % 12 + 1
    return datetime(year, month, 1, tzinfo=ZoneInfo(tz)).timestamp()


class Rewards:
    """Points for subscribers: ``earn``, ``redeem``, ``settle``, ``view``."""

    def __init__(
        self,
        ledger: Ledger,
        catalogs: Catalogs,
        pseudonym: Pseudonymizer,
        queue: JobQueue,
        policy: Policy | None = None,
    ) -> None:
        self.ledger = ledger
        self.catalogs = catalogs
        self.pseudonym = pseudonym
        self.queue = queue
        self.policy = policy or Policy()
        self.notify: Notifier | None = None
        self.listeners: list[Activity] = []
        self.feed: EventFeed | None = None
        """Where settled redemptions are published (``app[FEED]``), if anywhere."""

    @property
    def redis(self) -> Any:
        return self.ledger.redis

    def now(self) -> float:
        return self.ledger.clock()

    async def activity(self, subscriber: str, what: str) -> None:
        """Every earn and redemption passes here (lifecycle stages hook in via ``listeners``)."""
        for listener in self.listeners:
            try:
                await listener(subscriber, what)
            except Exception:  # a listener's bug must not undo a credit
                log.exception("rewards_activity_listener_failed", what=what)

    # --- earning ---------------------------------------------------------------------------

    async def earn(self, subscriber: str, points: int, source: str, source_id: str) -> Earned:
        """Credit ``points`` to ``subscriber`` (a pseudonym) once per ``(source, source_id)``."""
        expires = expiry_for(self.now(), self.policy.expiry_months, self.policy.tz)
        earned = await self.ledger.earn(subscriber, points, source, source_id, expires)
        if earned.new:
            log.info("rewards_earned", subscriber=subscriber, points=points, source=source,
                     entry=earned.entry, balance=earned.balance)  # fmt: skip
            await self.activity(subscriber, "earn")
        return earned

    async def grant(self, subscriber: str, points: int, source: str, source_id: str) -> None:
        """``IncentiveSink.grant``: engines (surveys) credit points through the ledger."""
        await self.earn(subscriber, points, source, source_id)

    # --- redeeming -------------------------------------------------------------------------

    def _item(self, msisdn: str, item_id: str) -> Item:
        item = self.catalogs.item(item_id)
        if item is None:
            raise RedeemRefused(404, "unknown_item", f"no catalog item {item_id[:64]!r}")
        if isinstance(item.fulfilment, Airtime):
            airtime = item.fulfilment
            currency = currency_of(msisdn)
            if currency != airtime.currency:
                uses = currency or "no known currency"
                raise RedeemRefused(422, "currency", f"{item.id} is {airtime.currency} airtime; "
                                    f"this number's country uses {uses}")  # fmt: skip
            problem = amount_problem(airtime.amount, airtime.currency, self.policy.max_airtime)
            if problem is not None:
                raise RedeemRefused(422, "amount", problem)
        return item

    def _until_midnight(self) -> int:
        """Whole seconds until the local day ends (at least 1)."""
        zone = ZoneInfo(self.policy.tz)
        local = datetime.fromtimestamp(self.now(), zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), time_of_day(0), zone)
        return max(1, int(midnight.timestamp() - self.now()))

    def _periods(self) -> tuple[str, str]:
        local = datetime.fromtimestamp(self.now(), ZoneInfo(self.policy.tz))
        return local.strftime("%Y%m%d"), local.strftime("%Y%m")

    async def redeem(
        self, msisdn: str, item_id: str, language: str = "en", redemption: str | None = None
    ) -> tuple[str, str]:
        """Hold the item's points and queue its fulfilment: (redemption id, state), or
        ``RedeemRefused`` (nothing held, no redemption created). A ``redemption`` id already
        used returns that redemption's state and holds nothing more."""
        item = self._item(msisdn, item_id)
        subscriber = self.pseudonym(msisdn)
        if redemption is not None:  # a retried call: that redemption, whatever it became
            found = await self.ledger.redemption(subscriber, redemption)
            if found is not None:
                return redemption, found["state"]
        redemption = redemption or new_redemption_id()
        day, month = self._periods()
        airtime = item.fulfilment if isinstance(item.fulfilment, Airtime) else None
        value = airtime.amount if airtime else 0.0
        currency = airtime.currency if airtime else ""
        budget_held = False
        if airtime is not None and self.policy.daily_budget is not None:
            if not await self._budget("reserve", redemption, currency, value, day):
                log.error("rewards_budget_breaker_tripped", currency=currency,
                          budget=self.policy.daily_budget)  # fmt: skip
                metrics.count_redemption("refused")
                raise RedeemRefused(409, "budget", "today's airtime budget is spent")
            budget_held = True
        index = keys.rewards_index(keys.rewards_shard(subscriber))
        await self.redis.zadd(index, {f"{subscriber}|{redemption}": int(self.now() * 1000)})
        record: dict[str, str | int | float] = {
            "id": redemption, "item": item.id, "catalog": item.catalog, "kind": item.kind,
            "label": item.label(language), "points": item.points, "value": value,
            "currency": currency, "phone": msisdn, "subscriber": subscriber,
            "language": language, "day": day, "day_field": f"d:{day}:{currency}",
            "month_field": f"m:{month}:{currency}", "budget": "1" if budget_held else "",
        }  # fmt: skip
        policy = self.policy
        guards = Guards(policy.velocity, policy.daily_cap, policy.monthly_cap,
                        f"d:{day}:{currency}", f"m:{month}:{currency}")  # fmt: skip
        held = await self.ledger.hold(subscriber, redemption, item.points, record,
                                      value if airtime else None, guards)  # fmt: skip
        if held.outcome == "refused":
            if budget_held:
                await self._budget("release", redemption, currency, value, day)
            await self.redis.zrem(index, f"{subscriber}|{redemption}")
            metrics.count_redemption("refused")
            log.info("rewards_redeem_refused", subscriber=subscriber, item=item.id,
                     reason=held.reason)  # fmt: skip
            raise RedeemRefused(409, held.reason, _DETAILS.get(held.reason, held.reason))
        if held.outcome != "held":  # this id was used before: that redemption, unchanged
            return redemption, held.outcome
        metrics.count_redemption("HELD")
        log.info("rewards_held", subscriber=subscriber, redemption=redemption, item=item.id,
                 points=item.points, balance=held.balance)  # fmt: skip
        try:
            await self.queue.enqueue(redemption, subscriber)
        except StoreError as exc:  # held all the same: the hourly job queues it again
            log.error("rewards_enqueue_failed", redemption=redemption, error=str(exc))
        await self.activity(subscriber, "redeem")
        return redemption, "HELD"

    async def _budget(
        self, op: str, redemption: str, currency: str, value: float, day: str
    ) -> bool:
        budget = self.policy.daily_budget
        reply: Any = await self.ledger.scripts.budget(
            keys=[keys.rewards_budget(day), keys.rewards_breaker()],
            args=[op, redemption, currency, value, budget if budget is not None else 0,
                  keys.REWARDS_BUDGET_TTL, f"{self.now():.3f}", self._until_midnight()],
        )  # fmt: skip
        return int(reply) == 1

    async def breaker(self) -> str | None:
        """Why the daily budget's breaker is tripped, or ``None``."""
        raw: Any = await self.redis.get(keys.rewards_breaker())
        return raw.decode() if raw else None

    # --- settling --------------------------------------------------------------------------

    async def settle(
        self, subscriber: str, redemption: str, to: str, **fields: str | int | float
    ) -> str:
        """Move a redemption on (``SUBMITTED``, ``SUCCESS``, ``REVERSED``); on a final move,
        give back the budget (reversed) and tell the subscriber. The state now."""
        moved, state, credit = await self.ledger.move(subscriber, redemption, to, **fields)
        if not moved:
            return state
        if credit == "reverse":  # SUBMITTED → FAILED → REVERSED, in the one step
            metrics.count_redemption("FAILED")
        metrics.count_redemption(state)
        log.info("rewards_settled", subscriber=subscriber, redemption=redemption, state=state,
                 reason=str(fields.get("reason", "")))  # fmt: skip
        if state not in ("SUCCESS", "REVERSED"):
            return state
        record = await self.ledger.redemption(subscriber, redemption) or {}
        if state == "REVERSED" and record.get("budget"):
            await self._budget("release", redemption, record.get("currency", ""),
                               float(record.get("value") or 0), record.get("day", ""))  # fmt: skip
        if record.get("erased"):  # the subscriber asked to be forgotten while it was in flight
            await self.redis.hdel(keys.rewards_redemption(subscriber, redemption), "phone")
            log.info("rewards_settled_after_erasure", subscriber=subscriber, redemption=redemption)
            return state
        if self.feed is not None:
            await self.feed.publish_quietly("redemption.settled", subscriber,
                                            record.get("phone", ""), {
                "redemption": redemption, "item": record.get("item", ""), "state": state,
                "reason": str(fields.get("reason", "")),
            }, stable_event_id("redemption.settled", redemption, state))  # fmt: skip
        if self.notify is not None and record:
            await self.notify(record, "success" if state == "SUCCESS" else "failed")
        return state

    async def status_callback(
        self,
        subscriber: str,
        request_id: str,
        status: str | None,
        reported: str,
        value: tuple[str, float] | None = None,
    ) -> str:
        """AT's airtime status for ``request_id``: applied once (a retry changes nothing). One
        whose send was never recorded (its answer lost, and AT refusing the repeated key) is
        matched to the one SUBMITTED redemption of that number and value awaiting an answer;
        otherwise it waits for the send to be recorded. The outcome word."""
        found: Any = await self.ledger.scripts.request(
            keys=[keys.rewards_requests(subscriber), keys.rewards_early(subscriber)],
            args=[request_id, status or reported, keys.REWARDS_EARLY_TTL],
        )
        if not found:
            adopted = await self._adopt(subscriber, request_id, value)
            if adopted is None:
                return "stashed"
            found = adopted.encode()
        redemption = found.decode()
        if status is None:
            await self.ledger.move(subscriber, redemption, "SUBMITTED", callback=reported)
            return "kept"
        to = "SUCCESS" if status == "SUCCESS" else "REVERSED"
        before = (await self.ledger.redemption(subscriber, redemption) or {}).get("state")
        state = await self.settle(subscriber, redemption, to, callback=reported,
                                  reason="" if to == "SUCCESS" else f"AT: {reported}")  # fmt: skip
        if state != to:  # AT contradicts a final state: kept for the reconciliation report
            await self.redis.hset(keys.rewards_redemption(subscriber, redemption), "conflict",
                                  f"AT reported {reported} on a {state} redemption")  # fmt: skip
            log.error("rewards_callback_conflict", subscriber=subscriber,
                      redemption=redemption, state=state, reported=reported)  # fmt: skip
            return "conflict"
        return "applied" if state != before else "duplicate"

    async def _adopt(
        self, subscriber: str, request_id: str, value: tuple[str, float] | None
    ) -> str | None:
        """The redemption a callback for an unrecorded request must be about, if exactly one
        fits: SUBMITTED airtime of this value with no request id yet. Its request id is
        recorded, so the callback (and any repeat of it) applies to it from now on."""
        if value is None:
            return None
        currency, amount = value
        waiting = [r for r in await self.ledger.redemptions(subscriber, limit=20)
                   if r.get("state") == "SUBMITTED" and r.get("kind") == "airtime"
                   and not r.get("request_id") and r.get("currency") == currency
                   and abs(float(r.get("value") or 0) - amount) < 0.005]  # fmt: skip
        if len(waiting) != 1:
            return None
        redemption = waiting[0]["id"]
        await self.ledger.move(subscriber, redemption, "SUBMITTED", request_id=request_id)
        await self.redis.hdel(keys.rewards_early(subscriber), request_id)
        log.warning("rewards_request_adopted", subscriber=subscriber, redemption=redemption,
                    request_id=request_id)  # fmt: skip
        return redemption

    async def early_status(self, subscriber: str, request_id: str) -> str | None:
        """A status callback that arrived before ``request_id`` was recorded (then forgotten)."""
        raw: Any = await self.redis.hget(keys.rewards_early(subscriber), request_id)
        if raw is None:
            return None
        await self.redis.hdel(keys.rewards_early(subscriber), request_id)
        return str(raw.decode())

    # --- reading ---------------------------------------------------------------------------

    async def balance(self, msisdn: str) -> int:
        """The balance of one number (one script: lots due are expired first)."""
        _expired, balance, _next = await self.ledger.expire(self.pseudonym(msisdn))
        return balance

    async def view(self, msisdn: str) -> dict[str, Any]:
        """Balance, live lots and redemptions (newest first) of one number."""
        subscriber = self.pseudonym(msisdn)
        _expired, balance, _next = await self.ledger.expire(subscriber)
        now = self.now()
        lots = [lot for lot in await self.ledger.lots(subscriber)
                if lot["left"] > 0 and not 0 < lot["expires_at"] <= now]  # fmt: skip
        return {"balance": balance, "lots": lots,
                "redemptions": await self.ledger.redemptions(subscriber)}  # fmt: skip

    async def validate(self, msisdn: str, amount: float, currency: str) -> bool:
        """AT's validation callback: a SUBMITTED airtime redemption of this number, amount and
        currency exists."""
        for record in await self.ledger.redemptions(self.pseudonym(msisdn), limit=20):
            if (record.get("state") == "SUBMITTED" and record.get("kind") == "airtime"
                    and record.get("currency") == currency
                    and abs(float(record.get("value") or 0) - amount) < 0.005):  # fmt: skip
                return True
        return False


_DETAILS = {
    "insufficient_points": "not enough points for this item",
    "velocity": "one airtime reward per number every few minutes; try again later",
    "daily_cap": "this number has reached today's airtime limit",
    "monthly_cap": "this number has reached this month's airtime limit",
}
