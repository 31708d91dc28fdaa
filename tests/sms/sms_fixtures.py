"""Fixtures for the SMS tests: the fake Africa's Talking on loopback, an asyncio Redis client.

Imported by the test modules (``from sms_fixtures import ...``); a second ``conftest.py`` would
shadow the top-level one that other tests import by name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
import redis.asyncio
from conftest import ON_CLUSTER, Clock, FakeServer, eventually, fake_at_fixture

from gateway.channels.africastalking.sms import AtSms
from gateway.consent.ledger import ConsentLedger
from gateway.privacy import Pseudonymizer
from gateway.sms.outbox import Outbox
from gateway.sms.worker import Worker, WorkerConfig
from gateway.store.connection import connect

KEY = b"test-pseudonym-key"


@pytest.fixture(name="aredis")
async def aredis_fixture(redis_client: redis.Redis, redis_url: str) -> AsyncIterator[Any]:
    """An asyncio client on the flushed test database."""
    client = connect(redis_url, cluster=ON_CLUSTER, socket_timeout=5.0)
    try:
        yield client
    finally:
        await client.aclose()


@dataclass
class Sms:
    """Outbox, ledger and a worker sharing one clock, sending through the real SDK."""

    outbox: Outbox
    ledger: ConsentLedger
    worker: Worker
    clock: Clock
    pseudonym: Pseudonymizer


@pytest.fixture(name="sms")
def sms_fixture(aredis: Any, fake_at: FakeServer) -> Iterator[Sms]:
    """The SMS domain objects at a fixed clock (2025-03-05 12:00 UTC, a Wednesday)."""
    clock = Clock(1741176000.0)
    pseudonym = Pseudonymizer(KEY)
    ledger = ConsentLedger(aredis, "opt_in", clock=clock)
    outbox = Outbox(aredis, ledger, pseudonym, clock=clock)
    sender = AtSms("sandbox", "test-key", fake_at.url, timeout=2.0)
    config = WorkerConfig(concurrency=4, rate_per_sender=0, max_attempts=3, retry_base=5.0)
    worker = Worker(aredis, sender, ledger, config, name="t1", clock=clock)
    try:
        yield Sms(outbox, ledger, worker, clock, pseudonym)
    finally:
        worker.close()


__all__ = ["Clock", "FakeServer", "eventually", "fake_at_fixture"]
