"""Erasing a subscriber whose airtime is still on its way (SUBMITTED, AT's answer pending): the
redemption settles as it must, but the number is then removed and nothing more is sent."""

from __future__ import annotations

import asyncio

from conftest import eventually
from rewards_fixtures import AUTH, KE, Stack, fake_at_fixture, stack_fixture  # noqa: F401

from gateway.rewards.runtime import REWARDS
from gateway.store import keys


async def test_a_redemption_in_flight_at_erasure_settles_without_number_or_receipt(
    stack: Stack,
) -> None:
    s = await stack()  # type: ignore[operator]
    s.fake.airtime_callback_url = None  # AT's status callback held back
    assert (await s.earn(KE, 100, "r1"))[0] == 200
    status, body = await s.redeem(KE, "air50")
    assert status == 202, body
    redemption = body["redemption"]
    await s.until(KE, redemption, "SUBMITTED")

    async def requested() -> bool:
        return await s.recorded_request(KE, redemption) != ""

    await eventually(requested)
    request_id = await s.recorded_request(KE, redemption)
    sms_before = len([m for m in s.fake.received if m.to == KE])
    erased = await s.client.delete(f"/v1/subscribers/{KE}", headers=AUTH)
    assert erased.status == 200, await erased.text()
    rewards = s.client.server.app[REWARDS]
    key = keys.rewards_redemption(rewards.pseudonym(KE), redemption)
    assert await rewards.redis.hget(key, "phone") is not None  # a retry may still need it

    assert await s.callback(KE, request_id) == 200
    await s.until(KE, redemption, "SUCCESS")
    assert await rewards.redis.hget(key, "phone") is None
    await asyncio.sleep(1.0)  # a receipt would be queued and sent by now
    assert len([m for m in s.fake.received if m.to == KE]) == sms_before
