"""Failure is always an answer: Redis down, menu errors, bad requests, bad tokens."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import redis
from conftest import ON_CLUSTER, GatewayFactory, RedisProcess, hop

from gateway.errors import StoreUnavailable
from gateway.store import keys
from gateway.store.pipelined import PipelinedRedis

ERROR_EN = "END Sorry, something went wrong. Please try again later."


async def test_redis_stopped_mid_journey(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """With Redis gone the subscriber reads an END; when it is back, sessions resume."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=2.0)
    assert (await hop(client, ""))[1].startswith("CON Welcome")
    own_redis.stop()
    assert await hop(client, "2") == (200, ERROR_EN)
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert "redis" in await ready.json()
    own_redis.start()
    # The append-only file kept the session: the subscriber's retry of the hop goes on.
    assert await hop(client, "2") == (200, "CON Rate us 1-5")
    assert (await client.get("/readyz")).status == 200


async def test_unresponsive_redis_costs_one_connect_attempt_per_burst(
    make_gateway: GatewayFactory,
) -> None:
    """Twenty hops during an outage share one connect attempt; each still gets an END."""
    connections: list[asyncio.StreamWriter] = []
    hop_path_attempts: list[bytes] = []

    async def accept_and_ignore(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)  # accepts, never answers: a hung Redis
        first = await reader.read(1024)
        if first == b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n":  # the hop-path client's handshake
            hop_path_attempts.append(first)

    server = await asyncio.start_server(accept_and_ignore, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = await make_gateway(
            redis_url=f"redis://:pw@127.0.0.1:{port}", hop_deadline=0.5, prepare_data=False
        )
        replies = await asyncio.gather(*(hop(client, "", session_id=f"down{i}") for i in range(20)))
        assert set(replies) == {(200, ERROR_EN)}
        assert len(hop_path_attempts) == 1
    finally:
        for writer in connections:
            writer.close()
        server.close()


async def test_connection_dropped_right_after_connect_still_gets_an_end(
    make_gateway: GatewayFactory,
) -> None:
    """Redis accepts the login, then drops the connection (a restart, CLIENT KILL, a proxy):
    hops waiting on that connect get an END within the deadline instead of hanging."""

    async def login_then_drop(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        writer.write(b"+OK\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(login_then_drop, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        client = await make_gateway(
            redis_url=f"redis://:pw@127.0.0.1:{port}", hop_deadline=0.5, prepare_data=False
        )
        burst = asyncio.gather(*(hop(client, "", session_id=f"drop{i}") for i in range(5)))
        replies = await asyncio.wait_for(burst, timeout=10)
        assert set(replies) == {(200, ERROR_EN)}
    finally:
        server.close()


async def test_shutdown_during_a_slow_login_leaves_no_connection_open() -> None:
    """A gateway stopping while Redis is slow to answer the login closes that connection."""
    login_seen, answer_login, closed_by_client = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_login(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        login_seen.set()
        await answer_login.wait()
        writer.write(b"+OK\r\n")
        await writer.drain()
        if await reader.read(1024) == b"":
            closed_by_client.set()
        writer.close()

    server = await asyncio.start_server(slow_login, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PipelinedRedis(f"redis://:pw@127.0.0.1:{port}", timeout=5)
    try:
        command = asyncio.ensure_future(client.execute(b"GET", b"k"))
        await asyncio.wait_for(login_seen.wait(), 5)
        await client.close()
        answer_login.set()
        with pytest.raises(StoreUnavailable, match="closed"):
            await asyncio.wait_for(command, 5)
        await asyncio.wait_for(closed_by_client.wait(), 5)
    finally:
        server.close()


@pytest.mark.skipif(ON_CLUSTER, reason="the one-Redis client (the Cluster's gathers its nodes')")
async def test_nothing_sent_together_is_answered_at_once(redis_url: str) -> None:
    """``run_together`` of no calls answers an empty list: it used to wait for a reply that
    could never come (a lifecycle batch emptied by an erasure then hung the shutdown)."""
    client = PipelinedRedis(redis_url)
    try:
        assert await asyncio.wait_for(client.run_together([]), 5) == []
        assert await client.run_together([(b"PING",)]) == [b"PONG"]
    finally:
        await client.close()


async def test_runtime_menu_error_gives_readable_end(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A router with no matching route ends the session politely, in the menu's language."""
    (tmp_path / "broken.yaml").write_text(
        "id: broken\nservice_codes: ['*500#']\nlanguages: [sw, en]\nstart: main\n"
        "screens:\n"
        "  main:\n    menu:\n      text: {sw: Chagua, en: Choose}\n"
        "      options: [{label: {sw: Moja, en: One}, next: route}]\n"
        "  route:\n    router:\n      - {if: 'missing == 1', next: done}\n"
        "  done:\n    end: {sw: Asante, en: Thanks}\n"
    )
    client = await make_gateway(menus_dir=tmp_path)
    await hop(client, "", service_code="*500#")
    status, body = await hop(client, "1", service_code="*500#")
    assert (status, body) == (200, "END Samahani, kuna hitilafu. Tafadhali jaribu tena baadaye.")


def write_two_versions(tmp_path: Path, extra: str = "") -> tuple[Path, Path]:
    """The same menu before and after a deploy that renamed its ``ask`` screen."""
    old, new = tmp_path / "old", tmp_path / "new"
    menu = (
        "id: shop\nservice_codes: ['*501#']\nstart: main\n%sscreens:\n"
        "  main:\n    menu:\n      text: Choose\n      options: [{label: One, next: %s}]\n"
        "  %s:\n    input: {text: 'Name?', save: name, next: done}\n"
        "  done:\n    end: Thanks {name}\n"
    )
    for folder, screen in ((old, "ask"), (new, "ask_name")):
        folder.mkdir()
        (folder / "shop.yaml").write_text(menu % (extra, screen, screen))
    return old, new


async def test_session_on_a_version_no_longer_loaded_ends_politely(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A session whose screen vanished with its menu version (a restart) gets a readable END."""
    old, new = write_two_versions(tmp_path)
    before = await make_gateway(menus_dir=old)
    after = await make_gateway(menus_dir=new)
    await hop(before, "", service_code="*501#", session_id="gone")
    assert (await hop(before, "1", service_code="*501#", session_id="gone"))[
        1
    ] == "CON Name?\n0. Back"
    status, body = await hop(after, "1*Ann", service_code="*501#", session_id="gone")
    assert (status, body) == (200, ERROR_EN)


async def test_resume_accepted_on_a_gateway_without_the_old_version_starts_afresh(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A resume offer made by a gateway on the old menu and accepted on one that only has the
    new menu (a rolling deploy) starts the new menu instead of failing."""
    old, new = write_two_versions(tmp_path, extra="resume: {policy: confirm, within: 10m}\n")
    before = await make_gateway(menus_dir=old)
    after = await make_gateway(menus_dir=new)
    await hop(before, "", service_code="*501#", session_id="dropped")
    await hop(before, "1", service_code="*501#", session_id="dropped")
    _, offer = await hop(before, "", service_code="*501#", session_id="redial")
    assert offer.startswith("CON Continue where you left off?")
    status, body = await hop(after, "1", service_code="*501#", session_id="redial")
    assert (status, body) == (200, "CON Choose\n1. One")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("", "missing field sessionId"),
        ("sessionId=a&serviceCode=%2A384%23&text=", "missing field phoneNumber"),
        ("sessionId=a&phoneNumber=%2B254700000001&text=", "missing field serviceCode"),
        ("sessionId=a&serviceCode=%2A384%23&phoneNumber=07-not&text=", "not a phone number"),
    ],
)
async def test_malformed_body_gets_400_with_reason(
    make_gateway: GatewayFactory, body: str, reason: str
) -> None:
    """A malformed callback is refused with 400 and a readable END naming the problem."""
    client = await make_gateway()
    response = await client.post(
        "/ussd/africastalking",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    text = await response.text()
    assert response.status == 400
    assert text.startswith("END Bad request:") and reason in text


async def test_callback_token_is_required_when_configured(make_gateway: GatewayFactory) -> None:
    """With JUMBE_CALLBACK_TOKEN set, a missing or wrong token gets 403; the right one works."""
    client = await make_gateway(callback_token="s3cret")
    assert (await hop(client, ""))[0] == 403
    assert (await hop(client, "", token="wrong"))[0] == 403
    status, body = await hop(client, "", token="s3cret")
    assert status == 200 and body.startswith("CON Welcome")


async def test_ip_allow_list(make_gateway: GatewayFactory) -> None:
    """Only listed source addresses may call back."""
    client = await make_gateway(allowed_ips=("10.9.9.9",))
    status, body = await hop(client, "")
    assert status == 403 and "not allowed" in body


async def test_oversized_body_is_refused(make_gateway: GatewayFactory) -> None:
    """A body over 64 KiB is refused with 413, and the gateway keeps serving."""
    client = await make_gateway()
    response = await client.post(
        "/ussd/africastalking",
        data=b"x" * 70_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 413
    assert (await hop(client, ""))[0] == 200


async def test_session_end_notification_is_stored(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    """AT's end-of-session callback is kept (30 days) and streamed, without the raw number."""
    client = await make_gateway()
    response = await client.post("/ussd/africastalking/events", data={
        "sessionId": "ATUid_e1", "serviceCode": "*384*123#", "networkCode": "63902",
        "phoneNumber": "+254711000111", "status": "Incomplete", "durationInMillis": "31000",
        "hopsCount": "2", "date": "2026-11-23 10:00:00",
        "lastAppResponse": "CON Send airtime to 0722333444?\n1. Yes",
        "errorMessage": "subscriber +254711000111 timed out",
    })  # fmt: skip
    assert response.status == 200
    key = keys.session_end("africastalking", "ATUid_e1")
    stream = keys.ussd_ends_stream(keys.ussd_ends_shard("africastalking", "ATUid_e1"))
    stored = redis_client.hgetall(key)
    assert stored[b"status"] == b"incomplete"
    assert stored[b"duration_ms"] == b"31000"
    assert 0 < redis_client.ttl(key) <= 30 * 24 * 3600
    assert redis_client.xlen(stream) == 1
    assert stored[b"last_response"] == b"CON Send airtime to <redacted>?\n1. Yes"
    dump = repr(stored) + repr(redis_client.xrange(stream))
    assert "254711000111" not in dump and "0722333444" not in dump


async def test_events_refused_while_redis_down(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """If the notification cannot be stored, AT gets 503 so it retries; nothing is lost."""
    client = await make_gateway(redis_url=own_redis.url)
    own_redis.stop()
    response = await client.post(
        "/ussd/africastalking/events",
        data={"sessionId": "ATUid_e2", "phoneNumber": "+254711000111", "status": "Success"},
    )
    assert response.status == 503
    await asyncio.sleep(0)


async def test_store_failure_speaks_the_subscribers_language(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """A subscriber who chose Kiswahili hears the outage in Kiswahili."""
    client = await make_gateway(redis_url=own_redis.url, hop_deadline=2.0)
    for text in ("", "4", "4*2"):
        await hop(client, text, service_code="*384#")
    own_redis.stop()
    _, body = await hop(client, "4*2*1", service_code="*384#")
    assert body == "END Samahani, kuna hitilafu. Tafadhali jaribu tena baadaye."
