"""Africa's Talking USSD adapter, driven by real request bodies stored under ``payloads/``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.channels.africastalking import ussd
from gateway.errors import BadRequest

PAYLOADS = sorted((Path(__file__).parent / "payloads").glob("*.json"))


def _cases() -> list[Any]:
    return [pytest.param(json.loads(p.read_text()), id=p.stem) for p in PAYLOADS]


@pytest.mark.parametrize("case", _cases())
def test_payload_normalizes_or_is_refused_with_reason(case: dict[str, Any]) -> None:
    """Each stored AT body becomes the expected normalized request, or a clear BadRequest."""
    parse = ussd.parse_hop if case["kind"] == "hop" else ussd.parse_session_end
    body = case["body"].encode()
    if "error" in case:
        with pytest.raises(BadRequest, match=case["error"]):
            parse(body)
        return
    parsed = dataclasses.asdict(parse(body))
    for field, expected in case["expect"].items():
        assert parsed[field] == expected, f"{case['label']}: {field}"


def test_payload_table_covers_both_callbacks() -> None:
    """The table holds hop and end-of-session bodies, good and bad."""
    kinds = {
        (json.loads(p.read_text())["kind"], "error" in json.loads(p.read_text())) for p in PAYLOADS
    }
    assert kinds == {("hop", False), ("hop", True), ("end", False), ("end", True)}


def test_non_utf8_body_is_refused() -> None:
    """A body that is not UTF-8 is a BadRequest, not a crash."""
    with pytest.raises(BadRequest, match="UTF-8"):
        ussd.parse_hop(b"sessionId=\xff\xfe")


def test_overlong_text_is_refused() -> None:
    """A text field beyond 4000 characters is refused."""
    body = b"sessionId=a&serviceCode=*1%23&phoneNumber=%2B254700000001&text=" + b"1" * 4001
    with pytest.raises(BadRequest, match="longer than"):
        ussd.parse_hop(body)


def test_form_decoding_matches_the_standard_decoder() -> None:
    """The fast form decoder agrees with urllib on escapes, '+', literal '%' and UTF-8."""
    from urllib.parse import parse_qsl

    from gateway.channels.africastalking.forms import parse_form

    bodies = [
        b"text=100%252A&x=%2B&y=a+b&z=%E1%BA%B9%2a%23",
        b"text=%25%2A%2523&n=%2b254&s=%20lead",
        b"a=&b=%&c=%2&d=%zz&e=%%2A",
        # escapes decoded over the whole body must not split or join fields
        b"a=%26%3D&b=x+y%2Bz&c=%E2%82%AC%2a&%2A=1&d=%25%32%41",
        b"a=%%2341&b=%2%2A&c=%252A&d=%2%23%2A",
        b"sessionId=AT&serviceCode=%2A384%2A123%23&phoneNumber=%2B254700123456&text=1%2A2",
    ]
    for body in bodies:
        assert parse_form(body) == dict(parse_qsl(body.decode(), keep_blank_values=True))
