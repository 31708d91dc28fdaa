"""Respondents in Redis: what a step records, as data both the hop path and the SMS side send.

A ``Recording`` is one call of ``survey_record.lua`` (the respondent and their open SMS survey,
one slot) plus the survey-wide writes it implies: the respondent joins the survey's index on
first contact, and a quota place is given back when its holder ends without completing. On the
hop path these ride with the session's compare-and-set (``SessionState.rides``); the SMS side
sends them with redis-py (``apply``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.store import keys, lua
from gateway.store.client import StoreClient
from gateway.surveys.answers import Answer
from gateway.surveys.engine import Progress, Turn

RECORD = lua.source("survey_record")
QUOTA = lua.source("survey_quota")
GIVES_BACK = frozenset({"breakoff", "refused", "unresponsive", "rejected", "ineligible", "failed"})
"""Final dispositions whose quota place goes back to the bucket (not completed)."""
OPEN_MARGIN = 24 * 3600
"""The open-survey pointer outlives the survey's expiry by a day (the expiry check clears it)."""


@dataclass(frozen=True, slots=True)
class Ride:
    """One Redis command that rides with another round trip: a script (``source``) or, when
    ``source`` is empty, a plain command (``args``)."""

    source: str
    keys: list[str]
    args: list[Any]


def progress_of(stored: dict[bytes, bytes] | dict[str, str] | None) -> Progress:
    """A respondent's ``Progress`` from their hash (empty: a new respondent)."""
    if not stored:
        return Progress()
    data = {(k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes)
            else v) for k, v in stored.items()}  # fmt: skip
    progress = Progress.from_json(orjson.loads(data["p"])) if "p" in data else Progress()
    progress.disposition = data.get("d", progress.disposition)
    return progress


def recording(
    survey_id: str, pseudonym: str, turn: Turn, *, channel: str, language: str,
    now: float | None = None, open_action: str = "", open_ttl: float = 0,
    extra: dict[str, str] | None = None,
) -> list[Ride]:  # fmt: skip
    """The writes of one step: the respondent script, the index on first contact, a quota
    place given back when the respondent ends without completing."""
    moment = f"{time.time() if now is None else now:.3f}"
    question, answer = turn.answer if turn.answer else ("", None)
    fields = dict(extra or {})
    args: list[Any] = [
        moment, channel, orjson.dumps(turn.progress.to_json()), turn.disposition or "", question,
        _answer_json(answer, moment), language, open_action, survey_id,
        int(open_ttl + OPEN_MARGIN), *[item for pair in fields.items() for item in pair],
    ]  # fmt: skip
    if turn.disposition in GIVES_BACK and turn.progress.bucket:
        rides_after = [release(survey_id, pseudonym, turn.progress.bucket)]
    else:
        rides_after = []
    rides = [Ride(RECORD, [keys.survey_respondent(pseudonym, survey_id),
                           keys.survey_open(pseudonym)], args)]  # fmt: skip
    if turn.disposition in ("contacted", "queued", "registered") or turn.answer:
        rides.append(Ride("", [], ["SADD", keys.survey_index(survey_id), pseudonym]))
    return rides + rides_after


def release(survey_id: str, pseudonym: str, bucket: str) -> Ride:
    """Give a quota place back (its holder ended without completing)."""
    return Ride("", [], ["SREM", keys.survey_quota(survey_id, bucket), pseudonym])


def _answer_json(answer: Answer | None, moment: str) -> bytes:
    if answer is None:
        return b""
    return orjson.dumps([answer.raw, answer.value, answer.category, float(moment)])


class SurveyStore:
    """The survey writes and reads off the hop path (SMS, the API, reports), over redis-py."""

    def __init__(self, client: StoreClient) -> None:
        self.redis = client
        self._record = client.register_script(RECORD)
        self._quota = client.register_script(QUOTA)

    async def respondent(self, survey_id: str, pseudonym: str) -> dict[str, str]:
        raw: Any = await self.redis.hgetall(keys.survey_respondent(pseudonym, survey_id))
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def apply(self, rides: list[Ride]) -> str:
        """Send ``rides`` in order; the respondent's disposition after the script."""
        disposition = ""
        for ride in rides:
            if ride.source == RECORD:
                result: Any = await self._record(keys=ride.keys, args=ride.args)
                disposition = result[1].decode() if result[1] else ""
            else:
                await self.redis.execute_command(*ride.args)
        return disposition

    async def reserve(self, survey_id: str, pseudonym: str, bucket: str, limit: int) -> bool:
        """Take a place in a quota bucket (idempotent per respondent); ``False`` when full."""
        taken: Any = await self._quota(keys=[keys.survey_quota(survey_id, bucket)],
                                       args=[pseudonym, limit])  # fmt: skip
        return bool(taken)

    async def open_survey(self, pseudonym: str) -> str | None:
        raw: Any = await self.redis.get(keys.survey_open(pseudonym))
        return raw.decode() if raw else None

    async def respondents(self, survey_id: str) -> list[str]:
        members: Any = await self.redis.smembers(keys.survey_index(survey_id))
        return sorted(m.decode() for m in members)
