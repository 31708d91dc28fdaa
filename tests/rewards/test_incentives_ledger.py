"""Survey incentives reach the ledger exactly once: the ledger is app[INCENTIVES] once it runs,
and grants recorded before it existed are drained — twice changes nothing."""

from __future__ import annotations

from typing import Any

from conftest import ON_CLUSTER, GatewayFactory
from rewards_fixtures import KE, Domain, domain_fixture  # noqa: F401

from gateway.appkeys import INCENTIVES
from gateway.incentives import RecordedIncentives
from gateway.privacy import Pseudonymizer
from gateway.rewards import daily
from gateway.rewards.runtime import REWARDS
from gateway.store.connection import connect


async def test_grants_recorded_before_the_ledger_are_credited_once(
    domain: Domain, aredis: Any
) -> None:
    """Two respondents recorded (one twice) before the ledger: drained once each; a second
    drain and a live grant of the same completion credit nothing more."""
    recorded = RecordedIncentives(aredis, clock=domain.clock)
    alice, bob = domain.pseudonym(KE), domain.pseudonym("+254711000222")
    await recorded.grant(alice, 50, "survey:nps1", alice)
    await recorded.grant(alice, 50, "survey:nps1", alice)
    await recorded.grant(bob, 20, "survey:csat", bob)
    assert await daily.drain_incentives(domain.rewards, recorded) == 2
    assert await daily.drain_incentives(domain.rewards, recorded) == 0
    await domain.rewards.grant(alice, 50, "survey:nps1", alice)  # the survey engine, live
    assert sum(int(e["pts"]) for e in await domain.ledger.entries(alice)) == 50
    assert sum(int(e["pts"]) for e in await domain.ledger.entries(bob)) == 20


async def test_the_running_gateway_credits_through_the_ledger(
    make_gateway: GatewayFactory, redis_url: str
) -> None:
    """In serve, app[INCENTIVES] is the ledger: a grant shows in the balance at once; a grant
    recorded by an earlier gateway is credited at start."""
    client = connect(redis_url, cluster=ON_CLUSTER)
    pseudonym = Pseudonymizer(b"test-pseudonym-key")
    earlier = "+254711000333"
    try:
        await RecordedIncentives(client).grant(pseudonym(earlier), 30, "survey:nps1", "x")
    finally:
        await client.aclose()
    gateway = await make_gateway(api_token="rewards-test-token-0123456789")
    app = gateway.server.app
    assert app[INCENTIVES] is app[REWARDS]
    await app[INCENTIVES].grant(pseudonym(KE), 40, "survey:nps1", pseudonym(KE))
    assert (await app[REWARDS].view(KE))["balance"] == 40
    await daily.drain_incentives(app[REWARDS], RecordedIncentives(app[REWARDS].redis))
    assert (await app[REWARDS].view(earlier))["balance"] == 30
