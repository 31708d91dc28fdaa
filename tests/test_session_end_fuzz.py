"""The end-of-session callback never answers 5xx, whatever body AT (or anyone) sends."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus

import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["1e309", "-1e309", "inf", "nan", "1_000", " 12 ", "0x10", "", "١٢"]),
)
TEXT = st.text(max_size=40)
PHONES = st.one_of(st.from_regex(r"\+?[0-9]{6,15}", fullmatch=True), TEXT)
FORMS = st.fixed_dictionaries(
    {"sessionId": st.one_of(st.just("ATUid_fuzz"), TEXT)},
    optional={
        "status": st.one_of(st.sampled_from(["Success", "Incomplete", "Failed"]), TEXT),
        "phoneNumber": PHONES,
        "durationInMillis": NUMBERS,
        "hopsCount": NUMBERS,
        "serviceCode": st.one_of(st.just("*384#"), TEXT),
        "networkCode": st.one_of(st.just("63902"), TEXT),
        "lastAppResponse": TEXT,
        "errorMessage": TEXT,
        "date": TEXT,
        "cost": TEXT,
        "input": TEXT,
    },
)
EXTRA = st.dictionaries(st.text(max_size=8), TEXT, max_size=4)
RAW = st.binary(max_size=200)


def encode(form: dict[str, str]) -> bytes:
    return "&".join(f"{quote_plus(k)}={quote_plus(v)}" for k, v in form.items()).encode()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> TestClient[Any, Any]:
    """One gateway for every example (hypothesis runs them all inside one test call)."""
    return await make_gateway()


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(body=st.one_of(st.builds(lambda f, x: encode({**x, **f}), FORMS, EXTRA), RAW))
async def test_random_bodies_never_get_a_server_error(
    gateway: TestClient[Any, Any], body: bytes
) -> None:
    """Random form fields (huge, infinite, negative, odd numbers; odd text) get 200 or 400."""
    response = await gateway.post(
        "/ussd/africastalking/events",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    text = await response.text()
    assert response.status in (200, 400), (response.status, text)
    if response.status == 400:
        assert text.startswith("END Bad request: ")
