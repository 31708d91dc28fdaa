"""Crash safety: a worker process killed with SIGKILL mid-way loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from typing import Any

from conftest import ROOT, GatewayFactory
from sms_fixtures import KEY, FakeServer, aredis_fixture, eventually, fake_at_fixture

from gateway.sms.runtime import SMS
from gateway.store import keys

__all__ = ["aredis_fixture", "fake_at_fixture"]

TOTAL = 1000
CONCURRENCY = 16


def _worker(redis_url: str, fake_url: str, name: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JUMBE_AT_BASE_URL": fake_url, "JUMBE_SMS_CLAIM_IDLE": "2",
           "JUMBE_SMS_SEND_TIMEOUT": "1", "JUMBE_SMS_RATE_PER_SENDER": "0",
           "JUMBE_PSEUDONYM_KEY": KEY.decode(), "JUMBE_LOG_FORMAT": "json"}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker", "--redis", redis_url, "--name", name,
         "--concurrency", str(CONCURRENCY)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def _statuses(aredis: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    async for key in aredis.scan_iter(match=keys.SMS_MESSAGE_PATTERN, count=1000):
        status = (await aredis.hget(key, "status")).decode()
        counts[status] = counts.get(status, 0) + 1
    return counts


async def test_sigkill_mid_way_loses_nothing_and_bounds_duplicates(
    make_gateway: GatewayFactory, fake_at: FakeServer, aredis: Any, redis_url: str
) -> None:
    """1,000 receipts, worker SIGKILLed mid-way and replaced: all reach AT and a final status."""
    gateway = await make_gateway(at_base_url=fake_at.url, sms_worker=False)
    fake = fake_at.fake
    fake.callback_url = str(gateway.make_url("/sms/africastalking/delivery"))
    fake.dlr_statuses = ("Success",)
    fake.delay = 0.01
    outbox = gateway.server.app[SMS].outbox
    for i in range(TOTAL):
        await outbox.send(f"+2547{i:08d}", f"Receipt #{i}")

    first = _worker(redis_url, fake_at.url, "crash-1")
    try:
        await eventually(lambda: _received_at_least(fake_at, TOTAL // 3), within=30)
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    at_kill = len(fake.received)
    in_flight = (await _statuses(aredis)).get("sending", 0)
    assert 0 < at_kill < TOTAL, "killed mid-way"
    assert in_flight <= CONCURRENCY

    second = _worker(redis_url, fake_at.url, "crash-2")  # another name: XAUTOCLAIM recovers
    try:
        await eventually(lambda: _unique_at_least(fake_at, TOTAL), within=60)
        async with asyncio.timeout(30):
            await fake.drain()

        async def all_final() -> bool:
            return (await _statuses(aredis)) == {"delivered": TOTAL}

        await eventually(all_final, within=30)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=20) == 0
    counts = fake.counts()
    assert set(counts) == {f"Receipt #{i}" for i in range(TOTAL)}
    duplicates = sum(counts.values()) - TOTAL
    assert duplicates <= in_flight, (duplicates, in_flight)


async def _received_at_least(fake_at: FakeServer, n: int) -> bool:
    return len(fake_at.fake.received) >= n


async def _unique_at_least(fake_at: FakeServer, n: int) -> bool:
    return len(fake_at.fake.counts()) >= n


async def test_worker_recovers_its_queue_after_redis_loses_its_data(
    make_gateway: GatewayFactory, fake_at: FakeServer, aredis: Any
) -> None:
    """Redis loses everything (FLUSHALL) under a running worker: the worker recreates its
    consumer group and the next message is delivered (it logged NOGROUP forever before)."""
    client = await make_gateway(at_base_url=fake_at.url, sms_rate_per_sender=0,
                                sms_send_timeout=2.0)  # fmt: skip
    outbox = client.server.app[SMS].outbox
    await outbox.send("+254711000333", "Before the loss")
    await eventually(lambda: _received(fake_at, 1))
    await aredis.flushall()
    await asyncio.sleep(0.5)  # the worker hits NOGROUP at least once
    await outbox.send("+254711000333", "After the loss")
    await eventually(lambda: _received(fake_at, 2))
    assert fake_at.fake.received[-1].message == "After the loss"


async def _received(fake_at: FakeServer, n: int) -> bool:
    return len(fake_at.fake.received) >= n
