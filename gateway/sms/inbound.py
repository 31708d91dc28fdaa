"""Handle one inbound SMS: once per aggregator id, route by keyword, act, reply, keep it.

The rule for every callback (docs/architecture.md, "Idempotent callbacks"): an "already seen"
marker becomes final only together with the work it guards. Here the effects run first, each
idempotent on its own (the consent change keyed by the message id, tags as a set, the reply
enqueued under an idempotency key); then one script writes the inbox entry, the survey start
and the marker together. An attempt that fails half-way (a Redis stall) leaves no marker, so
the aggregator's retry runs again and completes what is missing, without doing anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

from gateway import logs
from gateway.channels.base import InboundSms
from gateway.consent import PURPOSES
from gateway.consent.ledger import ConsentLedger
from gateway.errors import SendRefused
from gateway.lifecycle.hook import Activity
from gateway.privacy import Pseudonymizer
from gateway.sms.countries import country_of
from gateway.sms.keywords import KeywordRoutes, Route
from gateway.sms.outbox import Outbox
from gateway.sms.scripts import Scripts
from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.store.streams import min_stream_id

log = logs.get_logger("gateway.sms")


class SurveyReplies(Protocol):
    """The SMS side of surveys (``surveys.sms.SmsSurveys``), as inbound SMS sees it."""

    async def inbound(
        self, msisdn: str, subscriber: str, text: str, stop: bool, event: str
    ) -> bool: ...

    async def keyword(self, survey_id: str, msisdn: str, event: str, language: str) -> None: ...


class InboundHandler:
    """STOP revokes every marketing purpose at once and is confirmed by SMS; START grants them."""

    def __init__(
        self,
        client: StoreClient,
        routes: KeywordRoutes,
        ledger: ConsentLedger,
        outbox: Outbox,
        pseudonym: Pseudonymizer,
        provider: str = "africastalking",
        keep: int = 30 * 86400,
    ) -> None:
        self._redis = client
        self._keep = keep
        """Seconds inbox and survey-start entries are kept."""
        self._scripts = Scripts.register(client)
        self._routes = routes
        self._ledger = ledger
        self._outbox = outbox
        self._pseudonym = pseudonym
        self._provider = provider
        self.activity: Activity | None = None
        """Lifecycle hook (``lifecycle.recorder``): told of every inbound SMS."""
        self.replied: Callable[[str, str], None] | None = None
        """Told (pseudonym, text) of every inbound SMS (ad clicks by keyword)."""
        self.surveys: SurveyReplies | None = None
        """Set by the surveys runtime: replies go to an open survey before keyword routing."""

    async def handle(self, sms: InboundSms) -> Route | None:
        """The route taken, or ``None`` for a message already handled in full."""
        seen = keys.sms_inbound_seen(self._provider, sms.inbound_id)
        if await self._redis.exists(seen):
            return None
        route = self._routes.route(sms.text)  # the routes being served now (live reload)
        subscriber = self._pseudonym(sms.phone_number)
        event = f"sms:{self._provider}:{sms.inbound_id}"
        if self.activity is not None:
            self.activity.record(subscriber, "sms")
        surveys = self.surveys
        if surveys is not None and await surveys.inbound(
            sms.phone_number, subscriber, sms.text, route.kind == "stop", event
        ):
            route = Route("survey")  # an answer to the open survey, not a keyword
        if self.replied is not None and route.kind not in ("stop", "start", "help", "survey"):
            self.replied(subscriber, sms.text)
        await self._act(sms, route, subscriber, event)
        if route.survey and surveys is not None:
            await surveys.keyword(route.survey, sms.phone_number, event, route.language)
        done: Any = await self._scripts.inbound_done(
            keys=[seen, keys.sms_inbox(), keys.sms_flows()],
            args=[keys.SMS_INBOUND_TTL, keys.SMS_INBOX_MAXLEN, route.survey, subscriber,
                  sms.inbound_id, "", min_stream_id(self._keep),
                  *_inbox_fields(self._provider, sms, subscriber, route)],
        )  # fmt: skip
        return route if done else None

    async def _act(self, sms: InboundSms, route: Route, subscriber: str, event: str) -> None:
        """The message's effects; each one is idempotent, so a retry may run them again."""
        if route.kind in ("stop", "start"):
            state: Literal["granted", "revoked"] = "revoked" if route.kind == "stop" else "granted"
            await self._ledger.record(
                subscriber, PURPOSES, state, source=f"keyword:{route.keyword}", channel="sms",
                country=country_of(sms.phone_number).code, event_id=event,
                msisdn=sms.phone_number,
            )  # fmt: skip
        if route.tag:
            await self._redis.sadd(keys.subscriber_tags(subscriber), route.tag)
        if route.reply:
            try:
                await self._outbox.send(
                    sms.phone_number, route.reply, category="transactional", idempotency_key=event
                )
            except SendRefused as exc:  # e.g. a sender we cannot answer: the rest still counts
                log.error("sms_reply_refused", inbound_id=sms.inbound_id, reason=exc.reason)


def _inbox_fields(provider: str, sms: InboundSms, subscriber: str, route: Route) -> list[str]:
    fields = {
        "provider": provider, "id": sms.inbound_id, "subscriber": subscriber, "to": sms.to,
        "text": sms.text, "route": route.kind, "keyword": route.keyword,
        "network": sms.network_code, "date": sms.date,
    }  # fmt: skip
    return [item for pair in fields.items() for item in pair]
