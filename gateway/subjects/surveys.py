"""Surveys: a subscriber's answers and disposition per survey, the SMS survey open for their
replies, and their places in survey indexes, quotas and the reminder/expiry schedule. All
removed by an erasure (the survey's report then counts one respondent fewer); an incentive the
survey granted stays in the ledger."""

from __future__ import annotations

from typing import Any

import orjson

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.subjects.base import Subject, matching_keys


class SurveysHolder:
    name = "surveys"
    families: tuple[str, ...] = (
        "survey_respondent", "survey_open", "survey_index", "survey_quota", "survey_due",
    )  # fmt: skip

    async def _respondents(self, client: StoreClient, subject: Subject) -> dict[str, Any]:
        found = {}
        async for key in matching_keys(client, keys.survey_respondent(subject.pseudonym, "*")):
            record: Any = await client.hgetall(key)
            if record:
                survey_id = key.decode().rsplit(":", 1)[1]
                found[survey_id] = {k.decode(): v.decode() for k, v in record.items()}
        return found

    async def export(self, client: StoreClient, subject: Subject) -> Any:
        respondents = await self._respondents(client, subject)
        for record in respondents.values():
            for field, value in list(record.items()):
                if field.startswith("a:") or field == "p":
                    record[field] = orjson.loads(value)
        current: Any = await client.get(keys.survey_open(subject.pseudonym))
        return {
            "respondent_of": respondents,
            "open_sms_survey": current.decode() if current else None,
        }

    async def erase(self, client: StoreClient, subject: Subject) -> int:
        p = subject.pseudonym
        removed = 0
        for survey_id in await self._respondents(client, subject):
            removed += int(await client.delete(keys.survey_respondent(p, survey_id)))
            removed += int(await client.srem(keys.survey_index(survey_id), p))
            removed += int(await client.zrem(keys.survey_due(), f"{survey_id}|{p}"))
            async for quota in matching_keys(client, keys.survey_quota(survey_id, "*")):
                removed += int(await client.srem(quota, p))
        removed += int(await client.delete(keys.survey_open(p)))
        return removed
