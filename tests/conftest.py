"""Shared fixtures: a real Redis (embedded, ``REDIS_URL``, or with ``JUMBE_TEST_CLUSTER=1`` a
real three-master Redis Cluster started here) and the real app over HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer

from gateway.config import Settings
from gateway.devtools.fake_at import FakeAT
from gateway.http.app import create_app
from gateway.store.connection import connect, detect_cluster
from gateway.store.embedded import EmbeddedRedis, redis_server_binary
from gateway.store.meta import open_data

ROOT = Path(__file__).resolve().parent.parent
MENUS = ROOT / "menus"
PHONE = "+254700000001"

GatewayFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


ON_CLUSTER = os.environ.get("JUMBE_TEST_CLUSTER") == "1"
"""Run the suite against a Redis Cluster (``.ci/run`` runs it both ways)."""


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``REDIS_URL`` when set, a Cluster with ``JUMBE_TEST_CLUSTER=1``, else an embedded
    redis-server, for the whole test session."""
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    if ON_CLUSTER:
        from cluster import running_cluster

        yield from (c.url for c in running_cluster(tmp_path_factory.mktemp("cluster")))
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis.Redis]:
    """A sync client on a database flushed before each test (on a Cluster, a cluster client,
    every master flushed)."""
    client: Any = (redis.RedisCluster if ON_CLUSTER else redis.Redis).from_url(redis_url)
    client.flushdb(**({"target_nodes": redis.RedisCluster.PRIMARIES} if ON_CLUSTER else {}))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture(name="aredis")
async def aredis_fixture(redis_client: redis.Redis, redis_url: str) -> AsyncIterator[Any]:
    """An asyncio client (the gateway's own, errors translated) on the flushed test database."""
    client = connect(redis_url, cluster=ON_CLUSTER, socket_timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


def settings_for(redis_url: str, **overrides: Any) -> Settings:
    base = Settings(
        menus_dir=MENUS, redis_url=redis_url, pseudonym_key=b"test-pseudonym-key", log_format="json"
    )
    return base.with_overrides(**overrides)


@pytest.fixture
async def make_gateway(redis_client: redis.Redis, redis_url: str) -> AsyncIterator[GatewayFactory]:
    """Start the real app on a real port; ``await make_gateway(**settings_overrides)``.

    Like ``serve``, it first initialises the data's metadata (``prepare_data=False`` skips
    that, for tests whose "Redis" is a fake that never answers)."""
    clients: list[TestClient[Any, Any]] = []

    async def start(*, prepare_data: bool = True, **overrides: Any) -> TestClient[Any, Any]:
        settings = settings_for(overrides.pop("redis_url", redis_url), **overrides)
        assert settings.redis_url is not None
        if prepare_data:  # what `serve` does before it listens (not with a fake Redis)
            cluster = detect_cluster(settings.redis_url)
            settings = replace(settings, redis_cluster=cluster)
            store: Any = (redis.RedisCluster if cluster else redis.Redis).from_url(
                settings.redis_url
            )
            with store:
                open_data(store, settings.pseudonym_key)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings)))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def hop(
    client: TestClient[Any, Any],
    text: str,
    session_id: str = "ATUid_s1",
    service_code: str = "*384*123#",
    phone: str = PHONE,
    token: str | None = None,
) -> tuple[int, str]:
    """POST one Africa's Talking hop; (status, body)."""
    params = {"token": token} if token is not None else None
    response = await client.post("/ussd/africastalking", params=params, data={
        "sessionId": session_id, "serviceCode": service_code, "phoneNumber": phone,
        "networkCode": "63902", "text": text,
    })  # fmt: skip
    return response.status, await response.text()


async def journey(client: TestClient[Any, Any], inputs: list[str], **kwargs: Any) -> list[str]:
    """Replay inputs the way AT sends them (cumulative ``text``); the bodies in order."""
    bodies = []
    for i in range(len(inputs) + 1):
        status, body = await hop(client, "*".join(inputs[:i]), **kwargs)
        assert status == 200, body
        bodies.append(body)
    return bodies


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A redis-server on a TCP port that a test can stop and start again."""

    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                redis_server_binary(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.data_dir),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(200):
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.02)
        raise RuntimeError("redis did not start")

    def stop(self) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=10)

    def pause(self) -> None:
        """SIGSTOP: Redis accepts connections and commands but answers nothing (a stall)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT: Redis works through what arrived meanwhile."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    """A redis-server of this test's own, to stop, pause or kill."""
    server = RedisProcess(tmp_path)
    server.start()
    yield server
    if server.process and server.process.poll() is None:
        server.resume()
        server.stop()


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Poll ``check`` (without blocking the event loop) until true; fail after ``within`` s."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)


@dataclass
class FakeServer:
    """The fake Africa's Talking serving on loopback (``url``: where the SDK is pointed)."""

    fake: FakeAT
    url: str


@pytest.fixture(name="fake_at")
async def fake_at_fixture() -> AsyncIterator[FakeServer]:
    """A fake Africa's Talking on 127.0.0.1; the SDK is pointed at ``url``."""
    fake = FakeAT()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield FakeServer(fake, str(server.make_url("")).rstrip("/"))
    finally:
        await server.close()


class Clock:
    """An injectable clock: ``clock()`` is the time, ``clock.now = …`` moves it."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
