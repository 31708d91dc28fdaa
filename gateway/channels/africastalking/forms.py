"""Africa's Talking callbacks are form-encoded: decoding and field checks shared by every
AT adapter (USSD, SMS, airtime). Field problems become ``BadRequest`` with the field's name."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from gateway.errors import BadRequest

MAX_FIELDS = 64
_PHONE = re.compile(r"^\+?\d{6,15}$")


# What AT escapes in practice; handled with bytes.replace before the general (slow) decoder.
# A replacement never yields "%", so what is left to decode is unchanged by it.
_COMMON_ESCAPES = ((b"%2A", b"*"), (b"%2a", b"*"), (b"%23", b"#"), (b"%2B", b"+"),
                   (b"%2b", b"+"), (b"%20", b" "))  # fmt: skip


def parse_form(body: bytes) -> dict[str, str]:
    """Decode a form body (``a=1&b=%2A``); ~4x faster than ``parse_qsl`` on hop-sized bodies.

    The escapes AT uses are decoded once over the whole body: each becomes a character that is
    neither ``%``, ``&`` nor ``=``, so splitting afterwards is unchanged. Values with any other
    escape (``%26``…) go through the general decoder, one by one."""
    body = body.replace(b"+", b" ")
    if b"%" in body:
        for code, char in _COMMON_ESCAPES:
            if code in body:
                body = body.replace(code, char)
    pairs = body.split(b"&")
    if len(pairs) > MAX_FIELDS:
        raise BadRequest(f"more than {MAX_FIELDS} form fields")
    fields: dict[str, str] = {}
    try:
        if b"%" not in body:
            for pair in pairs:
                name, _, value = pair.partition(b"=")
                fields[name.decode()] = value.decode()
            return fields
        for pair in pairs:
            name, _, value = pair.partition(b"=")
            if b"%" in value:
                value = unquote_to_bytes(value)
            if b"%" in name:
                name = unquote_to_bytes(name)
            fields[name.decode()] = value.decode()
    except UnicodeDecodeError:
        raise BadRequest("body is not UTF-8") from None
    return fields


_COMMON_ESCAPES_TEXT = tuple((code.decode(), char.decode()) for code, char in _COMMON_ESCAPES)


def unescape(raw: str) -> str | None:
    """``raw`` (a value of a form already decoded as UTF-8) as ``parse_form`` decodes it, when
    it holds no escape but the ones AT uses; else ``None`` (ask ``parse_form``).

    An escape never spans ``&`` or ``=``, nor overlaps another, so decoding them in one value
    is decoding them over the whole body, as ``parse_form`` does."""
    if "+" in raw:
        raw = raw.replace("+", " ")
    if "%" in raw:
        raw = raw.replace("%2A", "*")  # what AT sends most: the cumulative text's separator
        if "%" in raw:
            for code, char in _COMMON_ESCAPES_TEXT:
                if code in raw:
                    raw = raw.replace(code, char)
            if "%" in raw:
                return None
    return raw


def check_lengths(form: dict[str, str], limits: dict[str, int]) -> None:
    """Refuse a field longer than its limit, before anything looks at its value (a 64 KB
    ``serviceCode`` cost 0.6 s of CPU in routing)."""
    for name, limit in limits.items():
        if len(form.get(name, "")) > limit:
            raise BadRequest(f"{name} longer than {limit} characters")


def required(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise BadRequest(f"missing field {name}")
    return value


def phone(form: dict[str, str], name: str = "phoneNumber") -> str:
    """An E.164 number from field ``name`` (a ``+`` sent unescaped arrives as a space)."""
    number = required(form, name).replace(" ", "")
    if not _PHONE.match(number):
        raise BadRequest(f"{name} is not a phone number")
    return number if number.startswith("+") else "+" + number
