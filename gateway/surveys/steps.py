"""``answer``: the one place a survey answer is applied, over USSD (``hops.surveys``) and SMS
(``surveys.sms``) alike — the engine's step, then the quota place, then the incentive.

Whatever should happen whenever a subscriber answers a survey (lifecycle activity, say) hooks
in here: it sees the survey, the subscriber's pseudonym, the channel and the resulting turn.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway import logs
from gateway.surveys import engine
from gateway.surveys.engine import Progress, Turn
from gateway.surveys.model import Survey

log = logs.get_logger("gateway.surveys")

Reserve = Callable[[str, int], Awaitable[bool]]
"""Take a place in a quota bucket (bucket, limit) → whether the respondent holds one."""
Grant = Callable[[], Awaitable[None]]
"""Grant the survey's incentive to this respondent (idempotent per (survey, respondent))."""
Activity = Callable[[str, str], None]
"""Lifecycle activity (``app[ACTIVITY].record``): told (pseudonym, "survey") of every answer."""


async def answer(
    survey: Survey,
    subscriber: str,
    channel: str,
    progress: Progress,
    raw: str,
    *,
    reserve: Reserve,
    grant: Grant,
    activity: Activity | None = None,
) -> Turn:
    """Apply ``raw`` to the question ``progress`` waits on; the turn to record and show.

    A quota question takes a place in the answer's bucket first (``rejected`` when it is
    full); reaching ``completed`` grants the incentive before anything is recorded, so a grant
    that fails is retried with the answer (a redial, the aggregator's retry)."""
    if activity is not None:
        activity(subscriber, "survey")
    turn = engine.answer(survey, progress, raw)
    if turn.quota is not None:
        bucket, limit = turn.quota
        if await reserve(bucket, limit):
            progress.bucket = bucket
        else:
            turn = engine.reject(progress, turn)
    if turn.completed and survey.incentive:
        await grant()
    log.debug("survey_answer", survey=survey.id, subscriber=subscriber, channel=channel,
              question=turn.answer[0] if turn.answer else "", shown=turn.show,
              disposition=turn.disposition or "")  # fmt: skip
    return turn
