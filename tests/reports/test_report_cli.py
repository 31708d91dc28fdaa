"""`jumbe report`: the command against a real gateway over HTTP, after real messages went through
the worker, the real SDK and the fake AT at chosen clock times."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import redis
from aiohttp.test_utils import TestClient, TestServer
from conftest import ON_CLUSTER, ROOT, GatewayFactory, free_port
from processes import jumbe_async

from gateway.channels.africastalking.sms import AtSms
from gateway.consent.ledger import ConsentLedger
from gateway.devtools.fake_at import FakeAT
from gateway.privacy import Pseudonymizer
from gateway.sms.outbox import Outbox
from gateway.sms.worker import Worker, WorkerConfig
from gateway.store.connection import connect

TOKEN = "report-cli-token"
EXPECTED = Path(__file__).parent / "expected"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _utc(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC).timestamp()


@pytest.fixture
async def history(redis_client: redis.Redis, redis_url: str) -> AsyncIterator[None]:
    """On 4 March: two receipts delivered (in 3 s and 12 s) and one failed; on 5 March one
    receipt still awaiting its report. Sent through the worker and the SDK to the fake AT."""
    fake = FakeAT()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    client = connect(redis_url, cluster=ON_CLUSTER, socket_timeout=5.0)
    clock = Clock()
    ledger = ConsentLedger(client, "opt_in", clock=clock)
    outbox = Outbox(client, ledger, Pseudonymizer(b"test-pseudonym-key"), clock=clock)
    sender = AtSms("sandbox", "test-key", str(server.make_url("")).rstrip("/"), timeout=2.0)
    worker = Worker(client, sender, ledger, WorkerConfig(rate_per_sender=0), clock=clock)
    plan = [(4, "+254711000001", 3, "delivered"), (4, "+254711000002", 12, "delivered"),
            (4, "+254711000003", 20, "failed"), (5, "+254711000004", 0, "")]  # fmt: skip
    try:
        for n, (day, phone, after, status) in enumerate(plan):
            clock.now = _utc(day, 9, n)
            await outbox.send(phone, "Receipt")
            await worker.run_once()
            if status:
                clock.now += after
                await outbox.apply_delivery_report(fake.received[-1].provider_message_id, status,
                                                   status.title(), "")  # fmt: skip
        yield
    finally:
        worker.close()
        await client.aclose()
        await server.close()


async def _jumbe(*args: str, token: str | None = TOKEN) -> tuple[int, str, str]:
    return await jumbe_async(*args, token=token)


async def _gateway(make_gateway: GatewayFactory, **overrides: Any) -> tuple[Any, str]:
    client: TestClient[Any, Any] = await make_gateway(api_token=TOKEN, sms_worker=False,
                                                      **overrides)  # fmt: skip
    return client, str(client.make_url("")).rstrip("/")


MARCH = ("--from", "2025-03-04", "--to", "2025-03-05")


async def test_the_sms_report_prints_as_a_table(
    make_gateway: GatewayFactory, history: None
) -> None:
    """`jumbe report sms` prints one line per day, the total, the categories and what the columns
    mean (exactly expected/sms_table.txt)."""
    _client, url = await _gateway(make_gateway)
    code, out, err = await _jumbe("report", "sms", "--url", url, *MARCH)
    assert (code, err) == (0, "")
    assert out == (EXPECTED / "sms_table.txt").read_text()


async def test_json_and_csv_are_what_the_gateway_answers(
    make_gateway: GatewayFactory, history: None
) -> None:
    """--format json prints the API's document; --format csv the rows of ?format=csv."""
    client, url = await _gateway(make_gateway)
    params = {"from": "2025-03-04", "to": "2025-03-05"}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    api = await (await client.get("/v1/reports/sms", headers=auth, params=params)).json()
    code, out, _err = await _jumbe("report", "sms", "--url", url, *MARCH, "--format", "json")
    assert code == 0
    assert json.loads(out) == api
    served = await client.get("/v1/reports/sms", headers=auth, params={**params, "format": "csv"})
    code, out, _err = await _jumbe("report", "sms", "--url", url, *MARCH, "--format", "csv")
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == list(csv.reader(io.StringIO(await served.text())))


async def test_html_is_a_self_contained_page_with_charts(
    make_gateway: GatewayFactory, history: None, tmp_path: Path
) -> None:
    """--html writes a page with the stacked bars and the delivery-rate line as inline SVG, and
    nothing that would need the network: no URL, script, font, image or stylesheet link."""
    _client, url = await _gateway(make_gateway)
    page = tmp_path / "sms.html"
    code, out, err = await _jumbe("report", "sms", "--url", url, *MARCH, "--html", str(page))
    assert code == 0
    assert out.startswith("SMS report 2025-03-04 to 2025-03-05 (UTC)")
    assert err == f"jumbe: wrote {page}\n"
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    assert html.count("<svg") == 2
    assert "Messages per day, by final status" in html and "Delivery rate per day" in html
    assert "<title>4 Mar · delivered: 2</title>" in html
    assert "<title>4 Mar · delivery rate: 66.7%</title>" in html
    lowered = html.lower()
    for network in ("http", "//", "<script", "src=", "href=", "url(", "@import", "@font-face"):
        assert network not in lowered, network
    assert not re.search(r"\b\d{9,15}\b", html)  # no phone number either


async def test_a_missing_or_unscoped_token_is_one_line(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """No token: the gateway's 401 reason; a token without the reports scope: its 403 reason.
    One line on stderr each, exit 1."""
    tokens = tmp_path / "tokens.yaml"
    tokens.write_text("tokens:\n  - {name: shop, token: shop-token-0123456789, scopes: [sms]}\n")
    _client, url = await _gateway(make_gateway, api_tokens_file=tokens)
    code, out, err = await _jumbe("report", "sms", "--url", url, token=None)
    assert (code, out) == (1, "")
    assert err == ("jumbe: unauthorized (HTTP 401): missing bearer token (Authorization: Bearer "
                   "<token>) (set --token or JUMBE_API_TOKEN)\n")  # fmt: skip
    code, out, err = await _jumbe("report", "sms", "--url", url, "--token",
                                  "shop-token-0123456789")  # fmt: skip
    assert (code, out) == (1, "")
    assert err == "jumbe: forbidden (HTTP 403): this token may not use the reports API\n"


async def test_an_unreachable_gateway_is_one_line() -> None:
    """Nothing listening at --url: one line naming the URL, exit 1, no traceback."""
    url = f"http://127.0.0.1:{free_port()}"
    code, out, err = await _jumbe("report", "sms", "--url", url, "--html", "unused.html")
    assert (code, out) == (1, "")
    assert err.count("\n") == 1
    assert err.startswith(f"jumbe: cannot reach the gateway at {url}: ")
    assert not (ROOT / "unused.html").exists()


async def test_a_bad_parameter_is_the_gateways_reason(make_gateway: GatewayFactory) -> None:
    """--tz with a zone the gateway refuses prints its 400 reason, exit 1."""
    _client, url = await _gateway(make_gateway)
    code, out, err = await _jumbe("report", "sms", "--url", url, "--tz", "Mars/Olympus_Mons")
    assert (code, out) == (1, "")
    assert err.startswith(
        "jumbe: bad_request (HTTP 400): tz: unknown time zone 'Mars/Olympus_Mons'"
    )
