"""Surveys over SMS: invitations, replies, the one reminder and the expiry.

- ``invite`` (``POST /v1/surveys/{id}/invite``) checks the ``surveys`` consent per number and
  sends the intro (or first question) through the outbox as a promotional message, so it
  waits out quiet hours; the survey is open from the invitation on: a reply is matched to it
  even while the invitation is still queued.
- ``start`` (a keyword's ``survey:``) is the subscriber asking: no consent needed, the first
  message is a reply.
- ``inbound`` sees every inbound SMS before keyword routing: a reply to the open survey is its
  answer (parsed tolerantly, ``surveys.answers``), answered by the next question or the closing
  text as a transactional reply (conversation, never held); STOP records ``refused`` (nothing
  answered yet) or ``breakoff`` and lets the keyword path opt the subscriber out.
- ``tick`` (every ``survey.tick`` seconds, any number of processes) sends the one reminder (never
  in quiet hours; dropped if quiet hours last past the expiry) and expires respondents who did
  not reply within the expiry (``unresponsive``, nothing sent).

Every step goes through ``answer_step``/``record``: one place where a survey answer is applied
(the lifecycle work hooks there). ``clock`` is replaceable: tests move time by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from gateway import logs, metrics
from gateway.config import SurveySettings
from gateway.consent.ledger import ConsentLedger
from gateway.errors import SendRefused
from gateway.feed.events import EventFeed, stable_event_id
from gateway.incentives import IncentiveSink
from gateway.privacy import Pseudonymizer
from gateway.sms import quiet
from gateway.sms.countries import country_of
from gateway.sms.outbox import Category, Outbox
from gateway.store import keys
from gateway.store.lease import Leases
from gateway.surveys import answers, engine, steps
from gateway.surveys.catalog import SurveyCatalog
from gateway.surveys.engine import INTRO, Progress, Turn
from gateway.surveys.model import Survey
from gateway.surveys.store import SurveyStore, progress_of, recording
from gateway.turns import Turns

log = logs.get_logger("gateway.surveys")
CHANNEL = "sms"
NOT_STARTED = frozenset({"registered", "queued", "contacted"})
"""Dispositions before any answer: an undeliverable invitation makes them ``failed``."""
UNDELIVERED = frozenset({"failed", "rejected", "dead", "refused"})
"""Outbox statuses of an invitation that never reached the phone."""


@dataclass(frozen=True, slots=True)
class Refusal:
    msisdn: str
    reason: str


class SmsSurveys:
    """The SMS side of surveys (one per app; ``app[SURVEY_SMS]``)."""

    def __init__(
        self,
        store: SurveyStore,
        catalog: Callable[[], SurveyCatalog],
        outbox: Outbox,
        ledger: ConsentLedger,
        pseudonym: Pseudonymizer,
        incentives: Callable[[], IncentiveSink],
        settings: SurveySettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._catalog = catalog
        self._outbox = outbox
        self._ledger = ledger
        self._pseudonym = pseudonym
        self._incentives = incentives
        self.settings = settings or SurveySettings()
        self.clock = clock
        self._locks = Turns()
        """A subscriber's replies are applied one at a time in a process (each reads the progress
        the one before it recorded)."""
        self._leases = Leases(store.redis)
        self.feed: EventFeed | None = None
        """Where completions are published (``app[FEED]``), if anywhere."""
        self.activity: steps.Activity | None = None
        """Lifecycle activity (``app[ACTIVITY].record``), if the ads engine runs."""

    def survey(self, survey_id: str) -> Survey | None:
        return self._catalog().get(survey_id)

    # --- opening a survey ------------------------------------------------------------------

    async def invite(self, survey: Survey, msisdn: str) -> Refusal | None:
        """Invite one number (consent ``surveys`` checked); ``None`` when invited."""
        return await self._open(survey, msisdn, "promotional", f"survey:{survey.id}:invite")

    async def start(
        self, survey: Survey, msisdn: str, event: str, language: str = ""
    ) -> Refusal | None:
        """The subscriber asked for the survey (a keyword): no consent needed, a reply."""
        return await self._open(survey, msisdn, "transactional", event, language)

    async def _open(
        self, survey: Survey, msisdn: str, category: Category, key: str, language: str = ""
    ) -> Refusal | None:
        subscriber = self._pseudonym(msisdn)
        if category == "promotional":
            refusal = await self._ledger.refusal(subscriber, "surveys")
            if refusal is not None:
                return Refusal(msisdn, refusal)
        other = await self.store.open_survey(subscriber)
        if other is not None and other != survey.id:
            return Refusal(msisdn, f"survey {other!r} is open for this number")
        stored = await self.store.respondent(survey.id, subscriber)
        progress = progress_of(stored)
        if progress.final:
            return Refusal(msisdn, f"already {progress.disposition}")
        if other == survey.id and stored.get("ch") == CHANNEL:
            return Refusal(msisdn, "already invited")
        now = self.clock()
        turn = engine.begin(survey, progress)
        if language not in survey.languages:
            language = stored.get("lang") or survey.default_language
        try:
            message = await self._send(msisdn, survey, turn, language, category,
                                       f"{key}:{subscriber}", now)  # fmt: skip
        except SendRefused as exc:
            return Refusal(msisdn, exc.reason)
        record = await self._outbox.get(message) or {}
        sent_at = int(record.get("due", now * 1000)) / 1000
        due = self._next_check(survey, msisdn, sent_at, reminded=False)
        if sent_at > now + 1 and turn.disposition == "contacted":  # held for quiet hours
            turn.progress.disposition = "queued"
            turn, due = replace(turn, disposition="queued"), sent_at  # contacted once it goes
        await self.record(survey, subscriber, turn, language, now, open_action="set",
                          extra={"inv": message, "sent": f"{sent_at:.3f}"}, due=due)  # fmt: skip
        return None

    # --- replies ---------------------------------------------------------------------------

    async def inbound(
        self, msisdn: str, subscriber: str, text: str, stop: bool, event: str
    ) -> bool:
        """An inbound SMS, before keyword routing: ``True`` when it was an answer to the open
        survey (nothing else should act on it). A STOP closes the survey and returns ``False``
        so the keyword path still opts the subscriber out and confirms it."""
        survey_id = await self.store.open_survey(subscriber)
        survey = self.survey(survey_id) if survey_id else None
        if survey is None:
            return False
        # Two quick replies: one after the other, in this process (lock) and across processes
        # (lease: AT may post them to two workers).
        async with (
            self._locks.hold(subscriber),
            self._leases.hold(keys.survey_reply_lease(subscriber)),
        ):
            return await self._reply(survey, msisdn, subscriber, text, stop, event)

    async def _reply(
        self, survey: Survey, msisdn: str, subscriber: str, text: str, stop: bool, event: str
    ) -> bool:
        stored = await self.store.respondent(survey.id, subscriber)
        if stored.get("in") == event:
            return not stop  # a retried message already applied: its reply was enqueued
        progress = progress_of(stored)
        language = stored.get("lang") or survey.default_language
        now = self.clock()
        if stop:
            await self.record(survey, subscriber, engine.stop(progress), language, now,
                              open_action="clear", extra={"in": event})  # fmt: skip
            return False
        turn = await self.answer_step(survey, subscriber, progress, text)
        if not turn.end or turn.show != "already":
            await self._send(msisdn, survey, turn, language, "transactional", event, now)
        reminded = stored.get("rem", "") != ""
        due = None if turn.end else self._next_check(survey, msisdn, now, reminded)
        await self.record(survey, subscriber, turn, language, now,
                          open_action="clear" if turn.end else "",
                          extra={"in": event, "sent": f"{now:.3f}"}, due=due)  # fmt: skip
        if turn.completed and self.feed is not None:
            await self.feed.publish_quietly(
                "survey.completed", subscriber, msisdn, {"survey": survey.id, "channel": "sms"},
                stable_event_id("survey.completed", survey.id, subscriber),
            )  # fmt: skip
        return True

    async def answer_step(
        self, survey: Survey, subscriber: str, progress: Progress, raw: str
    ) -> Turn:
        """Apply one SMS answer (``steps.answer``: the step, the quota place, the incentive)."""

        async def reserve(bucket: str, limit: int) -> bool:
            return await self.store.reserve(survey.id, subscriber, bucket, limit)

        async def grant() -> None:
            await self._incentives().grant(subscriber, survey.incentive, f"survey:{survey.id}",
                                           subscriber)  # fmt: skip

        return await steps.answer(survey, subscriber, CHANNEL, progress, raw, reserve=reserve,
                                  grant=grant, activity=self.activity)  # fmt: skip

    async def record(
        self, survey: Survey, subscriber: str, turn: Turn, language: str, now: float, *,
        open_action: str = "", extra: dict[str, str] | None = None, due: float | None = None,
    ) -> None:  # fmt: skip
        """Record one step of an SMS respondent (and when to look at them again)."""
        fields = dict(extra or {})
        if due is not None:
            fields["due"] = f"{due:.3f}"
        rides = recording(survey.id, subscriber, turn, channel=CHANNEL, language=language,
                          now=now, open_action=open_action, open_ttl=self.expiry(survey),
                          extra=fields)  # fmt: skip
        await self.store.apply(rides)
        member = f"{survey.id}|{subscriber}"
        if due is not None:
            await self.store.redis.zadd(keys.survey_due(), {member: int(due * 1000)})
        elif turn.end:
            await self.store.redis.zrem(keys.survey_due(), member)
        if turn.disposition:
            metrics.count_survey(survey.id, CHANNEL, turn.disposition)

    # --- reminders and expiry --------------------------------------------------------------
    # A respondent is looked at again at the reminder's time and at the expiry: an invitation
    # that could not be delivered makes them ``failed`` then (no reminder is sent).

    def expiry(self, survey: Survey) -> float:
        return survey.channels.sms_expiry or self.settings.expiry_hours * 3600

    def reminder_after(self, survey: Survey) -> float:
        if survey.channels.sms_reminder is not None:
            return survey.channels.sms_reminder
        return self.settings.reminder_hours * 3600

    def _next_check(self, survey: Survey, msisdn: str, sent_at: float, reminded: bool) -> float:
        """The reminder's time (outside quiet hours, before the expiry), else the expiry."""
        expires = sent_at + self.expiry(survey)
        after = self.reminder_after(survey)
        if reminded or after <= 0:
            return expires
        remind = quiet.next_allowed(country_of(msisdn), sent_at + after)
        return remind if remind < expires else expires

    async def tick(self, limit: int = keys.SURVEY_DUE_BATCH) -> int:
        """Handle the respondents due now (reminder or expiry); how many were handled. A member
        is handled by whichever process removes it from the due set first."""
        now = self.clock()
        redis = self.store.redis
        due: Any = await redis.zrangebyscore(keys.survey_due(), 0, int(now * 1000), 0, limit)
        handled = 0
        for raw in due:
            member = raw.decode()
            if not await redis.zrem(keys.survey_due(), member):
                continue  # another process took it
            survey_id, _, subscriber = member.partition("|")
            survey = self.survey(survey_id)
            if survey is not None:
                await self._look_again(survey, subscriber, now)
                handled += 1
        return handled

    async def _look_again(self, survey: Survey, subscriber: str, now: float) -> None:
        stored = await self.store.respondent(survey.id, subscriber)
        progress = progress_of(stored)
        if progress.final or not stored:
            return
        language = stored.get("lang") or survey.default_language
        sent = float(stored.get("sent") or stored.get("last") or now)
        if progress.disposition in NOT_STARTED and await self._undelivered(stored):
            await self.record(survey, subscriber, engine.undeliverable(progress), language, now,
                              open_action="clear")  # fmt: skip
            return
        if progress.disposition == "queued":  # the invitation's time has come: it went out
            progress.disposition = "contacted"
            number = await self._number(stored)
            due = (self._next_check(survey, number, sent, reminded=False) if number
                   else sent + self.expiry(survey))  # fmt: skip
            went = Turn(progress, "question", disposition="contacted")
            await self.record(survey, subscriber, went, language, now, due=due)
            return
        if now >= sent + self.expiry(survey):
            await self.record(survey, subscriber, engine.expire(progress), language, now,
                              open_action="clear")  # fmt: skip
            return
        msisdn = await self._number(stored)
        if msisdn is None or stored.get("rem"):
            await self.record(survey, subscriber, Turn(progress, "question"), language, now,
                              due=sent + self.expiry(survey))  # fmt: skip
            return
        if not quiet.allowed(country_of(msisdn), now):  # a late tick: wait for the morning
            morning = quiet.next_allowed(country_of(msisdn), now)
            expires = sent + self.expiry(survey)
            await self.record(survey, subscriber, Turn(progress, "question"), language, now,
                              extra={} if morning < expires else {"rem": "dropped: quiet hours"},
                              due=min(morning, expires))  # fmt: skip
            return
        reminder = answers.closing(survey, "reminder", language)
        waiting = Turn(progress, "intro" if progress.question == INTRO else "question")
        body = f"{reminder}\n{self._text(survey, waiting, language)}"
        try:
            await self._outbox.send(msisdn, body, category="promotional", purpose="surveys",
                                    send_at=now, idempotency_key=f"survey:{survey.id}:remind:"
                                    f"{subscriber}")  # fmt: skip
        except SendRefused as exc:  # consent revoked since: no reminder, the expiry still runs
            log.info("survey_reminder_refused", survey=survey.id, subscriber=subscriber,
                     reason=exc.reason)  # fmt: skip
        await self.record(survey, subscriber, Turn(progress, "question"), language, now,
                          extra={"rem": f"{now:.3f}"}, due=sent + self.expiry(survey))  # fmt: skip

    async def _undelivered(self, stored: dict[str, str]) -> bool:
        """Whether the invitation ended without reaching the phone (its delivery report said
        failed or rejected, or it was dead-lettered or refused at send time)."""
        record = await self._outbox.get(stored["inv"]) if stored.get("inv") else None
        return record is not None and record.get("status", "") in UNDELIVERED

    async def _number(self, stored: dict[str, str]) -> str | None:
        """The respondent's number, from their invitation's outbox record (the only place a
        number is kept; it lives 30 days after the message's final status)."""
        record = await self._outbox.get(stored["inv"]) if stored.get("inv") else None
        return record.get("to") if record else None

    # --- sending ---------------------------------------------------------------------------

    async def _send(
        self, msisdn: str, survey: Survey, turn: Turn, language: str, category: Category,
        key: str, now: float,
    ) -> str:  # fmt: skip
        text = self._text(survey, turn, language)
        send_at = now if category == "promotional" else None  # a reply goes at once
        return await self._outbox.send(msisdn, text, category=category, purpose="surveys",
                                       send_at=send_at, idempotency_key=key)  # fmt: skip

    @staticmethod
    def _text(survey: Survey, turn: Turn, language: str) -> str:
        if turn.show == "intro":
            text = answers.intro_prompt(survey, language)
            return f"{answers.invalid_note(language)}\n{text}" if turn.invalid else text
        if turn.show == "question":
            question = survey.question(turn.progress.question)
            assert question is not None
            return answers.prompt(survey, question, language, turn.invalid)
        return answers.closing(survey, turn.show, language)

    async def keyword(self, survey_id: str, msisdn: str, event: str, language: str = "") -> None:
        """A keyword's ``survey:`` (the demo's SURVEY): start that survey for the sender, in
        the language of the word they texted when the survey has it."""
        survey = self.survey(survey_id)
        if survey is None:
            log.warning("survey_keyword_unknown", survey=survey_id)
            return
        refused = await self.start(survey, msisdn, event, language)
        if refused is not None:
            log.info("survey_keyword_refused", survey=survey_id,
                     subscriber=self._pseudonym(msisdn), reason=refused.reason)  # fmt: skip
