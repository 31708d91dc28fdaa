"""Pure rules: quiet hours per country, opt-out footers, keyword matching and the keywords file."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from gateway.content.check import check_files
from gateway.content.files import build_source
from gateway.content.kind import Built
from gateway.sms import quiet
from gateway.sms.countries import country_of, with_footer
from gateway.sms.keywords import DEFAULT_REPLIES, KeywordRouter
from gateway.text import Budget

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "menus" / "keywords.yaml"


def build(text: str) -> Built[Any]:
    """A keywords file with ``text`` after its ``kind: keywords`` line, checked."""
    return build_source(f"kind: keywords\n{text}".encode(), "k.yaml", Budget())


def build_router(text: str) -> KeywordRouter:
    built = build(text)
    assert built.value is not None, [str(f) for f in built.findings]
    router: KeywordRouter = built.value
    return router


def shipped_router() -> KeywordRouter:
    """The router of the keywords file shipped in menus/."""
    good, findings = check_files([SHIPPED])
    assert findings == [] and len(good) == 1
    router: KeywordRouter = good[0].value
    return router


def _ts(zone: str, *args: int) -> float:
    return datetime(*args, tzinfo=ZoneInfo(zone)).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(("phone", "local", "allowed"), [
    ("+2348030000001", (2025, 3, 5, 19, 59), True),
    ("+2348030000001", (2025, 3, 5, 20, 0), False),
    ("+2348030000001", (2025, 3, 6, 7, 59), False),
    ("+254700000001", (2025, 3, 5, 17, 59), True),
    ("+254700000001", (2025, 3, 5, 18, 0), False),
    ("+27820000001", (2025, 3, 8, 12, 0), True),     # Saturday inside 09-13
    ("+27820000001", (2025, 3, 8, 14, 0), False),    # Saturday afternoon
    ("+27820000001", (2025, 3, 9, 12, 0), False),    # Sunday
    ("+27820000001", (2025, 4, 18, 12, 0), False),   # Good Friday
    ("+27820000001", (2025, 3, 21, 12, 0), False),   # Human Rights Day
    ("+27820000001", (2025, 3, 20, 19, 30), True),
    ("+233200000001", (2025, 3, 5, 18, 59), True),
    ("+233200000001", (2025, 3, 9, 12, 0), False),   # Sunday
])  # fmt: skip
def test_quiet_hours_per_country(phone: str, local: tuple[int, ...], allowed: bool) -> None:
    """Each country's marketing window is applied in its own local time."""
    country = country_of(phone)
    assert quiet.allowed(country, _ts(country.zone, *local)) is allowed


def test_za_saturday_evening_waits_until_monday_0800() -> None:
    """South Africa: after Saturday 13:00 the next slot is Monday 08:00 (Sunday is closed)."""
    za = country_of("+27820000001")
    opens = quiet.next_allowed(za, _ts(za.zone, 2025, 3, 8, 13, 30))
    assert opens == _ts(za.zone, 2025, 3, 10, 8, 0)


def test_footer_per_country_added_once() -> None:
    """KE gets the Safaricom opt-out code, others "Reply STOP"; never twice."""
    assert with_footer("Hi", country_of("+254711000000")) == "Hi\nSTOP*456*9*5#"
    once = with_footer("Hi", country_of("+27820000001"))
    assert once == "Hi\nReply STOP to opt out" == with_footer(once, country_of("+27820000001"))


@pytest.mark.parametrize("text", ["STOP", " stop ", "Stop!", "stop all", "STOP  ALL",
                                  "unsubscribe", "End", "cancel", "QUIT", "opt out", "OPT-OUT",
                                  "stop please", "sitisha", "Arrêt"])  # fmt: skip
def test_stop_family_in_any_case(text: str) -> None:
    """The STOP family matches in any case and spacing, plus per-language words from the file."""
    router = shipped_router()
    assert router.route(text).kind == "stop"


def test_brand_keywords_and_builtins() -> None:
    """Brand keywords reply, start surveys or tag; START/HELP are built in; others match nothing."""
    router = shipped_router()
    assert router.route("offers").reply.startswith("This week")
    assert router.route("Survey").survey == "nps"
    assert router.route("join  vip").tag == "vip"
    assert router.route("start").kind == "start"
    assert router.route("help").kind == "help"
    assert router.route("what is my balance").kind == "none"
    assert router.route("ending soon?").kind == "none"


@pytest.mark.parametrize(("text", "finding"), [
    ("keywords:\n  - {words: [STOP], reply: x}\n", "3:14: error: STOP is a built-in stop word"),
    ("keywords:\n  - {words: [A]}\n", "3:5: error: needs a reply, a survey or a tag"),
    ("keywords:\n  - {words: A, reply: x}\n",
     "3:13: error: expected a non-empty list of words (or {language: [words]})"),
    ("keywords:\n  - {words: [A], reply: x, colour: 1}\n",
     "3:36: error: unknown field 'colour' (allowed: words, reply, survey, tag)"),
    ("keywords:\n  - {words: [A], flow: nps}\n",
     "3:24: error: flow: is now survey: (rename it; it names the survey this keyword starts)"),
    ("keywords:\n  - {words: [A], survey: 'n p s'}\n",
     "3:26: error: expected a survey id (letters, digits, _ . -), found 'n p s'"),
    ("keywords:\n  - {words: [2024], reply: x}\n", "3:14: error: expected a word, found 2024"),
    ("replies: {bye: x}\n", "2:16: error: 'bye': expected stop, start or help"),
    ("replies:\n  stop: [x]\n", "3:9: error: expected text, or {language: text}"),
    ("replies:\n  stop: {sw: 3}\n", "3:14: error: expected text"),
    ("replies:\n  stop: {Swahili: x}\n",
     "3:19: error: 'Swahili' is not a language code (en, sw, fr…)"),
    ("languages: en\n", "2:12: error: expected a non-empty list of language codes (en, sw…)"),
    ("languages: [en]\nstop_words: {sw: [ACHA]}\n", "3:18: error: sw is not in languages (en)"),
    ("stop_words: [ACHA]\n", "2:13: error: expected {language: [words]}"),
    ("stop_words:\n  sw: [ACHA]\n  fr: [acha]\n", "4:8: error: ACHA is already listed at line 3"),
    ("stop_words: {fr: [STOP]}\n", "2:19: error: STOP is a built-in stop word"),
    ("start_words: {sw: [ANZA]}\nhelp_words: {sw: [ANZA]}\n",
     "3:19: error: ANZA is already listed at line 2"),
    ("keywords:\n  - {words: {en: [A], sw: []}, reply: x}\n",
     "3:27: error: expected a non-empty list of words (or {language: [words]})"),
    ("keywords:\n  - {words: [A], reply: x}\n  - {words: [a], tag: t}\n",
     "4:14: error: A is already listed at line 3"),
    ("keywords:\n  - {words: [A, a], reply: x}\n", "3:17: error: A is already listed at line 3"),
    ("language: [en]\n", "2:11: error: unknown field 'language' (allowed: kind, description, "
     "languages, stop_words, start_words, help_words, replies, keywords)"),
])  # fmt: skip
def test_bad_keyword_files_say_what_is_wrong(text: str, finding: str) -> None:
    """A bad keywords file is an error at the line and column of the bad entry, saying what is
    wrong; nothing of it is served."""
    built = build(text)
    assert [str(f).removeprefix("k.yaml:") for f in built.findings] == [finding]
    assert built.value is None


def test_every_mistake_in_a_keywords_file_is_reported_at_once() -> None:
    """Three mistakes in one file give three findings, in line order, not just the first."""
    built = build("languages: [en]\nreplies: {bye: x}\nkeywords:\n  - {words: [STOP], tag: t}\n"
                  "  - {words: [B], flow: nps}\n")  # fmt: skip
    assert [f.line for f in built.findings] == [3, 5, 6]


def test_replies_come_in_the_language_of_the_word_that_matched() -> None:
    """SITISHA (Swahili) → Swahili reply; STOP (neutral) → the default; OFA → the sw text."""
    router = shipped_router()
    sitisha = router.route("Sitisha tafadhali")
    assert (sitisha.kind, sitisha.language) == ("stop", "sw")
    assert sitisha.reply.startswith("Hutapokea tena ujumbe wa matangazo")
    assert router.route("STOP").reply.startswith("You will no longer get marketing messages")
    assert router.route("duro").reply == DEFAULT_REPLIES["stop"]["yo"]  # no brand yo text
    assert router.route("ofa").reply.startswith("Wiki hii")
    assert router.route("offers").reply.startswith("This week")
    assert router.route("saidia").kind == "help"
    assert router.route("survey").reply == router.route("rate").reply  # one text for all


def test_the_first_listed_language_answers_neutral_words() -> None:
    """With languages [sw, en], STOP and a plain word list are answered in Swahili."""
    router = build_router(
        "languages: [sw, en]\nkeywords:\n  - {words: [BEI], reply: {en: Prices, sw: Bei}}\n"
    )
    assert router.route("stop").reply == DEFAULT_REPLIES["stop"]["sw"]
    assert router.route("help").reply == DEFAULT_REPLIES["help"]["sw"]
    assert router.route("bei").reply == "Bei"


def test_built_in_confirmations_exist_in_five_languages() -> None:
    """STOP, START and HELP have built-in texts in en, sw, fr, ha and yo."""
    for kind in ("stop", "start", "help"):
        assert set(DEFAULT_REPLIES[kind]) >= {"en", "sw", "fr", "ha", "yo"}
        for text in DEFAULT_REPLIES[kind].values():  # each names the keyword that undoes it
            assert ("START" if kind == "stop" else "STOP") in text


def test_a_reply_text_replaces_every_language_and_a_dict_only_its_own() -> None:
    """`stop: "text"` is used for everyone; `start: {en: …}` keeps the built-in sw text."""
    router = build_router(
        "stop_words: {sw: [SITISHA]}\nstart_words: {sw: [ANZA]}\n"
        "replies: {stop: Bye from Brand, start: {en: Welcome back to Brand}}\n"
    )
    assert router.route("sitisha").reply == router.route("stop").reply == "Bye from Brand"
    assert router.route("start").reply == "Welcome back to Brand"
    assert router.route("anza").reply == DEFAULT_REPLIES["start"]["sw"]


def test_a_language_with_no_text_falls_back_to_the_default_language() -> None:
    """A French keyword whose reply has only en and sw texts is answered in the default (en)."""
    router = build_router(
        "keywords:\n  - {words: {fr: [PROMOS], sw: [OFA]}, reply: {sw: Ofa, en: Offers}}\n"
    )
    assert router.route("promos").reply == "Offers"
    assert router.route("promos").keyword == "PROMOS"
