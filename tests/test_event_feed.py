"""The event feed over real HTTP: a brand CRM on loopback receives signed JSON events in order
per subscriber, at least once with the same id, through failures and a gateway restart."""

from __future__ import annotations

import hashlib
import hmac
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
import redis
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import ROOT, FakeServer, GatewayFactory, eventually, hop

from gateway.appkeys import PSEUDONYM as PSEUDONYM_KEY
from gateway.config import from_env
from gateway.errors import ConfigError
from gateway.feed.events import stable_event_id
from gateway.store import keys

TOKEN = "feed-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "crm-shared-secret-0123"
ALICE, BOB = "+254711000301", "+254711000302"


@dataclass
class Crm:
    """A brand's CRM endpoint: keeps what it accepted; answers 500 while ``failing`` > 0."""

    url: str = ""
    accepted: list[dict[str, Any]] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    failing: int = 0
    bad_signatures: int = 0

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        if request.headers.get("X-Jumbe-Signature") != expected:
            self.bad_signatures += 1
            return web.Response(status=401)
        event = orjson.loads(body)
        if self.failing > 0:
            self.failing -= 1
            self.refused.append(event["id"])
            return web.Response(status=500)
        self.accepted.append(event)
        return web.Response(text="ok")

    def of(self, msisdn: str) -> list[dict[str, Any]]:
        return [event for event in self.accepted if event["msisdn"] == msisdn]


@pytest.fixture
async def crm() -> AsyncIterator[Crm]:
    found = Crm()
    app = web.Application()
    app.router.add_post("/events", found.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    found.url = str(server.make_url("/events"))
    try:
        yield found
    finally:
        await server.close()


async def _gateway(
    make_gateway: GatewayFactory, crm: Crm, **overrides: Any
) -> TestClient[Any, Any]:
    return await make_gateway(api_token=TOKEN, sms_worker=False, feed_url=crm.url,
                              feed_secret=SECRET, feed_retry_base=0.05, **overrides)  # fmt: skip


async def _consent(client: TestClient[Any, Any], msisdn: str, granted: bool, source: str) -> None:
    body = {"msisdn": msisdn, "purpose": "promo_sms", "granted": granted, "source": source}
    assert (await client.post("/v1/consent", json=body, headers=AUTH)).status == 200


async def _stop(client: TestClient[Any, Any], msisdn: str, at_id: str) -> None:
    response = await client.post("/sms/africastalking/inbound", data={
        "from": msisdn, "to": "22384", "text": "STOP", "id": at_id,
        "date": "2026-11-30 08:00:00", "networkCode": "63902", "linkId": "",
    })  # fmt: skip
    assert response.status == 200


async def _complete_nps(client: TestClient[Any, Any], msisdn: str, session: str) -> None:
    for text in ("", "1", "1*9", "1*9*Fast service", "1*9*Fast service*1"):
        status, body = await hop(client, text, session_id=session, service_code="*384*77#",
                                 phone=msisdn)  # fmt: skip
        assert status == 200
        if body.startswith("END"):
            return
    raise AssertionError(f"the survey did not end: {body}")


async def test_events_arrive_signed_in_order_per_subscriber(
    make_gateway: GatewayFactory, crm: Crm
) -> None:
    """Consent granted, a survey completed, then STOP: the CRM gets consent.changed,
    survey.completed and consent.changed for that number in that order, each signed, with the
    number and unique ids, even though its first three answers were errors (retried with the
    same ids)."""
    crm.failing = 3
    client = await _gateway(make_gateway, crm)
    await _consent(client, ALICE, True, "web")
    await _complete_nps(client, ALICE, "f1")
    await _stop(client, ALICE, "in-stop-1")
    await _consent(client, BOB, True, "web")

    async def all_arrived() -> bool:
        return len(crm.of(ALICE)) == 3 and len(crm.of(BOB)) == 1

    await eventually(all_arrived, within=20)
    alice = crm.of(ALICE)
    assert [e["type"] for e in alice] == ["consent.changed", "survey.completed", "consent.changed"]
    assert alice[0]["data"]["granted"] is True and alice[2]["data"]["granted"] is False
    assert alice[2]["data"]["source"] == "keyword:STOP"
    assert alice[1]["data"] == {"survey": "nps", "channel": "ussd"}
    # A completion has one id whoever publishes it, however often (the CRM dedupes on it).
    pseudonym = client.server.app[PSEUDONYM_KEY](ALICE)
    assert alice[1]["id"] == stable_event_id("survey.completed", "nps", pseudonym)
    assert len({e["id"] for e in crm.accepted}) == len(crm.accepted)
    assert set(crm.refused) <= {e["id"] for e in crm.accepted}  # retried with the same id
    assert crm.bad_signatures == 0
    assert all(e["at"].endswith("Z") for e in crm.accepted)


async def test_events_wait_out_a_restart(
    make_gateway: GatewayFactory, crm: Crm, redis_client: redis.Redis
) -> None:
    """Events published while the CRM is down are kept; after the gateway restarts (a new
    process on the same Redis) they are delivered, in order."""
    crm.failing = 1_000_000
    first = await _gateway(make_gateway, crm)
    for n in range(3):
        await _consent(first, ALICE, n % 2 == 0, f"web-{n}")

    async def tried() -> bool:
        return len(crm.refused) >= 3

    await eventually(tried)
    await first.close()
    pending = keys.feed_pending(first.server.app[PSEUDONYM_KEY](ALICE))
    assert redis_client.llen(pending) == 3
    assert 29 * 86400 < redis_client.ttl(pending) <= 30 * 86400  # JUMBE_RETENTION_EVENTS_DAYS
    crm.failing = 0
    second = await _gateway(make_gateway, crm)

    async def delivered() -> bool:
        return len({e["id"] for e in crm.of(ALICE)}) == 3

    # Retries back off (from 0.05 s here, doubling): on a loaded machine the first gateway may
    # have retried a few times, so the next try can be seconds away.
    await eventually(delivered, within=60)
    firsts = list(dict.fromkeys((e["id"], e["data"]["source"]) for e in crm.of(ALICE)))
    assert [source for _, source in firsts] == [
        "web-0",
        "web-1",
        "web-2",
    ]  # at least once, in order
    # The CRM has the last event a moment before the gateway removes it from the list.
    pending_now = keys.feed_pending(second.server.app[PSEUDONYM_KEY](ALICE))

    async def emptied() -> bool:
        return bool(redis_client.llen(pending_now) == 0)

    await eventually(emptied)


async def test_without_a_feed_nothing_is_kept(
    make_gateway: GatewayFactory, redis_client: redis.Redis
) -> None:
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    await _consent(client, ALICE, True, "web")
    assert not list(redis_client.scan_iter(match="j:feed:*"))
    assert not list(redis_client.scan_iter(match="j:jobs:*feed*"))


@pytest.mark.parametrize(("env", "complaint"), [
    ({"JUMBE_EVENT_FEED_URL": "https://crm.example/events"}, "JUMBE_EVENT_FEED_SECRET"),
    ({"JUMBE_EVENT_FEED_URL": "ftp://crm", "JUMBE_EVENT_FEED_SECRET": SECRET}, "http"),
])  # fmt: skip
def test_a_feed_that_cannot_work_is_refused_at_start(env: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        from_env(env)


def _standalone_worker(redis_url: str, at_url: str, feed_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "JUMBE_AT_BASE_URL": at_url, "JUMBE_PSEUDONYM_KEY": "test-pseudonym-key",
           "JUMBE_EVENT_FEED_URL": feed_url, "JUMBE_EVENT_FEED_SECRET": SECRET,
           "JUMBE_LOG_FORMAT": "json"}  # fmt: skip
    return subprocess.Popen([sys.executable, "-m", "gateway", "worker", "--redis", redis_url,
                             "--name", "feed-worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


async def test_a_standalone_sms_worker_publishes_the_opt_outs_it_learns(
    make_gateway: GatewayFactory, crm: Crm, fake_at: FakeServer, redis_url: str
) -> None:
    """``jumbe worker`` run on its own learns from AT that a number blocked the sender: the
    opt-out reaches the CRM through the feed, as one learnt inside ``serve`` does."""
    carol = "+254711000303"
    client = await _gateway(make_gateway, crm, at_base_url=fake_at.url)
    fake_at.fake.always[carol] = 406  # UserInBlacklist
    message = {"to": carol, "text": "Your receipt", "category": "transactional"}
    assert (await client.post("/v1/sms", json=message, headers=AUTH)).status == 202
    worker = _standalone_worker(redis_url, fake_at.url, crm.url)
    try:

        async def opted_out() -> bool:
            return any(event["type"] == "consent.changed" for event in crm.of(carol))

        await eventually(opted_out, within=30)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    (event,) = [event for event in crm.of(carol) if event["type"] == "consent.changed"]
    assert event["data"]["granted"] is False
