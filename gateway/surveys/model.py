"""A checked survey: questions, skip logic, quotas, texts per language, channel settings.

Built by ``surveys.parse`` from a ``kind: survey`` file; immutable and shared by every
respondent. Texts are plain strings per language (surveys show no variables).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

QuestionType = Literal["single", "multiple", "nps", "ces", "csat", "yes_no", "number", "text"]
QUESTION_TYPES: tuple[QuestionType, ...] = ("single", "multiple", "nps", "ces", "csat", "yes_no",
                                            "number", "text")  # fmt: skip
SCALES: dict[str, tuple[int, int]] = {"nps": (0, 10), "ces": (1, 7), "csat": (1, 5)}
"""The numeric range of each scored question type."""

DISPOSITIONS = ("registered", "queued", "contacted", "started", "completed", "partial",
                "breakoff", "refused", "unresponsive", "rejected", "ineligible",
                "failed")  # fmt: skip
"""Surveda's dispositions, in the order reports list them."""
FINAL = frozenset({"completed", "partial", "breakoff", "refused", "unresponsive", "rejected",
                   "ineligible", "failed"})  # fmt: skip
"""Dispositions a respondent never leaves."""
RANK = {"registered": 0, "queued": 1, "contacted": 2, "started": 3, **dict.fromkeys(FINAL, 9)}
"""A disposition only moves up this rank (the Lua script enforces it too)."""

END = "end"
"""A skip target: the survey is complete."""
INELIGIBLE = "ineligible"
"""A skip target: the respondent is screened out (disposition ``ineligible``)."""

Texts = Mapping[str, str]
"""A text per language."""


def pick(texts: Texts, language: str, default: str) -> str:
    """The text in ``language``, else the default language's, else any."""
    return texts.get(language) or texts.get(default) or next(iter(texts.values()), "")


@dataclass(frozen=True, slots=True)
class Option:
    """One answer of a single or multiple choice question."""

    label: Texts
    category: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    type: QuestionType
    text: Texts
    options: tuple[Option, ...] = ()
    """Choices (single, multiple; yes_no gets Yes/No)."""
    minimum: float | None = None
    maximum: float | None = None
    """Range of a ``number`` (scales have theirs in ``SCALES``)."""
    ranges: tuple[tuple[str, float, float], ...] = ()
    """``number`` categories: (category, low, high), inclusive."""
    skip: Mapping[str, str] = field(default_factory=dict)
    """Answer category → the question to go to next (or ``END``/``INELIGIBLE``)."""
    invalid: Texts = field(default_factory=dict)
    """Shown before the question again after an answer that is not valid."""

    @property
    def scale(self) -> tuple[int, int] | None:
        return SCALES.get(self.type)


@dataclass(frozen=True, slots=True)
class Quota:
    """Respondents per bucket: the category of ``question``'s answer → its maximum."""

    question: str
    buckets: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Channels:
    """Per-channel settings."""

    ussd_paginate: bool = False
    """USSD questions may span several screens (otherwise each must fit one)."""
    sms_paginate: bool = False
    """SMS questions may span several segments (otherwise each must fit one SMS)."""
    sms_expiry: float | None = None
    """Seconds without a reply before an SMS respondent is ``unresponsive`` (None: settings)."""
    sms_reminder: float | None = None
    """Seconds after the last message before the one reminder (None: settings; 0: none)."""


@dataclass(frozen=True, slots=True)
class Survey:
    id: str
    version: str
    path: str
    languages: tuple[str, ...]
    questions: tuple[Question, ...]
    service_codes: tuple[str, ...] = ()
    intro: Texts = field(default_factory=dict)
    """Purpose, FREE, continue? — answered 1/yes to go on, 2/no to refuse."""
    closing: Texts = field(default_factory=dict)
    rejected: Texts = field(default_factory=dict)
    """Shown when the respondent's quota bucket is full (and to the ineligible)."""
    already: Texts = field(default_factory=dict)
    """Shown to a respondent who already finished it (completed or not)."""
    reminder: Texts = field(default_factory=dict)
    incentive: int = 0
    """Points granted once on completion (0: none)."""
    quotas: tuple[Quota, ...] = ()
    channels: Channels = field(default_factory=Channels)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def question(self, question_id: str) -> Question | None:
        for question in self.questions:
            if question.id == question_id:
                return question
        return None

    def after(self, question: Question) -> str:
        """The question that follows ``question`` in order (``END`` after the last)."""
        ids = [q.id for q in self.questions]
        index = ids.index(question.id)
        return ids[index + 1] if index + 1 < len(ids) else END

    def quota_for(self, question_id: str) -> Quota | None:
        return next((q for q in self.quotas if q.question == question_id), None)
