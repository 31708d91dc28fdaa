"""Fixtures for the rewards tests: the ledger on the real test Redis at an injectable clock, and
a gateway with the fake Africa's Talking (SMS and airtime) on loopback.

Imported by the test modules (``from rewards_fixtures import ...``), like ``sms_fixtures``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from conftest import GatewayFactory, eventually

from gateway.devtools.fake_at import FakeAT
from gateway.jobs.queue import JobQueue
from gateway.privacy import Pseudonymizer
from gateway.rewards.catalog import Airtime, Catalog, Catalogs, Item, Voucher
from gateway.rewards.ledger import Ledger
from gateway.rewards.runtime import REWARDS
from gateway.rewards.service import QUEUE, Policy, Rewards

KEY = b"test-pseudonym-key"
TOKEN = "rewards-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
KE = "+254711000111"
JAN_15_2026 = 1768478400.0
"""2026-01-15 12:00 UTC (15:00 in Nairobi)."""


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def catalog() -> Catalogs:
    items = (
        Item("air50", "rewards", {"en": "KES 50 airtime"}, 100, Airtime(50.0, "KES")),
        Item("air20", "rewards", {"en": "KES 20 airtime"}, 40, Airtime(20.0, "KES")),
        Item("ng100", "rewards", {"en": "NGN 100 airtime"}, 10, Airtime(100.0, "NGN")),
        Item("coffee", "rewards", {"en": "Coffee voucher"}, 30, Voucher(("C-1", "C-2"))),
    )
    return Catalogs([Catalog("rewards", items)])


@dataclass
class Domain:
    rewards: Rewards
    ledger: Ledger
    clock: Clock
    pseudonym: Pseudonymizer


@pytest.fixture(name="domain")
def domain_fixture(aredis: Any) -> Domain:
    """The rewards service on the flushed test Redis at a fixed clock (no worker running)."""
    clock = Clock(JAN_15_2026)
    ledger = Ledger(aredis, clock)
    pseudonym = Pseudonymizer(KEY)
    queue = JobQueue(aredis, QUEUE, 4, clock)
    rewards = Rewards(ledger, catalog(), pseudonym, queue, Policy())
    return Domain(rewards, ledger, clock, pseudonym)


@dataclass
class Stack:
    """A real gateway (HTTP) and the fake AT it sends SMS and airtime through."""

    client: TestClient[Any, Any]
    fake: FakeAT

    async def earn(self, number: str, points: int, source_id: str, source: str = "pos") -> Any:
        body = {"msisdn": number, "points": points, "source": source, "source_id": source_id}
        response = await self.client.post("/v1/rewards/earn", headers=AUTH, json=body)
        return response.status, await response.json()

    async def redeem(self, number: str, item: str, **extra: Any) -> tuple[int, Any]:
        body = {"msisdn": number, "item": item, **extra}
        response = await self.client.post("/v1/rewards/redeem", headers=AUTH, json=body)
        return response.status, await response.json()

    async def account(self, number: str) -> Any:
        response = await self.client.get(f"/v1/rewards/{number}", headers=AUTH)
        assert response.status == 200, await response.text()
        return await response.json()

    async def until(self, number: str, redemption: str, state: str, within: float = 15) -> None:
        """Wait until the redemption is in ``state``; failing after ``within`` seconds, say what
        the redemption and the fake AT looked like."""

        async def reached() -> bool:
            return await self.state(number, redemption) == state

        try:
            await eventually(reached, within)
        except AssertionError:
            rewards = self.client.server.app[REWARDS]
            record = await rewards.ledger.redemption(rewards.pseudonym(number), redemption)
            seen = {k: v for k, v in (record or {}).items() if k != "phone"}
            raise AssertionError(
                f"{redemption} not {state} within {within}s: {seen}; AT saw "
                f"{self.fake.airtime_requests}, posted "
                f"{self.fake.airtime_callbacks} callback(s); queue "
                f"{await rewards.queue.depth()}"
            ) from None

    async def recorded_request(self, number: str, redemption: str) -> str:
        """The AT request id recorded on a redemption ("" while none is)."""
        rewards = self.client.server.app[REWARDS]
        record = await rewards.ledger.redemption(rewards.pseudonym(number), redemption)
        return (record or {}).get("request_id", "")

    async def callback(self, number: str, request_id: str, status: str = "Success") -> int:
        """POST AT's airtime status callback; the HTTP status."""
        form = {"requestId": request_id, "status": status, "phoneNumber": number,
                "value": "KES 50.0000"}  # fmt: skip
        response = await self.client.post("/airtime/africastalking/status", data=form)
        return response.status

    async def state(self, number: str, redemption: str) -> str:
        found = [r for r in (await self.account(number))["redemptions"]
                 if r["redemption"] == redemption]  # fmt: skip
        return str(found[0]["state"]) if found else ""


@pytest.fixture(name="fake_at")
async def fake_at_fixture() -> AsyncIterator[tuple[FakeAT, str]]:
    fake = FakeAT()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    try:
        yield fake, str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@pytest.fixture(name="stack")
async def stack_fixture(
    make_gateway: GatewayFactory, fake_at: tuple[FakeAT, str]
) -> AsyncIterator[Any]:
    """``await stack(**settings)``: a gateway whose AT is the fake, airtime callbacks wired."""
    fake, url = fake_at

    async def start(**overrides: Any) -> Stack:
        client = await make_gateway(api_token=TOKEN, at_base_url=url, at_api_key="k",
                                    **overrides)  # fmt: skip
        fake.airtime_callback_url = str(client.make_url("/airtime/africastalking/status"))
        return Stack(client, fake)

    yield start
