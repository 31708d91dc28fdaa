"""Handle one inbound SMS: once per AT id, route by keyword, act, reply, keep it in the inbox."""

from __future__ import annotations

from typing import Literal

import redis.asyncio

from gateway.channels.africastalking.sms import InboundSms
from gateway.consent import PURPOSES
from gateway.consent.ledger import ConsentLedger
from gateway.privacy import Pseudonymizer
from gateway.sms.countries import country_of
from gateway.sms.keywords import KeywordRouter, Route
from gateway.sms.outbox import Outbox
from gateway.store import keys


class InboundHandler:
    """STOP revokes every marketing purpose at once and is confirmed by SMS; START grants them."""

    def __init__(
        self,
        client: redis.asyncio.Redis,
        router: KeywordRouter,
        ledger: ConsentLedger,
        outbox: Outbox,
        pseudonym: Pseudonymizer,
        provider: str = "africastalking",
    ) -> None:
        self._redis = client
        self._router = router
        self._ledger = ledger
        self._outbox = outbox
        self._pseudonym = pseudonym
        self._provider = provider

    async def handle(self, sms: InboundSms) -> Route | None:
        """The route taken, or ``None`` for a retry of an SMS already handled."""
        seen = keys.sms_inbound_seen(self._provider, sms.inbound_id)
        if not await self._redis.set(seen, "1", nx=True, ex=keys.SMS_INBOUND_TTL):
            return None
        try:
            route = self._router.route(sms.text)
            await self._act(sms, route)
        except BaseException:
            await self._redis.delete(seen)  # let AT's retry run it again
            raise
        return route

    async def _act(self, sms: InboundSms, route: Route) -> None:
        subscriber = self._pseudonym(sms.phone_number)
        country = country_of(sms.phone_number).code
        source = f"keyword:{route.keyword}"
        if route.kind in ("stop", "start"):
            state: Literal["granted", "revoked"] = "revoked" if route.kind == "stop" else "granted"
            await self._ledger.record(subscriber, PURPOSES, state, source=source, channel="sms",
                                      country=country)  # fmt: skip
        if route.tag:
            await self._redis.sadd(keys.subscriber_tags(subscriber), route.tag)
        if route.flow:
            await self._redis.xadd(keys.sms_flows(), {
                "flow": route.flow, "subscriber": subscriber, "inbound_id": sms.inbound_id,
            }, maxlen=keys.SMS_INBOX_MAXLEN, approximate=True)  # fmt: skip
        await self._redis.xadd(keys.sms_inbox(), {
            "provider": self._provider, "id": sms.inbound_id, "subscriber": subscriber,
            "to": sms.to, "text": sms.text, "route": route.kind, "keyword": route.keyword,
            "network": sms.network_code, "date": sms.date,
        }, maxlen=keys.SMS_INBOX_MAXLEN, approximate=True)  # fmt: skip
        if route.reply:
            await self._outbox.send(sms.phone_number, route.reply, category="transactional")
