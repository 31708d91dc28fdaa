"""Performing the rewards screens' effects (``menu.screens.rewards``) through ``app[REWARDS]``.

A refusal is a failed result whose ``error`` is a sentence for the subscriber, in their
language; a Redis outage is one too (the subscriber reads it, nothing was held). A redemption
is named by the session, its hop and the screen, so performing the same hop twice (an
aggregator's retry reaching another gateway process while the first still works on it)
returns the first redemption instead of holding points again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from gateway.errors import RedeemRefused, StoreError
from gateway.hops.effects import HopContext
from gateway.menu.effects import Effect, EffectResult
from gateway.menu.screens.rewards import RewardsLookup, RewardsRedeem

if TYPE_CHECKING:
    from aiohttp import web

    from gateway.rewards.service import Rewards

REASONS = {
    "en": {"insufficient_points": "You do not have enough points for this reward.",
           "velocity": "You redeemed airtime a moment ago. Please try again in 5 minutes.",
           "daily_cap": "You have reached today's airtime limit.",
           "monthly_cap": "You have reached this month's airtime limit.",
           "budget": "Airtime rewards are paused for today. Please try tomorrow.",
           "unknown_item": "This reward is no longer available.",
           "currency": "This reward is not available for your number.",
           "amount": "This reward is not available for your number.",
           "unavailable": "Rewards are not available right now. Please try later."},
    "sw": {"insufficient_points": "Huna pointi za kutosha kwa zawadi hii.",
           "velocity": "Umepokea salio sasa hivi. Tafadhali jaribu tena baada ya dakika 5.",
           "daily_cap": "Umefikia kikomo cha salio cha leo.",
           "monthly_cap": "Umefikia kikomo cha salio cha mwezi huu.",
           "budget": "Zawadi za salio zimesitishwa leo. Tafadhali jaribu kesho.",
           "unknown_item": "Zawadi hii haipatikani tena.",
           "currency": "Zawadi hii haipatikani kwa namba yako.",
           "amount": "Zawadi hii haipatikani kwa namba yako.",
           "unavailable": "Zawadi hazipatikani sasa. Tafadhali jaribu baadaye."},
}  # fmt: skip


def reason_text(reason: str, language: str) -> str:
    texts = REASONS.get(language, REASONS["en"])
    return texts.get(reason, texts["unavailable"])


Handler = Callable[[Any, HopContext, float], Awaitable[EffectResult]]


def handlers(app: web.Application) -> Mapping[type[Effect], Handler]:
    """The handlers, reading ``app[REWARDS]`` when called (it is built after the runner)."""

    def rewards() -> Rewards:
        from gateway.rewards.runtime import REWARDS

        return app[REWARDS]

    async def lookup(effect: RewardsLookup, hop: HopContext, _budget: float) -> EffectResult:
        try:
            balance = await rewards().balance(hop.msisdn)
        except StoreError:
            return EffectResult(False, error=reason_text("unavailable", effect.language))
        items = [{"id": i.id, "label": i.label(effect.language), "points": i.points}
                 for i in rewards().catalogs.listing(effect.catalog or None)]  # fmt: skip
        return EffectResult(True, {"points": balance, "items": items})

    async def redeem(effect: RewardsRedeem, hop: HopContext, _budget: float) -> EffectResult:
        name = f"{hop.provider}\n{hop.session_id}\n{effect.hop}\n{effect.screen}"
        redemption_id = "u" + hashlib.sha256(name.encode()).hexdigest()[:24]
        try:
            redemption, state = await rewards().redeem(hop.msisdn, effect.item, effect.language,
                                                       redemption_id)  # fmt: skip
        except RedeemRefused as exc:
            return EffectResult(False, error=reason_text(exc.reason, effect.language))
        except StoreError:
            return EffectResult(False, error=reason_text("unavailable", effect.language))
        return EffectResult(True, {"redemption": redemption, "state": state})

    return {RewardsLookup: lookup, RewardsRedeem: redeem}
