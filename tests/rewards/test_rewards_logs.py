"""No raw number in the logs of a whole rewards journey, read from a real `jumbe serve`'s JSON
log file (in-process loggers are configured once per process, so a file is the honest check)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from conftest import eventually, free_port
from processes import environment, start
from rewards_fixtures import AUTH, KE, TOKEN, fake_at_fixture  # noqa: F401

from gateway.devtools.fake_at import FakeAT
from gateway.privacy import Pseudonymizer

KEY = b"rewards-logs-test-pseudonym-key-0123456789"


async def test_no_raw_number_in_the_logs(
    redis_client: Any, redis_url: str, fake_at: tuple[FakeAT, str], tmp_path: Path
) -> None:
    """Earn, redeem, airtime, callback, receipt, a refusal: pseudonyms only — no number, and
    nothing the redaction backstop had to catch."""
    fake, fake_url = fake_at
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    fake.airtime_callback_url = f"{base}/airtime/africastalking/status"
    fake.callback_url = f"{base}/sms/africastalking/delivery"
    log = tmp_path / "serve.log"
    env = environment(JUMBE_REDIS_URL=redis_url, JUMBE_PSEUDONYM_KEY=KEY.decode(),
                      JUMBE_API_TOKEN=TOKEN, JUMBE_AT_BASE_URL=fake_url,
                      JUMBE_AT_API_KEY="k")  # fmt: skip
    server = await asyncio.to_thread(start, port, None, env=env, log=log)
    try:
        async with aiohttp.ClientSession(base, headers=AUTH) as http:
            earn = {"msisdn": KE, "points": 100, "source": "pos", "source_id": "r1"}
            assert (await http.post("/v1/rewards/earn", json=earn)).status == 200
            redeemed = await http.post("/v1/rewards/redeem", json={"msisdn": KE, "item": "air50"})
            redemption = (await redeemed.json())["redemption"]
            refused = await http.post("/v1/rewards/redeem", json={"msisdn": KE, "item": "air50"})
            assert refused.status == 409

            async def settled() -> bool:
                async with http.get(f"/v1/rewards/{KE}") as response:
                    body = await response.json()
                return bool(body["redemptions"][0]["state"] == "SUCCESS")

            await eventually(settled, within=20)
            assert [t.key for t in fake.topups()] == [redemption]

            async def receipt() -> bool:
                return any(r.to == KE for r in fake.received)

            await eventually(receipt)
    finally:
        server.terminate()
        await asyncio.to_thread(server.wait, 20)
    text = log.read_bytes()
    events = {
        orjson.loads(line).get("event") for line in text.splitlines() if line.startswith(b"{")
    }
    assert {"rewards_earned", "rewards_held", "rewards_settled", "airtime_status",
            "rewards_airtime_sent", "rewards_redeem_refused"} <= events  # fmt: skip
    assert KE.lstrip("+").encode() not in text
    assert b"<redacted>" not in text
    assert Pseudonymizer(KEY)(KE).encode() in text
