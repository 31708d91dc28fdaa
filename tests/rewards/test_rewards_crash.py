"""A fulfilment worker killed with SIGKILL between AT topping up and the answer being recorded:
the next worker resends with the *same* Idempotency-Key, so AT tops up once; a send that
times out stays SUBMITTED and is settled by a retry with the same key."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from typing import Any

from conftest import ROOT, eventually
from rewards_fixtures import KE, KEY, Stack, fake_at_fixture, stack_fixture  # noqa: F401


def _worker(redis_url: str, fake_url: str, name: str, **env: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "JUMBE_AT_BASE_URL": fake_url, "JUMBE_AT_API_KEY": "k",
                   "JUMBE_REWARDS_CLAIM_IDLE": "2", "JUMBE_REWARDS_SEND_TIMEOUT": "1",
                   "JUMBE_PSEUDONYM_KEY": KEY.decode(), "JUMBE_LOG_FORMAT": "json",
                   "JUMBE_MENUS": str(ROOT / "menus"), **env}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker", "--queue", "rewards", "--redis", redis_url,
         "--name", name], cwd=ROOT, env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


async def test_sigkill_between_sending_and_recording_never_sends_under_a_new_key(
    stack: Any, redis_url: str, fake_at: Any
) -> None:
    """Killed while AT's answer is on its way: the replacement resends with the same key, AT
    answers from memory, the request id is recorded, AT's status callback settles it: one
    top-up."""
    s: Stack = await stack(rewards_worker=False)
    _fake, fake_url = fake_at
    s.fake.airtime_answer_delay = 30.0
    s.fake.airtime_callback_url = None  # posted below, once the resend has been recorded
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")
    redemption = body["redemption"]
    first = _worker(redis_url, fake_url, "rw-crash-1", JUMBE_REWARDS_SEND_TIMEOUT="20",
                    JUMBE_REWARDS_CLAIM_IDLE="30")  # fmt: skip
    try:
        await eventually(lambda: _topped_up(s), within=30)
        assert await s.state(KE, redemption) == "SUBMITTED"
        first.send_signal(signal.SIGKILL)
        assert first.wait(timeout=10) == -signal.SIGKILL
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    s.fake.airtime_answer_delay = 0.0
    second = _worker(redis_url, fake_url, "rw-crash-2")
    try:

        async def recorded() -> bool:
            return bool(await s.recorded_request(KE, redemption))

        await eventually(recorded, within=30)
        request_id = await s.recorded_request(KE, redemption)
        assert request_id == s.fake.topups()[0].request_id
        assert await s.state(KE, redemption) == "SUBMITTED"
        assert await s.callback(KE, request_id) == 200
        await s.until(KE, redemption, "SUCCESS", within=30)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert {r.key for r in s.fake.airtime_requests} == {redemption}
    assert len(s.fake.airtime_requests) >= 2
    assert len(s.fake.topups()) == 1
    assert (await s.account(KE))["balance"] == 0


async def _topped_up(s: Stack) -> bool:
    return len(s.fake.topups()) == 1


async def test_a_timeout_stays_submitted_and_is_retried_with_the_same_key(stack: Any) -> None:
    """AT slower than the SDK's timeout: SUBMITTED (not reversed), retried with the same key
    until an answer comes and its request id is recorded; AT's callback then makes it SUCCESS;
    one top-up."""
    s: Stack = await stack(rewards_send_timeout=0.5)
    s.fake.airtime_answer_delay = 2.0
    s.fake.airtime_callback_url = None
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")
    redemption = body["redemption"]
    await eventually(lambda: _topped_up(s), within=10)
    await s.until(KE, redemption, "SUBMITTED")
    assert not await s.recorded_request(KE, redemption)
    s.fake.airtime_answer_delay = 0.0

    async def recorded() -> bool:
        return bool(await s.recorded_request(KE, redemption))

    await eventually(recorded, within=30)
    assert await s.state(KE, redemption) == "SUBMITTED"
    assert await s.callback(KE, await s.recorded_request(KE, redemption)) == 200
    await s.until(KE, redemption, "SUCCESS")
    assert {r.key for r in s.fake.airtime_requests} == {redemption}
    assert len(s.fake.topups()) == 1


async def test_a_lost_answer_is_settled_by_the_callback_when_at_rejects_the_repeat(
    stack: Any,
) -> None:
    """AT tops up but the answer never arrives (timeout), and AT refuses the repeated key: the
    status callback is matched to the one SUBMITTED redemption of that value; one top-up,
    SUCCESS, and the retries stop."""
    s: Stack = await stack(rewards_send_timeout=0.5)
    s.fake.airtime_answer_delay = 2.0
    s.fake.airtime_repeat = "reject"
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")
    redemption = body["redemption"]
    await s.until(KE, redemption, "SUCCESS", within=15)
    assert len(s.fake.topups()) == 1
    assert {r.key for r in s.fake.airtime_requests} == {redemption}
    assert (await s.account(KE))["balance"] == 0


async def test_failed_on_a_resend_is_not_taken_as_failed(stack: Any) -> None:
    """The first send times out (AT did top up); AT answers the resend 'Failed' (about the
    repeated key): the points are not given back — the redemption stays SUBMITTED until AT's
    status callback says Success."""
    s: Stack = await stack(rewards_send_timeout=0.5)
    s.fake.airtime_answer_delay = 2.0
    s.fake.airtime_repeat = "fail"
    s.fake.airtime_callback_url = None
    await s.earn(KE, 100, "r1")
    _, body = await s.redeem(KE, "air50")
    redemption = body["redemption"]

    async def resent() -> bool:
        return len(s.fake.airtime_requests) >= 2

    await eventually(resent, within=20)
    await asyncio.sleep(0.5)
    assert await s.state(KE, redemption) == "SUBMITTED"
    assert (await s.account(KE))["balance"] == 0
    assert await s.callback(KE, s.fake.topups()[0].request_id) == 200
    await s.until(KE, redemption, "SUCCESS")
    assert len(s.fake.topups()) == 1
