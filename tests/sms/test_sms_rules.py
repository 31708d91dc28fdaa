"""Pure rules: quiet hours per country, opt-out footers, keyword matching."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import ConfigError
from gateway.sms import quiet
from gateway.sms.countries import country_of, with_footer
from gateway.sms.keywords import DEFAULT_REPLIES, build_router, load_router

ROOT = Path(__file__).resolve().parents[2]


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
    router = load_router(ROOT / "sms" / "keywords.yaml")
    assert router.route(text).kind == "stop"


def test_brand_keywords_and_builtins() -> None:
    """Brand keywords reply, start flows or tag; START/HELP are built in; others match nothing."""
    router = load_router(ROOT / "sms" / "keywords.yaml")
    assert router.route("offers").reply.startswith("This week")
    assert router.route("Survey").flow == "nps"
    assert router.route("join  vip").tag == "vip"
    assert router.route("start").kind == "start"
    assert router.route("help").kind == "help"
    assert router.route("what is my balance").kind == "none"
    assert router.route("ending soon?").kind == "none"


@pytest.mark.parametrize(("spec", "error"), [
    ({"keywords": [{"words": ["STOP"], "reply": "x"}]}, "STOP is a built-in keyword"),
    ({"keywords": [{"words": ["A"]}]}, "needs a reply, a flow or a tag"),
    ({"keywords": [{"words": "A", "reply": "x"}]}, "expected a non-empty list"),
    ({"keywords": [{"words": ["A"], "reply": "x", "colour": 1}]}, "unknown field"),
    ({"replies": {"bye": "x"}}, "expected stop, start or help"),
    ({"replies": {"stop": ["x"]}}, "replies.stop: expected text, or {language: text}"),
    ({"replies": {"stop": {"sw": 3}}}, "replies.stop.sw: expected text"),
    ({"replies": {"stop": {"Swahili": "x"}}}, "'Swahili' is not a language code"),
    ({"languages": "en"}, "languages: expected a non-empty list of language codes"),
    ({"languages": ["en"], "stop_words": {"sw": ["ACHA"]}}, "sw is not in languages ['en']"),
    ({"stop_words": ["ACHA"]}, "stop_words: expected {language: [words]}"),
    ({"stop_words": {"sw": ["ACHA"], "fr": ["acha"]}}, "stop_words.fr: ACHA is listed already"),
    ({"stop_words": {"fr": ["STOP"]}}, "stop_words.fr: STOP is built in (stop)"),
    ({"help_words": {"sw": ["ANZA"]}, "start_words": {"sw": ["ANZA"]}},
     "ANZA is listed already (start)"),
    ({"keywords": [{"words": {"en": ["A"], "sw": []}, "reply": "x"}]},
     "keywords[0].words.sw: expected a non-empty list"),
    ({"keywords": [{"words": ["A"], "reply": "x"}, {"words": ["a"], "tag": "t"}]},
     "keywords[1]: A is already a keyword of another entry"),
    ({"keywords": [{"words": ["A", "a"], "reply": "x"}]}, "A is listed twice"),
    ({"language": ["en"]}, "unknown key(s) language"),
])  # fmt: skip
def test_bad_keyword_files_say_what_is_wrong(spec: dict[str, object], error: str) -> None:
    """A bad keyword file is refused at start-up with the entry and the problem."""
    with pytest.raises(ConfigError, match=re.escape(error)):
        build_router(spec)


def test_replies_come_in_the_language_of_the_word_that_matched() -> None:
    """SITISHA (Swahili) → Swahili reply; STOP (neutral) → the default; OFA → the sw text."""
    router = load_router(ROOT / "sms" / "keywords.yaml")
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
    router = build_router({
        "languages": ["sw", "en"],
        "keywords": [{"words": ["BEI"], "reply": {"en": "Prices", "sw": "Bei"}}],
    })  # fmt: skip
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
    router = build_router({
        "stop_words": {"sw": ["SITISHA"]}, "start_words": {"sw": ["ANZA"]},
        "replies": {"stop": "Bye from Brand", "start": {"en": "Welcome back to Brand"}},
    })  # fmt: skip
    assert router.route("sitisha").reply == router.route("stop").reply == "Bye from Brand"
    assert router.route("start").reply == "Welcome back to Brand"
    assert router.route("anza").reply == DEFAULT_REPLIES["start"]["sw"]


def test_a_language_with_no_text_falls_back_to_the_default_language() -> None:
    """A French keyword whose reply has only en and sw texts is answered in the default (en)."""
    router = build_router({
        "keywords": [{"words": {"fr": ["PROMOS"], "sw": ["OFA"]},
                      "reply": {"sw": "Ofa", "en": "Offers"}}],
    })  # fmt: skip
    assert router.route("promos").reply == "Offers"
    assert router.route("promos").keyword == "PROMOS"
