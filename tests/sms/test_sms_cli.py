"""`jumbe sms send`: a terminal client of a running gateway's POST /v1/sms."""

from __future__ import annotations

import socket
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp.test_utils import TestClient
from conftest import GatewayFactory
from processes import jumbe_async

from gateway.sms.runtime import SMS

TOKEN = "cli-test-token"
PHONE = "+254711000555"


async def _jumbe(*args: str, token: str | None = None) -> tuple[int, str, str]:
    return await jumbe_async(*args, token=token)


async def _gateway(make_gateway: GatewayFactory) -> tuple[TestClient[Any, Any], str]:
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    return client, str(client.make_url("")).rstrip("/")


async def test_send_prints_the_id_and_status(make_gateway: GatewayFactory) -> None:
    """`jumbe sms send TO TEXT` prints `<id> queued`, and the message is in the outbox."""
    client, url = await _gateway(make_gateway)
    code, out, err = await _jumbe("sms", "send", PHONE, "Your code is 4821", "--url", url,
                                  token=TOKEN)  # fmt: skip
    assert code == 0, err
    message_id, status = out.split()
    assert status == "queued"
    record = await client.server.app[SMS].outbox.get(message_id) or {}
    assert (record["text"], record["category"]) == ("Your code is 4821", "transactional")


async def test_send_later_with_the_token_flag(make_gateway: GatewayFactory) -> None:
    """`--at` an ISO time far enough ahead gives `scheduled`; `--token` replaces the variable."""
    _client, url = await _gateway(make_gateway)
    far = "2099-01-01T09:00:00+03:00"
    code, out, err = await _jumbe("sms", "send", PHONE, "Reminder", "--url", url, "--at", far,
                                  "--token", TOKEN)  # fmt: skip
    assert (code, err) == (1, "jumbe: invalid (HTTP 422): send_at is more than 366 days ahead\n")
    tomorrow = datetime.now(timezone(timedelta(hours=3))) + timedelta(days=1)
    code, out, err = await _jumbe("sms", "send", PHONE, "Reminder", "--url", url,
                                  "--at", tomorrow.isoformat(), "--token", TOKEN)  # fmt: skip
    assert code == 0, err
    assert out.split()[1] == "scheduled"


async def test_a_refused_promotion_prints_the_reason_and_exits_1(
    make_gateway: GatewayFactory,
) -> None:
    """--promotional to someone without consent: the 409 reason on stderr, exit 1, no stdout."""
    _client, url = await _gateway(make_gateway)
    code, out, err = await _jumbe("sms", "send", PHONE, "Deals!", "--promotional", "--url", url,
                                  token=TOKEN)  # fmt: skip
    assert (code, out) == (1, "")
    assert err == "jumbe: refused (HTTP 409): no recorded consent for promo_sms\n"


async def test_a_missing_token_says_so(make_gateway: GatewayFactory) -> None:
    """Without --token or JUMBE_API_TOKEN the gateway's 401 reason is printed, exit 1."""
    _client, url = await _gateway(make_gateway)
    code, _out, err = await _jumbe("sms", "send", PHONE, "Hi", "--url", url)
    assert code == 1
    assert err.startswith("jumbe: unauthorized (HTTP 401): missing bearer token")


async def test_an_unreachable_gateway_is_one_clear_line() -> None:
    """Nothing listening at --url: one line naming the URL, exit 1, no traceback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    code, out, err = await _jumbe("sms", "send", PHONE, "Hi", "--url", url, token=TOKEN)
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(f"jumbe: cannot reach the gateway at {url}: ")
    assert "is `jumbe serve` running?" in err
