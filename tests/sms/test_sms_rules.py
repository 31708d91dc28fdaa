"""Pure rules: quiet hours per country, opt-out footers, keyword matching."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gateway.errors import ConfigError
from gateway.sms import quiet
from gateway.sms.countries import country_of, with_footer
from gateway.sms.keywords import build_router, load_router

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
])  # fmt: skip
def test_bad_keyword_files_say_what_is_wrong(spec: dict[str, object], error: str) -> None:
    """A bad keyword file is refused at start-up with the entry and the problem."""
    with pytest.raises(ConfigError, match=error):
        build_router(spec)
