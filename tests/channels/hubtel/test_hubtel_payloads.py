"""Hubtel's USSD callback, driven over HTTP by real-looking request bodies stored under
``payloads/``: one file per case with its label, raw body (and the bodies sent before it),
the expected HTTP status, the expected reply fields and, for Release/Timeout, the stored
end-of-session notification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import GatewayFactory

from gateway.store import keys

PAYLOADS = sorted((Path(__file__).parent / "payloads").glob("*.json"))
JSON = {"Content-Type": "application/json"}


def _cases() -> list[Any]:
    return [pytest.param(json.loads(p.read_text()), id=p.stem) for p in PAYLOADS]


def _settings(case: dict[str, Any]) -> dict[str, Any]:
    return {k: tuple(v) if isinstance(v, list) else v for k, v in case.get("settings", {}).items()}


@pytest.mark.parametrize("case", _cases())
async def test_payload_is_answered_as_recorded(
    case: dict[str, Any], make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Each stored Hubtel body gets the recorded status and JSON reply (and stores its end)."""
    client = await make_gateway(**_settings(case))
    query = case.get("query")
    for earlier in case.get("before", []):
        response = await client.post("/ussd/hubtel", data=earlier, params=query, headers=JSON)
        assert response.status == 200, f"{case['label']}: {await response.text()}"
    response = await client.post("/ussd/hubtel", data=case["body"], params=query, headers=JSON)
    assert response.status == case["status"], case["label"]
    assert response.content_type == "application/json"
    reply = await response.json()
    for field, expected in case["reply"].items():
        assert reply[field] == expected, f"{case['label']}: {field}"
    if "session_end" in case:
        session_id = json.loads(case["body"])["SessionId"]
        stored = redis_client.hgetall(keys.session_end("hubtel", session_id))
        for field, expected in case["session_end"].items():
            assert stored[field.encode()].decode() == expected, f"{case['label']}: {field}"


def test_payload_table_covers_every_kind_of_callback() -> None:
    """The table holds each Type Hubtel sends, refused bodies and refused callers."""
    cases = [json.loads(p.read_text()) for p in PAYLOADS]
    types = set()
    for case in cases:
        try:
            body = json.loads(case["body"])
        except ValueError:
            continue
        if isinstance(body, dict) and isinstance(body.get("Type"), str):
            types.add(body["Type"].lower())
    assert {"initiation", "response", "release", "timeout", "addtocart"} <= types
    assert {case["status"] for case in cases} == {200, 400, 403}
