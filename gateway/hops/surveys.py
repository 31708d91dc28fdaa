"""Performing ``SurveyStep`` (the ``survey`` screen's effect) for the hop pipeline.

Arriving at a survey reads the respondent (one round trip, like the start of a menu that
remembers subscribers); an answer is decided in-process by the pure engine and needs Redis only
for a quota question (the reservation) or a completion with an incentive (the grant, before the
reply, so a failed grant is retried by the respondent's redial). What a step records comes back
as ``Ride``s that the screen puts on the session, sent with its compare-and-set.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from gateway import logs, metrics
from gateway.errors import StoreError
from gateway.feed.events import EventFeed, stable_event_id
from gateway.hops.effects import HopContext
from gateway.incentives import IncentiveSink
from gateway.menu.effects import EffectResult
from gateway.menu.screens.survey import SurveyStep
from gateway.store import keys
from gateway.store.pipelined import HopClient
from gateway.surveys import answers, engine, steps
from gateway.surveys.catalog import SurveyCatalog
from gateway.surveys.engine import Progress, Turn
from gateway.surveys.model import Survey, pick
from gateway.surveys.store import QUOTA, progress_of, recording

log = logs.get_logger("gateway.surveys")


class SurveySteps:
    """The handler of ``SurveyStep``: ``await steps(effect, hop, budget)``."""

    def __init__(
        self,
        catalog: Callable[[], SurveyCatalog],
        client: HopClient,
        incentives: Callable[[], IncentiveSink],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._catalog = catalog
        self._redis = client
        self._incentives = incentives
        self._clock = clock
        self.feed: EventFeed | None = None
        """Where completions are published (``app[FEED]``), if anywhere."""
        self.activity: steps.Activity | None = None
        """Lifecycle activity (``app[ACTIVITY].record``), if the ads engine runs."""

    async def __call__(self, step: SurveyStep, hop: HopContext, budget: float) -> EffectResult:
        survey = self._catalog().get(step.survey)
        if survey is None:
            return EffectResult(False, error=f"no survey {step.survey!r} is loaded")
        try:
            return await self._step(survey, step, hop)
        except StoreError as exc:  # the subscriber gets the survey's "try later" END
            log.warning("survey_step_failed", survey=survey.id, error=str(exc))
            return EffectResult(False, error=f"store unavailable: {exc}")

    async def _step(self, survey: Survey, step: SurveyStep, hop: HopContext) -> EffectResult:
        pseudonym = hop.subscriber
        key = keys.survey_respondent(pseudonym, survey.id)
        trips = 0
        if step.raw is None:  # the respondent and the subscriber's language, in one round trip
            stored, remembered = await asyncio.gather(
                self._redis.execute(b"HGETALL", key),
                self._redis.execute(b"HGET", keys.subscriber(pseudonym), b"lang"),
            )
            trips += 1
            progress = _progress(stored)
            language = choose_language(survey, step.language, _field(stored, b"lang"),
                                       _text(remembered))  # fmt: skip
            step = replace(step, language=language)  # what the survey speaks from now on
            turn = engine.begin(survey, progress)
        else:
            progress = Progress.from_json(dict(step.progress or {}))

            async def reserve(bucket: str, limit: int) -> bool:
                nonlocal trips
                trips += 1
                quota = keys.survey_quota(survey.id, bucket)
                return bool(await self._redis.run_script(QUOTA, [quota], [pseudonym, limit]))

            async def grant() -> None:
                nonlocal trips
                trips += 1  # the sink's call, counted as one
                await self.grant(survey, pseudonym)

            turn = await steps.answer(survey, pseudonym, "ussd", progress, step.raw,
                                      reserve=reserve, grant=grant,
                                      activity=self.activity)  # fmt: skip
        if turn.completed and self.feed is not None:
            await self.feed.publish_quietly(
                "survey.completed", pseudonym, hop.msisdn, {"survey": survey.id, "channel": "ussd"},
                stable_event_id("survey.completed", survey.id, pseudonym),
            )  # fmt: skip
        rides = recording(survey.id, pseudonym, turn, channel="ussd", language=step.language,
                          now=self._clock())  # fmt: skip
        if turn.disposition:
            metrics.count_survey(survey.id, "ussd", turn.disposition)
        return EffectResult(True, shown(survey, turn, step.language, rides), round_trips=trips)

    async def grant(self, survey: Survey, pseudonym: str) -> None:
        """The completion's incentive, once per (survey, respondent) (``app[INCENTIVES]``)."""
        await self._incentives().grant(pseudonym, survey.incentive, f"survey:{survey.id}",
                                       pseudonym)  # fmt: skip


def shown(survey: Survey, turn: Turn, language: str, rides: list[Any]) -> dict[str, Any]:
    """What the survey screen shows after ``turn`` (its ``resume`` reads this)."""
    if turn.show == "intro":
        text = pick(survey.intro, language, survey.default_language)
        options = answers.yes_no_labels(language)
    elif turn.show == "question":
        question = survey.question(turn.progress.question)
        assert question is not None
        text = pick(question.text, language, survey.default_language)
        if turn.invalid:
            note = (
                pick(question.invalid, language, survey.default_language)
                if question.invalid
                else answers.invalid_note(language)
            )
            text = f"{note}\n{text}"
        options = answers.labels(survey, question, language)
    else:
        text, options = answers.closing(survey, turn.show, language), []
    if turn.show == "intro" and turn.invalid:
        text = f"{answers.invalid_note(language)}\n{text}"
    return {"progress": turn.progress.to_json(), "text": text, "options": options,
            "language": language,
            "end": turn.end, "completed": turn.completed, "rides": rides}  # fmt: skip


def _progress(stored: Any) -> Progress:
    if not stored:
        return Progress()
    if isinstance(stored, list):  # RESP2 HGETALL on the pipelined client: a flat list
        stored = dict(zip(stored[::2], stored[1::2], strict=True))
    return progress_of(stored)


def choose_language(survey: Survey, asked: str, *remembered: str) -> str:
    """The survey's language for this respondent: the session's when the subscriber chose one
    (not the default), else what they used before (the respondent's, the subscriber's
    remembered language), else the session's or the survey's default."""
    if asked in survey.languages and asked != survey.default_language:
        return asked
    for language in remembered:
        if language in survey.languages:
            return language
    return asked if asked in survey.languages else survey.default_language


def _field(stored: Any, name: bytes) -> str:
    if isinstance(stored, list):
        stored = dict(zip(stored[::2], stored[1::2], strict=True))
    return _text((stored or {}).get(name))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else ""
