"""The safe condition language, templates and input validators, as brands write them."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.menu import validators
from gateway.menu.conditions import ConditionError, compile_condition
from gateway.menu.templates import TemplateError, parse

VARS: dict[str, Any] = {
    "rating": "4",
    "name": "Amina",
    "tier": "gold",
    "profile": {"age": 30},
    "empty": "",
}


@pytest.mark.parametrize(("source", "expected"), [
    ("rating >= 4", True),
    ("rating > 4", False),
    ("rating == 4.0", True),
    ("name == 'amina'", True),           # text comparison ignores case
    ("tier in ['gold', 'silver']", True),
    ("tier not in ['gold']", False),
    ("profile.age < 18 or name == 'Amina'", True),
    ("not (rating >= 4 and tier == 'bronze')", True),
    ("missing == null", True),
    ("missing > 1", False),              # undefined never orders
    ("empty", False),
    ("name", True),
    ("rating", True),
])  # fmt: skip
def test_conditions(source: str, expected: bool) -> None:
    """Router conditions evaluate the way a brand reads them."""
    condition, _ = compile_condition(source)
    assert condition(VARS) is expected


@pytest.mark.parametrize(
    "source", ["", "rating >", "__import__('os')", "a.b()", "rating = 4", "(rating > 1", "1 + 1"]
)
def test_bad_conditions_are_refused(source: str) -> None:
    """Anything outside the small language is a ConditionError, never executed."""
    with pytest.raises(ConditionError):
        compile_condition(source)


def test_condition_reports_variables() -> None:
    """The names a condition reads are known at load (for checks)."""
    assert compile_condition("a > 1 and b.c == 'x'")[1] == {"a", "b.c"}


@pytest.mark.parametrize(("source", "values", "expected"), [
    ("Hello {name}", {"name": "Amina"}, "Hello Amina"),
    ("Hello {name|there}", {}, "Hello there"),
    ("Age {profile.age}", {"profile": {"age": 30}}, "Age 30"),
    ("Use {{braces}}", {}, "Use {braces}"),
    ("{a}{b|-}", {"a": 1}, "1-"),
])  # fmt: skip
def test_templates(source: str, values: dict[str, Any], expected: str) -> None:
    """Templating fills variables and defaults; doubled braces are literal."""
    assert parse(source).render(values) == expected


@pytest.mark.parametrize("source", ["Hello {name", "Hello }", "{}", "{1abc}"])
def test_bad_templates(source: str) -> None:
    """Malformed templates are refused at load with a reason."""
    with pytest.raises(TemplateError):
        parse(source)


@pytest.mark.parametrize(("spec", "raw", "value"), [
    ({"integer": {"min": 1, "max": 5}}, " 3 ", 3),
    ({"integer": {"min": 1, "max": 5}}, "6", None),
    ({"integer": {"min": 1, "max": 5}}, "3.5", None),
    ({"integer": {"min": 0, "max": 10}}, "0", 0),
    ({"amount": {"min": 5, "max": 10000}}, "1,500.50", "1500.50"),
    ({"amount": {"min": 5, "max": 10000, "decimals": 0}}, "10.5", None),
    ({"choice": ["Yes", "No"]}, "yes", "Yes"),
    ({"choice": ["Yes", "No"]}, "maybe", None),
    ({"regex": "[A-Z]{3}\\d+"}, "ABC123", "ABC123"),
    ({"regex": "[A-Z]{3}\\d+"}, "AB123", None),
    ({"phone": {"country": "KE"}}, "0712 345 678", "+254712345678"),
    ({"phone": {"country": "KE"}}, "+254712345678", "+254712345678"),
    ({"phone": {"country": "NG"}}, "08031234567", "+2348031234567"),
    ({"phone": {"country": "KE"}}, "12345", None),
    ({"text": {"min": 2, "max": 5}}, "abc", "abc"),
    ({"text": {"min": 2, "max": 5}}, "abcdef", None),
    (None, "  ", None),
])  # fmt: skip
def test_validators(spec: Any, raw: str, value: Any) -> None:
    """Each validator accepts what it should, normalizes, and refuses the rest."""
    assert validators.build(spec)(raw) == value


@pytest.mark.parametrize(("spec", "message"), [
    ({"integer": {"min": 9, "max": 1}}, "greater than max"),
    ({"regex": "("}, "invalid pattern"),
    ({"phone": {"country": "XX"}}, "unknown country"),
    ({"choice": []}, "list of words"),
    ({"colour": {}}, "unknown kind"),
    ({"integer": {}, "text": {}}, "exactly one"),
])  # fmt: skip
def test_bad_validator_specs(spec: Any, message: str) -> None:
    """A wrong validate: block is explained."""
    with pytest.raises(validators.ValidatorError, match=message):
        validators.build(spec)


def test_yes_no_stay_words_in_menu_files() -> None:
    """YAML 1.1 would read [yes, no] as booleans; menu files keep them as words."""
    from gateway.menu.parse import parse_text

    source = (
        "id: yn\nservice_codes: ['*1#']\nstart: q\nnavigation: false\nscreens:\n"
        "  q:\n    input:\n      text: Agree?\n      validate: {choice: [yes, no, on, off]}\n"
        "      save: answer\n      next: done\n  done:\n    end: 'You said {answer}'\n"
    )
    menu, findings = parse_text(source, "yn.yaml")
    assert menu is not None, findings
    assert menu.navigation.enabled is False
    screen = menu.screens["q"]
    assert screen.validate("YES") == "yes"  # type: ignore[union-attr]
    assert screen.validate("off") == "off"  # type: ignore[union-attr]
