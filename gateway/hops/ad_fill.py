"""Performs ``AdFill`` (the ``ad_slot`` screen): the ad decision of ``gateway.ads`` for a
USSD end screen, within the ads deadline; no ad or any failure is an empty ad."""

from __future__ import annotations

import time

from gateway import metrics
from gateway.ads.engine import BalanceCheck
from gateway.ads.server import AdServer, decide_within
from gateway.hops.effects import Handler, HopContext
from gateway.menu.effects import EffectResult
from gateway.menu.screens.ad_slot import AdFill
from gateway.sms.countries import country_of


def ad_fill_handler(server: AdServer, deadline: float) -> Handler:
    """The handler, bound to the app's ad server and the ads deadline (seconds)."""

    async def fill(effect: AdFill, hop: HopContext, budget: float) -> EffectResult:
        check = BalanceCheck(
            hop.subscriber, hop.msisdn.lstrip("+"), effect.base, hop.network,
            language=effect.language or None, zone=country_of(hop.msisdn).zone,
        )  # fmt: skip
        started = time.perf_counter()
        decision = await decide_within(server, check, effect.limits, min(deadline, budget))
        metrics.count_ad_decision(decision.reason, time.perf_counter() - started)
        if decision.placement is None:
            return EffectResult(True, "")
        return EffectResult(True, decision.text[len(effect.base) :])  # the separator and the ad

    return fill
