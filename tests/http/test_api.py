"""The /v1 API's machinery over HTTP: bearer auth, JSON errors, phone numbers in paths, logs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory

from gateway import logs
from gateway.config import Settings, from_env
from gateway.privacy import pseudonymize

TOKEN = "api-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+254711000222"


async def _gateway(make_gateway: GatewayFactory, **overrides: Any) -> TestClient[Any, Any]:
    return await make_gateway(**{"api_token": TOKEN, "sms_worker": False, **overrides})


async def _json(response: Any) -> dict[str, Any]:
    assert response.content_type == "application/json"
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


async def test_without_a_configured_token_the_api_is_off_and_says_how_to_turn_it_on(
    make_gateway: GatewayFactory,
) -> None:
    """With no JUMBE_API_TOKEN every /v1 call gets 403 naming the variable."""
    client = await make_gateway(sms_worker=False)
    response = await client.get(f"/v1/consent/{PHONE}", headers=AUTH)
    assert response.status == 403
    body = await _json(response)
    assert body["error"] == "forbidden"
    assert "JUMBE_API_TOKEN" in body["reason"]


@pytest.mark.parametrize(("headers", "reason"), [
    ({}, "missing bearer token"),
    ({"Authorization": "Bearer "}, "missing bearer token"),
    ({"Authorization": f"Basic {TOKEN}"}, "missing bearer token"),
    ({"Authorization": "Bearer wrong-token"}, "wrong bearer token"),
    ({"Authorization": f"Bearer {TOKEN}x"}, "wrong bearer token"),
])  # fmt: skip
async def test_missing_or_wrong_bearer_gets_401(
    make_gateway: GatewayFactory, headers: dict[str, str], reason: str
) -> None:
    """A call without the right bearer token gets 401 with the reason and a WWW-Authenticate."""
    client = await _gateway(make_gateway)
    response = await client.post("/v1/sms", headers=headers, json={"to": PHONE})
    assert response.status == 401
    body = await _json(response)
    assert body["error"] == "unauthorized"
    assert body["reason"].startswith(reason)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_the_right_bearer_works_in_any_scheme_case(make_gateway: GatewayFactory) -> None:
    """`bearer <token>` works like `Bearer <token>`."""
    client = await _gateway(make_gateway)
    headers = {"Authorization": f"bearer {TOKEN}"}
    response = await client.get(f"/v1/consent/{PHONE}", headers=headers)
    assert response.status == 200


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty body"),
    (b"to=%2B254711000222", "body is not JSON"),
    (b"{\"to\": ", "body is not JSON"),
    (b"[1, 2]", "body is a JSON array; expected an object"),
    (b"\"hello\"", "body is a JSON string; expected an object"),
    (b"{\"to\": \"+254711000222\", \"text\": \"hi\", \"category\": \"transactional\", "
     b"\"sendAt\": 1}", "unknown field(s) sendAt"),
    (b"{\"to\": \"+254711000222\"}", "missing field(s) text, category"),
    (b"{\"to\": 254711000222, \"text\": \"hi\", \"category\": \"transactional\"}",
     "to: expected a string, got number"),
    (b"{\"to\": \"+254711000222\", \"text\": [\"hi\"], \"category\": \"transactional\"}",
     "text: expected a string, got array"),
    (b"{\"to\": \"+254711000222\", \"text\": \"hi\", \"category\": \"transactional\", "
     b"\"send_at\": \"tomorrow\"}", "send_at: 'tomorrow' is not ISO 8601"),
    (b"{\"to\": \"+254711000222\", \"text\": \"hi\", \"category\": \"transactional\", "
     b"\"send_at\": \"2025-03-05T09:00:00\"}", "send_at: needs a UTC offset"),
    (b"{\"to\": \"+254711000222\", \"text\": \"hi\", \"category\": \"transactional\", "
     b"\"send_at\": true}", "send_at: expected ISO 8601 text or epoch seconds, got boolean"),
    (b"{\"to\": \"+254711000222\", \"text\": \"hi\", \"category\": \"transactional\", "
     b"\"send_at\": 1e300}", "send_at: 1e+300 is not a time between 1970 and 9999"),
    (b"{\"to\": \"0711000222\", \"text\": \"hi\", \"category\": \"transactional\"}",
     "to is not an E.164 number"),
])  # fmt: skip
async def test_unusable_bodies_get_400_naming_the_problem(
    make_gateway: GatewayFactory, body: bytes, reason: str
) -> None:
    """Bodies that are not a JSON object of the right fields and types get 400 with the reason."""
    client = await _gateway(make_gateway)
    response = await client.post("/v1/sms", headers=AUTH, data=body)
    assert response.status == 400
    answer = await _json(response)
    assert answer["error"] == "bad_request"
    assert reason in answer["reason"]


async def test_a_body_over_the_size_limit_gets_413(make_gateway: GatewayFactory) -> None:
    """A body larger than the gateway accepts gets 413 in JSON, not a bare HTML page."""
    client = await _gateway(make_gateway)
    response = await client.post("/v1/sms", headers=AUTH, data=b"{" + b" " * 70_000 + b"}")
    assert response.status == 413
    assert (await _json(response))["error"] == "too_large"


async def test_unknown_routes_and_methods_answer_json(make_gateway: GatewayFactory) -> None:
    """An unknown /v1 path gets a JSON 404, a wrong method a JSON 405 with Allow."""
    client = await _gateway(make_gateway)
    missing = await client.get("/v1/nothing-here", headers=AUTH)
    assert missing.status == 404
    assert (await _json(missing))["error"] == "not_found"
    wrong = await client.get("/v1/sms", headers=AUTH)
    assert wrong.status == 405
    assert wrong.headers["Allow"] == "POST"
    assert (await _json(wrong))["error"] == "method_not_allowed"


@pytest.mark.parametrize("path_number", ["+254711000222", "254711000222", "%2B254711000222"])
async def test_msisdn_in_a_path_with_or_without_plus(
    make_gateway: GatewayFactory, path_number: str
) -> None:
    """`/v1/consent/{msisdn}` finds the same subscriber whether the + is there, bare or %2B."""
    client = await _gateway(make_gateway)
    recorded = await client.post("/v1/consent", headers=AUTH, json={
        "msisdn": PHONE, "purpose": "ads", "granted": True, "source": "crm"})  # fmt: skip
    assert recorded.status == 200
    response = await client.get(f"/v1/consent/{path_number}", headers=AUTH)
    assert response.status == 200
    assert (await _json(response))["purposes"]["ads"]["granted"] is True


@pytest.mark.parametrize("path_number", ["0711000222", "abc", "+12345", "%2B%2B254711000222"])
async def test_a_path_that_is_not_a_phone_number_gets_400(
    make_gateway: GatewayFactory, path_number: str
) -> None:
    """A malformed number in the path gets 400 saying it is not E.164."""
    client = await _gateway(make_gateway)
    response = await client.get(f"/v1/consent/{path_number}", headers=AUTH)
    assert response.status == 400
    assert "not an E.164 number" in (await _json(response))["reason"]


@pytest.fixture
def log_stream() -> Iterator[io.BytesIO]:
    stream = io.BytesIO()
    logs.configure("json", "info", stream=stream)
    yield stream
    logs.configure("json", "info")


async def test_one_log_line_per_call_with_the_pseudonym_never_the_number(
    make_gateway: GatewayFactory, log_stream: io.BytesIO
) -> None:
    """Each call logs api_request with the route template and the pseudonym; no number."""
    client = await _gateway(make_gateway)
    await client.get(f"/v1/consent/{PHONE}", headers=AUTH)
    await client.get(f"/v1/consent/{PHONE}")
    logs.flush()
    text = log_stream.getvalue()
    lines = [orjson.loads(line) for line in text.splitlines()]
    calls = [line for line in lines if line["event"] == "api_request"]
    assert [(c["route"], c["status"]) for c in calls] == [
        ("/v1/consent/{msisdn}", 200), ("/v1/consent/{msisdn}", 401)]  # fmt: skip
    assert calls[0]["subscriber"] == pseudonymize(b"test-pseudonym-key", PHONE)
    assert calls[1]["error"] == "unauthorized"
    assert b"711000222" not in text


def test_the_api_token_comes_from_the_environment_and_is_never_printed() -> None:
    """JUMBE_API_TOKEN sets the token; repr(settings) does not show it."""
    settings = from_env({"JUMBE_API_TOKEN": "s3cret-api"})
    assert settings.api.token == "s3cret-api"
    assert "s3cret-api" not in repr(settings)
    assert from_env({}).api.token is None
    assert Settings().api.token is None
