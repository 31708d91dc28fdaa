"""The survey engine: pure steps, no I/O (the h11 shape, STYLE.md).

A respondent's ``Progress`` (one per (survey, pseudonym), the same on USSD and SMS) says where
they stand; ``begin`` (a new contact, or a redial) and ``answer`` turn it into a ``Turn``: what
to show next and what to record. The callers (``hops.surveys`` for USSD, ``surveys.sms``)
perform the recording (``surveys.store``) and, for a quota question, the reservation
(``Turn.quota``: ``rejected`` instead when the bucket is full).

- A redial resumes at the first unanswered question; answered ones are never asked again.
- An invalid answer is re-asked at most twice (``MAX_REASKS``); the third is a ``breakoff``.
- A respondent with a final disposition is not asked again (``already``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.surveys import answers
from gateway.surveys.answers import Answer
from gateway.surveys.model import END, FINAL, INELIGIBLE, RANK, Survey

MAX_REASKS = 2
INTRO = "_intro"
"""``Progress.question`` while the intro (continue?) waits for its answer."""


@dataclass(slots=True)
class Progress:
    """Where one respondent stands; kept in the USSD session and in the respondent's hash."""

    question: str = ""
    """The question waiting for an answer (``INTRO``; ``""`` when none is)."""
    invalid: int = 0
    """Invalid answers to that question so far."""
    answered: dict[str, str] = field(default_factory=dict)
    """Question id → the category of its answer (skip logic, resuming)."""
    disposition: str = "registered"
    bucket: str = ""
    """The quota bucket the respondent holds a place in (given back unless they complete)."""

    def to_json(self) -> dict[str, Any]:
        return {"q": self.question, "i": self.invalid, "a": self.answered, "d": self.disposition,
                "b": self.bucket}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        return cls(str(data.get("q", "")), int(data.get("i", 0)), dict(data.get("a", {})),
                   str(data.get("d", "registered")), str(data.get("b", "")))  # fmt: skip

    @property
    def final(self) -> bool:
        return self.disposition in FINAL


@dataclass(frozen=True, slots=True)
class Turn:
    """One step's outcome.

    ``show``: ``intro``, ``question`` (``progress.question``, with the invalid note when
    ``invalid``), or a closing text: ``closing`` (completed), ``already``, ``rejected``
    (quota full, ineligible), ``breakoff``, ``refused``. ``end``: nothing more to ask.
    """

    progress: Progress
    show: str
    end: bool = False
    invalid: bool = False
    answer: tuple[str, Answer] | None = None
    """(question id, answer) to record."""
    disposition: str | None = None
    """The disposition reached (to record with its time and channel)."""
    quota: tuple[str, int] | None = None
    """(bucket, its limit): reserve a place first; if full, ``reject`` instead."""
    completed: bool = False
    """Reached ``completed`` on this step (grant the incentive)."""


def begin(survey: Survey, progress: Progress) -> Turn:
    """A contact with the respondent (a dial, a redial, an invitation): what to show."""
    if progress.final:
        return Turn(progress, "already", end=True)
    if (
        progress.question
        and progress.question != INTRO
        and progress.question not in progress.answered
    ):
        return Turn(progress, "question")
    if not progress.answered and survey.intro:
        progress.question = INTRO
        return Turn(progress, "intro", disposition=_contacted(progress))
    return _next(survey, progress, _first_unanswered(survey, progress.answered), None,
                 _contacted(progress))  # fmt: skip


def answer(survey: Survey, progress: Progress, raw: str) -> Turn:
    """Apply one answer to the waiting question (or intro)."""
    if progress.final:
        return Turn(progress, "already", end=True)
    if progress.question == INTRO:
        return _intro(survey, progress, raw)
    question = survey.question(progress.question) if progress.question else None
    if question is None:  # the file changed under the respondent: carry on where possible
        progress.question = ""
        return begin(survey, progress)
    given = answers.parse(question, raw)
    if given is None:
        return _invalid(progress, "question")
    progress.answered[question.id] = given.category
    progress.invalid = 0
    started = "started" if RANK[progress.disposition] < RANK["started"] else None
    target = question.skip.get(given.category, survey.after(question))
    quota = survey.quota_for(question.id)
    limit = quota.buckets.get(given.category) if quota is not None else None
    turn = _next(survey, progress, target, (question.id, given), started)
    if limit is None:
        return turn
    bucket = f"{question.id}:{given.category}"
    return Turn(turn.progress, turn.show, turn.end, False, turn.answer, turn.disposition,
                (bucket, limit), turn.completed)  # fmt: skip


def _intro(survey: Survey, progress: Progress, raw: str) -> Turn:
    yes = answers.yes_no(raw)
    if yes is None:
        return _invalid(progress, "intro")
    progress.invalid = 0
    if not yes:
        progress.question = ""
        return _final(progress, "refused")
    first = _first_unanswered(survey, progress.answered)
    return _next(survey, progress, first, None, _contacted(progress))  # a reply while queued


def reject(progress: Progress, turn: Turn) -> Turn:
    """The quota bucket of ``turn`` was full: the respondent is ``rejected`` (the answer that
    put them in the bucket is still recorded)."""
    progress.question = ""
    progress.disposition = "rejected"
    return Turn(progress, "rejected", True, False, turn.answer, "rejected")


def stop(progress: Progress) -> Turn:
    """STOP during a survey: ``refused`` before any answer, else ``breakoff``."""
    if progress.final:
        return Turn(progress, "already", end=True)
    progress.question = ""
    return _final(progress, "breakoff" if progress.answered else "refused")


def expire(progress: Progress) -> Turn:
    """No reply in time (SMS): ``unresponsive``."""
    if progress.final:
        return Turn(progress, "already", end=True)
    progress.question = ""
    return _final(progress, "unresponsive")


def undeliverable(progress: Progress) -> Turn:
    """The invitation never reached the respondent (failed, rejected, dead): ``failed``."""
    if progress.final:
        return Turn(progress, "already", end=True)
    progress.question = ""
    return _final(progress, "failed")


def _contacted(progress: Progress) -> str | None:
    return "contacted" if RANK[progress.disposition] < RANK["contacted"] else None


def _invalid(progress: Progress, show: str) -> Turn:
    progress.invalid += 1
    if progress.invalid > MAX_REASKS:
        progress.question = ""
        return _final(progress, "breakoff")
    return Turn(progress, show, invalid=True)


def _final(progress: Progress, disposition: str) -> Turn:
    progress.disposition = disposition
    return Turn(progress, disposition, True, False, None, disposition)


def _next(
    survey: Survey,
    progress: Progress,
    target: str,
    given: tuple[str, Answer] | None,
    disposition: str | None,
) -> Turn:
    """Go to ``target`` (a question, ``END`` or ``INELIGIBLE``), skipping answered questions."""
    target = _skip_answered(survey, progress.answered, target)
    if disposition is not None:
        progress.disposition = disposition
    if target in (END, INELIGIBLE):
        progress.question = ""
        final = "completed" if target == END else "ineligible"
        progress.disposition = final
        show = "closing" if target == END else "rejected"
        return Turn(progress, show, True, False, given, final, None, final == "completed")
    progress.question = target
    return Turn(progress, "question", False, False, given, disposition)


def _skip_answered(survey: Survey, answered: dict[str, str], target: str) -> str:
    for _ in range(len(survey.questions) + 1):
        if target in (END, INELIGIBLE) or target not in answered:
            return target
        question = survey.question(target)
        if question is None:
            return END
        target = question.skip.get(answered[target], survey.after(question))
    return END


def _first_unanswered(survey: Survey, answered: dict[str, str]) -> str:
    return _skip_answered(survey, answered, survey.questions[0].id)
