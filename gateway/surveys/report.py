"""A survey's report (``GET /v1/reports/surveys/{id}``, DESIGN §4) and its CSV export.

Read from the respondents' hashes (the survey's index lists them): every disposition with its
count (zeros included), and per question the number of valid answers ``n`` and, by type, the
NPS, CES or CSAT score or the counts per category; scored questions also give the counts per
value (the score distribution). Only valid answers are ever stored, so every stored answer
counts. The export is one row per respondent, keyed by pseudonym: never a phone number (a
number typed into a free-text answer is redacted as in the logs).
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.surveys import answers
from gateway.surveys.model import DISPOSITIONS, Survey

_PHONE = re.compile(r"\+?\d[\d ()-]{7,}\d")
"""Anything shaped like a phone number (9 digits or more, spaces and dashes allowed)."""
TIMES = ("contacted", "started", "completed")
BATCH = 200


async def respondents(client: StoreClient, survey: Survey) -> list[tuple[str, dict[str, str]]]:
    """(pseudonym, hash) of every respondent, in pseudonym order (pipelined in batches)."""
    members: Any = await client.smembers(keys.survey_index(survey.id))
    names = sorted(m.decode() for m in members)
    found: list[tuple[str, dict[str, str]]] = []
    for start in range(0, len(names), BATCH):
        chunk = names[start : start + BATCH]
        pipe = client.pipeline(transaction=False)
        for name in chunk:
            pipe.hgetall(keys.survey_respondent(name, survey.id))
        rows: Any = await pipe.execute()
        for name, raw in zip(chunk, rows, strict=True):
            if raw:
                found.append((name, {k.decode(): v.decode() for k, v in raw.items()}))
    return found


def summary(survey: Survey, rows: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """The JSON report."""
    dispositions = dict.fromkeys(DISPOSITIONS, 0)
    for _, row in rows:
        disposition = row.get("d", "registered")
        dispositions[disposition] = dispositions.get(disposition, 0) + 1
    questions = {}
    for question in survey.questions:
        given = [orjson.loads(row[f"a:{question.id}"]) for _, row in rows
                 if f"a:{question.id}" in row]  # fmt: skip
        entry: dict[str, Any] = {"type": question.type, "n": len(given)}
        if question.scale is not None:
            values = [int(answer[1]) for answer in given]
            low, high = question.scale
            if question.type == "nps":
                entry["nps"], _ = answers.nps(values)
            elif question.type == "ces":
                entry["ces"], _ = answers.ces(values)
            else:
                entry["csat"], _ = answers.csat(values)
            spread = Counter(values)
            entry["values"] = {str(v): spread.get(v, 0) for v in range(low, high + 1)}
        counts = Counter(str(answer[2]) for answer in given)
        if question.type == "multiple":  # each chosen category counts
            counts = Counter(c for answer in given for c in str(answer[2]).split(",") if c)
        entry["counts"] = {c: counts.get(c, 0) for c in answers.categories(question)} | dict(counts)
        questions[question.id] = entry
    return {
        "id": survey.id,
        "respondents": len(rows),
        "completed": dispositions["completed"],
        "dispositions": dispositions,
        "questions": questions,
    }


def csv_rows(
    survey: Survey, rows: list[tuple[str, dict[str, str]]]
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Columns and one row per respondent: pseudonym, disposition, channel, times, and each
    answer's raw value and category."""
    columns = ["respondent", "disposition", "channel", *(f"{t}_at" for t in TIMES), "last_at"]
    for question in survey.questions:
        columns += [question.id, f"{question.id}_category"]
    out = []
    for name, row in rows:
        line = [name, row.get("d", ""), row.get("ch", "")]
        line += [_iso(row.get(f"t:{t}")) for t in TIMES] + [_iso(row.get("last"))]
        for question in survey.questions:
            raw = row.get(f"a:{question.id}")
            answer = orjson.loads(raw) if raw else ["", "", ""]
            line += [_PHONE.sub("<redacted>", str(answer[0])), str(answer[2])]
        out.append(tuple(line))
    return tuple(columns), out


def _iso(seconds: str | None) -> str:
    if not seconds:
        return ""
    moment = datetime.fromtimestamp(float(seconds), UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")
