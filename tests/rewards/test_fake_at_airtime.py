"""`jumbe fake-at` fakes AT's airtime API for the real SDK: per-recipient answers, scripted
failures, a repeated Idempotency-Key answered from memory, status callbacks posted."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from conftest import ROOT, eventually, free_port

from gateway.channels.africastalking.airtime import AtAirtime
from gateway.errors import AirtimeError


async def test_fake_at_airtime_through_the_sdk() -> None:
    """Sent with a request id and a Success callback; a repeated key gets the same answer and
    no second top-up line; a scripted number gets Failed (nothing sent)."""
    posted: list[dict[str, str]] = []

    async def callback(request: web.Request) -> web.Response:
        posted.append(dict(await request.post()))  # type: ignore[arg-type]
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/status", callback)
    receiver = TestServer(app, host="127.0.0.1")
    await receiver.start_server()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMBE_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", "fake-at", "--port", str(port),
        "--airtime-callback", str(receiver.make_url("/status")),
        "--airtime-fail", "+254700000406=InsufficientCredit",
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = await asyncio.wait_for(process.stdout.readline(), 30)
        assert b"fake Africa's Talking" in banner  # printed before the port is bound:

        async def listening() -> bool:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                return False
            writer.close()
            return True

        await eventually(listening, 30)
        sdk = AtAirtime("sandbox", "key", f"http://127.0.0.1:{port}", timeout=5.0)
        first = await asyncio.to_thread(sdk.send, "+254711000666", 50.0, "KES", "r-1")
        again = await asyncio.to_thread(sdk.send, "+254711000666", 50.0, "KES", "r-1")
        assert first.request_id.startswith("ATQid_")
        assert again.request_id == first.request_id
        with pytest.raises(AirtimeError, match="InsufficientCredit") as refused:
            await asyncio.to_thread(sdk.send, "+254700000406", 50.0, "KES", "r-2")
        assert refused.value.sent is False

        async def called_back() -> bool:
            return bool(posted)

        await eventually(called_back)
        assert {(p["requestId"], p["status"]) for p in posted} == {(first.request_id, "Success")}
        lines = [await asyncio.wait_for(process.stdout.readline(), 5) for _ in range(2)]
        assert lines[0].decode().endswith("+254711000666  [airtime] KES 50\n")
        assert "[airtime not sent: InsufficientCredit]" in lines[1].decode()
    finally:
        process.terminate()
        await process.wait()
        await receiver.close()
