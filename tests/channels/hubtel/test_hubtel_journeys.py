"""Whole journeys over Hubtel, against the real app and a real Redis: the benchmark menu
answers as it does over Africa's Talking, retries and Releases are handled once."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import redis
import structlog
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory, RedisProcess, hop, journey

from gateway import logs
from gateway.menu.state import SessionState
from gateway.privacy import pseudonymize
from gateway.store import keys

MOBILE = "233244000111"
ERROR = "Sorry, something went wrong. Please try again later."


async def hubtel(
    client: TestClient[Any, Any],
    type_: str,
    message: str = "",
    sequence: int = 1,
    session_id: str = "hub1",
    service_code: str = "384*123",
) -> tuple[int, dict[str, Any]]:
    """POST one Hubtel callback; (status, reply JSON)."""
    response = await client.post("/ussd/hubtel", json={
        "Type": type_, "Message": message, "ServiceCode": service_code, "Operator": "mtn",
        "ClientState": "", "Mobile": MOBILE, "SessionId": session_id, "Sequence": sequence,
    })  # fmt: skip
    return response.status, await response.json()


async def hubtel_journey(
    client: TestClient[Any, Any], inputs: list[str], session_id: str = "hub1"
) -> list[tuple[str, str]]:
    """Dial *384*123#, then send each input as the next Sequence; (Type, Message) in order."""
    replies = []
    for sequence, (type_, message) in enumerate(
        [("Initiation", "*384*123#")] + [("Response", text) for text in inputs], start=1
    ):
        status, reply = await hubtel(client, type_, message, sequence, session_id)
        assert status == 200, reply
        replies.append((reply["Type"], reply["Message"]))
    return replies


def as_at_would(bodies: list[str]) -> list[tuple[str, str]]:
    """AT's ``CON x``/``END x`` bodies in Hubtel's terms."""
    return [("Release" if b.startswith("END ") else "Response", b[4:]) for b in bodies]


def stored(redis_client: redis.Redis, session_id: str, provider: str = "hubtel") -> SessionState:
    raw = redis_client.get(keys.session(provider, session_id))
    assert isinstance(raw, bytes)
    return SessionState.decode(raw)


async def test_benchmark_journey_answers_as_over_africastalking(
    make_gateway: GatewayFactory,
) -> None:
    """First screen, invalid re-ask, advance, and the last screen as a Release: same as AT."""
    client = await make_gateway()
    inputs = ["2", "9", "4", "great"]
    over_hubtel = await hubtel_journey(client, inputs)
    assert over_hubtel == as_at_would(await journey(client, inputs))
    assert over_hubtel == [
        ("Response", "Welcome\n1. Balance\n2. Survey\n3. Rewards"),
        ("Response", "Rate us 1-5"),
        ("Response", "Rate us 1-5"),
        ("Response", "Any comment?"),
        ("Release", "Thanks"),
    ]


async def test_retried_sequence_is_answered_the_same_without_advancing(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Hubtel resending Sequence 3 gets 'Any comment?' again; the session moved once."""
    client = await make_gateway()
    await hubtel_journey(client, ["2", "4"])
    before = stored(redis_client, "hub1")
    assert await hubtel(client, "Response", "4", 3) == (200, {
        "SessionId": "hub1", "Type": "Response", "Message": "Any comment?",
        "Label": "Any comment?", "DataType": "input", "FieldType": "text", "ClientState": "",
    })  # fmt: skip
    after = stored(redis_client, "hub1")
    assert (after.rev, after.hops, after.state) == (before.rev, before.hops, "comment")
    _, reply = await hubtel(client, "Response", "great", 4)
    assert (reply["Type"], reply["Message"]) == ("Release", "Thanks")
    assert stored(redis_client, "hub1").vars == {"rating": 4, "comment": "great"}


async def test_concurrent_copies_of_one_sequence_are_applied_once(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Ten copies of Sequence 2 arriving together: one transition, ten identical replies."""
    client = await make_gateway()
    await hubtel(client, "Initiation", "*384*123#", 1)
    replies = await asyncio.gather(*(hubtel(client, "Response", "2", 2) for _ in range(10)))
    assert {(s, r["Message"]) for s, r in replies} == {(200, "Rate us 1-5")}
    assert stored(redis_client, "hub1").hops == 2


async def test_retried_initiation_after_the_journey_moved_on_changes_nothing(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """A late copy of the Initiation shows the current screen instead of restarting it."""
    client = await make_gateway()
    await hubtel_journey(client, ["2"])
    rev = stored(redis_client, "hub1").rev
    _, reply = await hubtel(client, "Initiation", "*384*123#", 1)
    assert reply["Message"] == "Rate us 1-5"
    assert stored(redis_client, "hub1").rev == rev


async def test_release_stores_the_session_end_once(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """Release mid-survey: answered with the last screen, stored once as incomplete."""
    client = await make_gateway()
    await hubtel_journey(client, ["2"])
    for type_ in ("Release", "Release", "Timeout"):
        status, reply = await hubtel(client, type_, "", 3)
        assert (status, reply["Type"], reply["Message"]) == (200, "Release", "Rate us 1-5")
    end = redis_client.hgetall(keys.session_end("hubtel", "hub1"))
    assert end[b"status"] == b"incomplete"
    assert end[b"hops"] == b"2"
    assert end[b"subscriber"] == pseudonymize(b"test-pseudonym-key", "+" + MOBILE).encode()
    shard = keys.ussd_ends_shard("hubtel", "hub1")
    assert redis_client.xlen(keys.ussd_ends_stream(shard)) == 1


async def test_malformed_body_mid_journey_is_refused_and_the_session_goes_on(
    make_gateway: GatewayFactory,
) -> None:
    """A body that is not JSON gets 400 with a reason; the next good hop continues."""
    client = await make_gateway()
    await hubtel_journey(client, ["2"])
    response = await client.post("/ussd/hubtel", data=b'{"Type": "Response", "Message": "4"')
    assert response.status == 400
    assert (await response.json())["reason"] == "body is not JSON"
    _, reply = await hubtel(client, "Response", "4", 3)
    assert reply["Message"] == "Any comment?"


async def test_hubtel_and_africastalking_sessions_with_one_id_do_not_collide(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """The same session id over both aggregators: two sessions, each on its own screen."""
    client = await make_gateway()
    await hop(client, "", session_id="same1")
    await hubtel(client, "Initiation", "*384*123#", 1, session_id="same1")
    status, body = await hop(client, "1", session_id="same1")
    assert (status, body) == (200, "END Your balance is KES 0")
    _, reply = await hubtel(client, "Response", "2", 2, session_id="same1")
    assert (reply["Type"], reply["Message"]) == ("Response", "Rate us 1-5")
    assert stored(redis_client, "same1", "africastalking").ended
    assert stored(redis_client, "same1", "hubtel").state == "rate"


async def test_store_down_gives_a_readable_release_and_a_503_for_the_end(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """With Redis gone a hop reads a Release with the error; a Release gets 503 (not stored)."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=2.0)
    await hubtel(client, "Initiation", "*384*123#", 1)
    own_redis.stop()
    status, reply = await hubtel(client, "Response", "2", 2)
    assert (status, reply["Type"], reply["Message"]) == (200, "Release", ERROR)
    status, reply = await hubtel(client, "Release", "", 3)
    assert (status, reply["Type"], reply["Message"]) == (503, "Release", ERROR)
    own_redis.start()
    assert (await hubtel(client, "Response", "2", 2))[1]["Message"] == "Rate us 1-5"


@pytest.fixture
def log_stream() -> Iterator[io.BytesIO]:
    """The JSON log lines written during the test. No logger is cached meanwhile, and the
    previous setup comes back afterwards: a logger cached while a test's stream is configured
    would keep writing there, hiding its lines from later tests that capture logs."""
    saved, writer = structlog.get_config(), logs._state["writer"]
    stream = io.BytesIO()
    logs.configure("json", "info", stream=stream)
    structlog.configure(cache_logger_on_first_use=False)
    yield stream
    structlog.configure(**saved)
    logs._state["writer"] = writer


async def test_logs_carry_a_pseudonym_and_never_the_number(
    make_gateway: GatewayFactory, log_stream: io.BytesIO
) -> None:
    """Each Hubtel hop logs one ussd_hop line and the Release one ussd_session_end, no number."""
    client = await make_gateway()
    await hubtel_journey(client, ["2"])
    await hubtel(client, "Release", "", 3)
    logs.flush()
    lines = [orjson.loads(line) for line in log_stream.getvalue().splitlines()]
    hops = [line for line in lines if line["event"] == "ussd_hop"]
    assert [(h["channel"], h["outcome"]) for h in hops] == [
        ("hubtel", "new"),
        ("hubtel", "continue"),
    ]
    (end,) = [line for line in lines if line["event"] == "ussd_session_end"]
    assert (end["status"], end["hops"]) == ("incomplete", 2)
    assert end["subscriber"] == pseudonymize(b"test-pseudonym-key", "+" + MOBILE)
    assert MOBILE.encode() not in log_stream.getvalue()
