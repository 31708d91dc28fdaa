"""Answers read tolerantly, categories, and the engine's skip logic (pure: no Redis needed)."""

from __future__ import annotations

import pytest

from gateway.surveys import answers, engine
from gateway.surveys.engine import Progress
from gateway.surveys.model import Option, Question, Survey

NPS = Question("score", "nps", {"en": "0-10?"}, skip={"detractor": "why", "promoter": "end"})
WHY = Question("why", "text", {"en": "Why?"})
AGES = (("minor", 0.0, 17.0), ("adult", 18.0, 120.0))
AGE = Question("age", "number", {"en": "Age?"}, minimum=0, maximum=120, ranges=AGES,
               skip={"minor": "ineligible"})  # fmt: skip
TEA, COFFEE = Option({"en": "Tea", "sw": "Chai"}, "tea"), Option({"en": "Coffee"}, "coffee")
DRINK = Question("drink", "single", {"en": "Drink?", "sw": "Kinywaji?"}, (TEA, COFFEE))
SNACKS = Question("snacks", "multiple", {"en": "Snacks?"},
                  (Option({"en": "Nuts"}, "nuts"), Option({"en": "Fruit"}, "fruit"),
                   Option({"en": "Cake"}, "cake")))  # fmt: skip
YES = Question("ok", "yes_no", {"en": "OK?"})


@pytest.mark.parametrize("raw", [" 8 ", "8.", "8/10", "8,0", "8 / 10", "8!"])
def test_a_score_is_read_tolerantly(raw: str) -> None:
    """Spaces, a trailing dot, "out of 10" and a decimal comma all read as 8 (passive)."""
    answer = answers.parse(NPS, raw)
    assert answer is not None and (answer.value, answer.category) == (8, "passive")


@pytest.mark.parametrize("raw", ["11", "-1", "7.5", "eight", "", "8 9"])
def test_out_of_range_or_unreadable_scores_are_invalid(raw: str) -> None:
    assert answers.parse(NPS, raw) is None


def test_an_option_by_number_or_label_in_any_case_or_language() -> None:
    """ "2", "COFFEE", "chai" (Swahili label) and the category name all pick an option."""
    picked = [answers.parse(DRINK, raw) for raw in ("2", "COFFEE", " chai ", "tea")]
    assert [(a.value, a.category) for a in picked if a] == [
        (2, "coffee"), (2, "coffee"), (1, "tea"), (1, "tea")
    ]  # fmt: skip
    assert answers.parse(DRINK, "3") is None and answers.parse(DRINK, "juice") is None


def test_multiple_choice_and_yes_no() -> None:
    """ "1,3", "1 3" and "nuts and cake" choose two; yes/no take words in several languages."""
    for raw in ("1,3", "1 3", "nuts and cake", "3, 1"):
        answer = answers.parse(SNACKS, raw)
        assert answer is not None and (answer.value, answer.category) == ([1, 3], "nuts,cake")
    assert answers.parse(SNACKS, "1,4") is None
    said = [answers.parse(YES, word) for word in ("YES", "ndiyo", "1", "No.", "hapana")]
    assert [a.category if a else None for a in said] == ["yes", "yes", "yes", "no", "no"]


def test_skip_logic_follows_the_answer_category() -> None:
    """A promoter skips to the end (completed); a detractor is asked why; a passive goes on in
    order; a minor is screened out (ineligible)."""
    survey = Survey("s", "v", "s.yaml", ("en",), (NPS, WHY, AGE))
    promoter = engine.answer(survey, Progress("score"), "10")
    assert (promoter.show, promoter.disposition, promoter.completed) == (
        "closing",
        "completed",
        True,
    )
    detractor = engine.answer(survey, Progress("score"), "3")
    assert (detractor.show, detractor.progress.question) == ("question", "why")
    passive = engine.answer(survey, Progress("score"), "7")
    assert passive.progress.question == "why"
    minor = engine.answer(survey, Progress("age", answered={"score": "passive", "why": "text"}),
                          "15")  # fmt: skip
    assert (minor.show, minor.disposition) == ("rejected", "ineligible")


def test_a_resumed_respondent_is_never_asked_an_answered_question() -> None:
    """begin() on a respondent who answered the first two questions asks the third."""
    survey = Survey("s", "v", "s.yaml", ("en",), (NPS, WHY, AGE))
    progress = Progress("", 0, {"score": "detractor", "why": "text"}, "started")
    turn = engine.begin(survey, progress)
    assert (turn.show, turn.progress.question) == ("question", "age")


def test_three_invalid_answers_are_a_breakoff() -> None:
    survey = Survey("s", "v", "s.yaml", ("en",), (NPS,))
    progress = Progress("score", 0, {}, "contacted")
    shows = [engine.answer(survey, progress, "x").show for _ in range(3)]
    assert shows == ["question", "question", "breakoff"]
    assert progress.disposition == "breakoff"
