"""Answers: tolerant parsing (``" 8 "``, ``8.``, ``8/10``, an option's number or label, any
case), the category skip logic and quotas branch on, the texts questions are shown with, and
the scores (domain S7: valid answers only, always with ``n``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from gateway.surveys.model import Question, Survey, Texts, pick

MAX_TEXT = 500
"""Longest free-text answer kept (longer ones are cut)."""
_NUMBER = re.compile(r"^([-+]?\d+(?:[.,]\d+)?)(?:\s*/\s*\d+)?$")
_TRAILING = re.compile(r"[\s.!?,;:]+$")

YES_NO: dict[str, tuple[str, str]] = {
    "en": ("Yes", "No"), "sw": ("Ndiyo", "Hapana"), "fr": ("Oui", "Non"), "ha": ("Eh", "A'a"),
    "yo": ("Beeni", "Rara"),
}  # fmt: skip
"""Built-in yes/no labels (yes_no questions and the intro's continue?)."""
_YES = {"yes", "y", "ok", "okay", "sure", "ndiyo", "ndio", "oui", "eh", "beeni", "start", "go"}
_NO = {"no", "n", "nope", "hapana", "la", "non", "a'a", "rara"}


@dataclass(frozen=True, slots=True)
class Answer:
    """A valid answer: what was sent, what it means, and its category."""

    raw: str
    value: Any
    category: str


def clean(raw: str) -> str:
    """Trimmed, lower-case, without trailing punctuation."""
    return _TRAILING.sub("", " ".join(raw.split())).lower()


def parse(question: Question, raw: str) -> Answer | None:
    """The answer ``raw`` gives to ``question``, or ``None`` when it is not a valid one."""
    text = clean(raw)
    if question.type == "text":
        kept = " ".join(raw.split())[:MAX_TEXT]
        return Answer(kept, kept, "text") if kept else None
    if not text:
        return None
    if question.type in ("yes_no", "single", "multiple"):
        return _choice(question, raw.strip(), text)
    return _numeric(question, raw.strip(), text)


def _choice(question: Question, raw: str, text: str) -> Answer | None:
    if question.type == "yes_no":
        yes = yes_no(text)
        return None if yes is None else Answer(raw, yes, "yes" if yes else "no")
    if question.type == "multiple":
        return _multiple(question, raw, text)
    index = _option(question, text)
    return None if index is None else Answer(raw, index + 1, question.options[index].category)


def _numeric(question: Question, raw: str, text: str) -> Answer | None:
    number = _number(text)
    if number is None:
        return None
    scale = question.scale
    if scale is not None:
        if number != int(number) or not scale[0] <= number <= scale[1]:
            return None
        value = int(number)
        return Answer(raw, value, category(question, value))
    if question.minimum is not None and number < question.minimum:
        return None
    if question.maximum is not None and number > question.maximum:
        return None
    value_: int | float = int(number) if number == int(number) else number
    return Answer(raw, value_, category(question, value_))


def yes_no(text: str) -> bool | None:
    """``True`` for yes (``1``, ``yes``, ``ndiyo`` …), ``False`` for no (``2``, ``no`` …)."""
    text = clean(text)
    if text in _YES or text == "1":
        return True
    if text in _NO or text == "2":
        return False
    return None


def category(question: Question, value: float) -> str:
    """The category of a numeric answer (scales have fixed ones; numbers their ``ranges``)."""
    if question.type == "nps":
        return "promoter" if value >= 9 else "passive" if value >= 7 else "detractor"
    if question.type == "ces":
        return "easy" if value >= 5 else "neutral" if value == 4 else "difficult"
    if question.type == "csat":
        return "satisfied" if value >= 4 else "neutral" if value == 3 else "dissatisfied"
    for name, low, high in question.ranges:
        if low <= value <= high:
            return name
    return "other" if question.ranges else "answered"


def categories(question: Question) -> tuple[str, ...]:
    """Every category an answer to ``question`` can have (for the checks and reports)."""
    fixed = {"nps": ("detractor", "passive", "promoter"), "ces": ("difficult", "neutral", "easy"),
             "csat": ("dissatisfied", "neutral", "satisfied"), "yes_no": ("yes", "no"),
             "text": ("text",)}  # fmt: skip
    if question.type in fixed:
        return fixed[question.type]
    if question.type in ("single", "multiple"):
        return tuple(dict.fromkeys(option.category for option in question.options))
    return (
        (*(name for name, _, _ in question.ranges), "other") if question.ranges else ("answered",)
    )


def _number(text: str) -> float | None:
    match = _NUMBER.match(text)
    return float(match.group(1).replace(",", ".")) if match else None


def _option(question: Question, text: str) -> int | None:
    if text.isdigit():
        number = int(text)
        return number - 1 if 1 <= number <= len(question.options) else None
    for index, option in enumerate(question.options):
        if text in {clean(label) for label in option.label.values()} or text == option.category:
            return index
    return None


def _multiple(question: Question, raw: str, text: str) -> Answer | None:
    whole = _option(question, text)
    tokens = (
        [whole]
        if whole is not None
        else [_option(question, token) for token in re.split(r"[\s,;&+]+|\band\b", text) if token]
    )
    if not tokens or any(index is None for index in tokens):
        return None
    chosen = sorted({index for index in tokens if index is not None})
    cats = [question.options[i].category for i in chosen]
    return Answer(raw, [i + 1 for i in chosen], ",".join(dict.fromkeys(cats)))


# --- what is shown ---------------------------------------------------------------------------


def labels(survey: Survey, question: Question, language: str) -> list[str]:
    """The numbered choices shown under a question (none for scales, numbers and text)."""
    if question.type == "yes_no":
        return yes_no_labels(language)
    return [pick(option.label, language, survey.default_language) for option in question.options]


def yes_no_labels(language: str) -> list[str]:
    return list(YES_NO.get(language, YES_NO["en"]))


def numbered(items: Iterable[str]) -> list[str]:
    return [f"{i}. {item}" for i, item in enumerate(items, 1)]


def prompt(survey: Survey, question: Question, language: str, invalid: bool = False) -> str:
    """The question as one text: the ``invalid`` note first after a bad answer, then the
    question, then its numbered choices on their own lines."""
    parts = []
    if invalid:
        parts.append(pick(question.invalid, language, survey.default_language)
                     if question.invalid else invalid_note(language))  # fmt: skip
    parts.append(pick(question.text, language, survey.default_language))
    parts += numbered(labels(survey, question, language))
    return "\n".join(parts)


def intro_prompt(survey: Survey, language: str) -> str:
    intro = pick(survey.intro, language, survey.default_language)
    return "\n".join([intro, *numbered(yes_no_labels(language))])


_INVALID = {"en": "Sorry, that is not a valid answer.", "sw": "Samahani, jibu hilo si sahihi.",
            "fr": "Désolé, cette réponse n'est pas valable."}  # fmt: skip


def invalid_note(language: str) -> str:
    return _INVALID.get(language, _INVALID["en"])


def text_in(texts: Texts, survey: Survey, language: str, fallback: Texts) -> str:
    """A survey text in ``language``, or Jumbe's built-in one when the survey has none."""
    return pick(texts or fallback, language, survey.default_language)


# --- scores ----------------------------------------------------------------------------------


def nps(values: Iterable[int]) -> tuple[float | None, int]:
    """(%promoters − %detractors, n); ``None`` without answers."""
    scores = list(values)
    if not scores:
        return None, 0
    promoters = sum(1 for v in scores if v >= 9)
    detractors = sum(1 for v in scores if v <= 6)
    return round((promoters - detractors) * 100 / len(scores), 1), len(scores)


def ces(values: Iterable[int]) -> tuple[float | None, int]:
    """(mean of the 1–7 answers, n)."""
    scores = list(values)
    return (round(sum(scores) / len(scores), 2), len(scores)) if scores else (None, 0)


def csat(values: Iterable[int]) -> tuple[float | None, int]:
    """(share of 4–5 answers × 100, rounded; n)."""
    scores = list(values)
    if not scores:
        return None, 0
    return round(sum(1 for v in scores if v >= 4) * 100 / len(scores)), len(scores)


# --- closing texts ---------------------------------------------------------------------------

BUILT_IN: dict[str, dict[str, str]] = {
    "closing": {"en": "Thank you for your answers!", "sw": "Asante kwa majibu yako!"},
    "already": {"en": "You have already taken this survey. Thank you!",
                "sw": "Umeshajibu utafiti huu. Asante!"},
    "rejected": {"en": "Thank you. We have all the answers we need for now.",
                 "sw": "Asante. Tumepata majibu yote tunayohitaji kwa sasa."},
    "breakoff": {"en": "Thank you for your time.", "sw": "Asante kwa muda wako."},
    "refused": {"en": "No problem. Thank you.", "sw": "Sawa. Asante."},
    "unresponsive": {"en": "This survey has closed.", "sw": "Utafiti huu umefungwa."},
    "unavailable": {"en": "Sorry, this survey is not available right now. Please try later.",
                    "sw": "Samahani, utafiti huu haupatikani sasa. Tafadhali jaribu baadaye."},
    "reminder": {"en": "Reminder: we would love your answer.",
                 "sw": "Kumbusho: tungependa jibu lako."},
}  # fmt: skip
"""Jumbe's texts where a survey gives none (``closing``, ``already``, ``rejected``,
``reminder`` can be written in the file)."""


def closing(survey: Survey | None, show: str, language: str) -> str:
    """The text that ends a survey for ``show`` (a ``Turn.show`` other than a question)."""
    own: Texts = {}
    if survey is not None:
        own = {"closing": survey.closing, "already": survey.already,
               "rejected": survey.rejected, "reminder": survey.reminder}.get(show, {})  # fmt: skip
    default = survey.default_language if survey is not None else "en"
    return pick(own or BUILT_IN.get(show, BUILT_IN["breakoff"]), language, default)
