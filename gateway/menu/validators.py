"""Input validation for ``input`` screens: each validator turns raw input into a value or ``None``.

Kinds (the single key under ``validate:``):

- ``integer: {min: 1, max: 5}`` — whole number in range (either bound optional)
- ``amount: {min: 5, max: 10000, decimals: 2}`` — a number with at most ``decimals`` places
- ``choice: [yes, no]`` — one of the words, case-insensitive; stores the word as written in the file
- ``regex: '^[A-Z]{3}\\d+$'`` — full match, run by RE2 (linear time: a hostile input cannot
  stall the event loop); patterns RE2 cannot run (backreferences, lookaround, possessive
  quantifiers …) are refused by the check, saying why
- ``phone: {country: KE}`` — a local (``0712…``) or international number, stored as E.164
- ``text: {min: 1, max: 80}`` — free text of bounded length (the default for ``input``)
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

import re2

Validator = Callable[[str], Any]

COUNTRY_CODES = {
    "KE": ("254", 9), "TZ": ("255", 9), "UG": ("256", 9), "RW": ("250", 9), "NG": ("234", 10),
    "GH": ("233", 9), "ZA": ("27", 9), "ZM": ("260", 9), "MW": ("265", 9), "ET": ("251", 9),
    "CI": ("225", 10), "SN": ("221", 9), "CM": ("237", 9),
}  # fmt: skip
"""ISO country → (calling code, national significant number length)."""


class ValidatorError(ValueError):
    """The ``validate:`` block itself is wrong (reported by the menu check)."""


def _bounds(spec: Any, kind: str) -> tuple[Decimal | None, Decimal | None]:
    if spec is None:
        return None, None
    if not isinstance(spec, dict):
        raise ValidatorError(f"{kind}: expected a mapping like {{min: 1, max: 5}}")
    unknown = set(spec) - {"min", "max", "decimals"}
    if unknown:
        raise ValidatorError(f"{kind}: unknown option(s) {', '.join(map(str, sorted(unknown)))}")
    try:
        low = None if spec.get("min") is None else Decimal(str(spec["min"]))
        high = None if spec.get("max") is None else Decimal(str(spec["max"]))
    except InvalidOperation:
        raise ValidatorError(f"{kind}: min and max must be numbers") from None
    if low is not None and high is not None and low > high:
        raise ValidatorError(f"{kind}: min {low} is greater than max {high}")
    return low, high


def _in_range(value: Decimal, low: Decimal | None, high: Decimal | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def integer(spec: Any) -> Validator:
    low, high = _bounds(spec, "integer")
    pattern = re.compile(r"-?\d{1,18}")

    def check(raw: str) -> int | None:
        raw = raw.strip()
        if not pattern.fullmatch(raw):
            return None
        value = int(raw)
        return value if _in_range(Decimal(value), low, high) else None

    return check


def amount(spec: Any) -> Validator:
    low, high = _bounds(spec, "amount")
    decimals = int(spec.get("decimals", 2)) if isinstance(spec, dict) else 2
    pattern = re.compile(r"\d{1,15}" + (rf"(\.\d{{1,{decimals}}})?" if decimals > 0 else ""))

    def check(raw: str) -> str | None:
        raw = raw.strip().replace(",", "")
        if not pattern.fullmatch(raw):
            return None
        return raw if _in_range(Decimal(raw), low, high) else None

    return check


def choice(spec: Any) -> Validator:
    if not isinstance(spec, list) or not spec or not all(isinstance(c, str | int) for c in spec):
        raise ValidatorError("choice: expected a list of words, e.g. [yes, no]")
    table = {str(c).strip().casefold(): str(c) for c in spec}
    return lambda raw: table.get(raw.strip().casefold())


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # RE2 would print every refused pattern on stderr
_RE2_REASONS = (  # RE2's refusal → what a brand can do about it
    (r"invalid escape sequence: (\\[1-9])", "backreferences ({}) need backtracking"),
    (r"invalid perl operator: \(\?P$", "named backreferences (?P=…) need backtracking"),
    (r"invalid perl operator: \(\?<?[=!]", "lookahead and lookbehind need backtracking"),
    (r"invalid perl operator: \(\?>", "atomic groups need backtracking"),
    (r"bad repetition operator: (\S*\+)", "possessive quantifiers ({}) are not supported"),
    (r"invalid repetition size: (\S+)", "more than 1000 repeats in all ({}) are not supported"),
    (r"invalid escape sequence: \\Z", "\\Z is not supported (the whole input must match anyway)"),
)  # fmt: skip


def _refusal(spec: str, error: Exception) -> ValidatorError:
    """Why RE2 refused ``spec``: a plain syntax error (in Python's words, which brands know from
    the docs they copy from), or a feature that needs a backtracking engine."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            re.compile(spec)
    except re.error as exc:
        return ValidatorError(f"regex: invalid pattern: {exc}")
    raw = error.args[0] if error.args else ""
    message = raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
    for pattern, reason in _RE2_REASONS:
        found = re.search(pattern, message)
        if found:
            message = reason.format(*found.groups())
            break
    return ValidatorError(f"regex: the linear-time regex engine cannot run this pattern: {message}")


def regex(spec: Any) -> Validator:
    if not isinstance(spec, str):
        raise ValidatorError("regex: expected a pattern string")
    try:
        pattern = re2.compile(spec, options=_RE2_OPTIONS)
    except re2.error as exc:
        raise _refusal(spec, exc) from None

    def check(raw: str) -> str | None:
        value = raw.strip()
        return value if pattern.fullmatch(value) else None

    return check


def phone(spec: Any) -> Validator:
    country = (spec or {}).get("country", "KE") if isinstance(spec, dict) else spec or "KE"
    if str(country).upper() not in COUNTRY_CODES:
        known = ", ".join(sorted(COUNTRY_CODES))
        raise ValidatorError(f"phone: unknown country {country!r} (known: {known})")
    code, length = COUNTRY_CODES[str(country).upper()]

    def check(raw: str) -> str | None:
        digits = re.sub(r"[\s\-()]", "", raw)
        if digits.startswith("+"):
            digits = digits[1:]
        elif digits.startswith("00"):
            digits = digits[2:]
        elif digits.startswith("0") and len(digits) == length + 1:
            digits = code + digits[1:]
        elif len(digits) == length:
            digits = code + digits
        if not digits.isdigit() or not 8 <= len(digits) <= 15:
            return None
        if digits.startswith(code) and len(digits) != len(code) + length:
            return None
        return "+" + digits

    return check


def text(spec: Any) -> Validator:
    low, high = _bounds(spec, "text")
    min_len = int(low) if low is not None else 1
    max_len = int(high) if high is not None else 160

    def check(raw: str) -> str | None:
        value = raw.strip()
        return value if min_len <= len(value) <= max_len else None

    return check


KINDS: dict[str, Callable[[Any], Validator]] = {
    "integer": integer, "amount": amount, "choice": choice, "regex": regex, "phone": phone,
    "text": text,
}  # fmt: skip


def build(spec: Any) -> Validator:
    """Build a validator from a ``validate:`` value (``None`` = any non-empty text)."""
    if spec is None:
        return text(None)
    if not isinstance(spec, dict) or len(spec) != 1:
        raise ValidatorError(f"validate: expected exactly one of {', '.join(KINDS)}")
    ((kind, options),) = spec.items()
    if kind not in KINDS:
        raise ValidatorError(f"validate: unknown kind {kind!r} (use one of {', '.join(KINDS)})")
    return KINDS[kind](options)
