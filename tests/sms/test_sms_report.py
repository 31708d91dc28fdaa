"""`GET /v1/reports/sms` over HTTP, after real messages went through the worker, the real SDK and
the fake AT at chosen clock times; delivery reports applied at chosen times."""

from __future__ import annotations

import csv
import io
import urllib.request
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient
from conftest import GatewayFactory
from sms_fixtures import (
    FakeServer,
    Sms,
    aredis_fixture,
    eventually,
    fake_at_fixture,
    sms_fixture,
)

from gateway.channels.africastalking.sms import Accepted, AtSms
from gateway.consent import PURPOSES
from gateway.errors import SendError
from gateway.sms.worker import Worker, WorkerConfig

__all__ = ["aredis_fixture", "fake_at_fixture", "sms_fixture"]

TOKEN = "reports-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
A, B, C, D = "+254711000001", "+254711000002", "+254711000003", "+254711000004"
BAD = "+254711000403"


def _utc(day: int, hour: int, minute: int = 0, second: int = 0) -> float:
    return datetime(2025, 3, day, hour, minute, second, tzinfo=UTC).timestamp()


async def _reports(make_gateway: GatewayFactory, **overrides: Any) -> TestClient[Any, Any]:
    return await make_gateway(api_token=TOKEN, sms_worker=False, **overrides)


async def _report(client: TestClient[Any, Any], **params: str) -> dict[str, Any]:
    response = await client.get("/v1/reports/sms", headers=AUTH, params=params)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    body: dict[str, Any] = orjson.loads(await response.read())
    return body


async def _send(
    sms: Sms, fake_at: FakeServer, phone: str, at: float, category: str = "transactional"
) -> str:
    """Queue one message at ``at`` and let the worker send it; AT's message id ("" if none)."""
    sms.clock.now = at
    before = len(fake_at.fake.received)
    await sms.outbox.send(phone, f"Message to {phone[-3:]}", category=category)  # type: ignore[arg-type]
    await sms.worker.run_once()
    received = fake_at.fake.received
    return received[-1].provider_message_id if len(received) > before else ""


async def _report_back(sms: Sms, at_id: str, at: float, status: str, word: str) -> str:
    """AT's delivery report for ``at_id``, arriving at ``at``; the outcome."""
    sms.clock.now = at
    reason = "DeliveryFailure" if status in ("failed", "rejected") else ""
    outcome, _ = await sms.outbox.apply_delivery_report(at_id, status, word, reason)
    return outcome


async def _grant(sms: Sms, phone: str) -> None:
    await sms.ledger.record(sms.pseudonym(phone), PURPOSES, "granted", source="test",
                            channel="ussd")  # fmt: skip


def _counts(
    messages: int = 0, sent: int = 0, pending: int = 0, delivered: int = 0, failed: int = 0,
    rejected: int = 0, dead: int = 0, refused: int = 0, rate: float | None = None,
    median: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    return {"messages": messages, "sent": sent, "pending": pending, "delivered": delivered,
            "failed": failed, "rejected": rejected, "dead": dead, "refused": refused,
            "delivery_rate": rate, "median_seconds_to_delivery": median}  # fmt: skip


def _day(iso: str, transactional: dict[str, Any], promotional: dict[str, Any],
         total: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    return {"date": iso, "categories": {"transactional": transactional,
                                        "promotional": promotional}, **total}  # fmt: skip


async def test_messages_per_day_by_category_and_final_status(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """Two days of receipts and promotions: every count, the delivery rate and the median time
    to delivery are exactly what happened, day by day and in total."""
    client = await _reports(make_gateway)
    for phone in (A, B):
        await _grant(sms, phone)
    # 4 March: three receipts (delivered in 4 s and 50 s, one failed), one promotion (2 s).
    a = await _send(sms, fake_at, A, _utc(4, 10))
    b = await _send(sms, fake_at, B, _utc(4, 10, 1))
    c = await _send(sms, fake_at, C, _utc(4, 10, 2))
    p = await _send(sms, fake_at, A, _utc(4, 11), "promotional")
    assert await _report_back(sms, a, _utc(4, 10, 0, 4), "delivered", "Success") == "applied"
    assert await _report_back(sms, b, _utc(4, 10, 1, 50), "delivered", "Success") == "applied"
    assert await _report_back(sms, c, _utc(4, 10, 2, 20), "failed", "Failed") == "applied"
    assert await _report_back(sms, p, _utc(4, 11, 0, 2), "delivered", "Success") == "applied"
    # 5 March: AT refuses one number outright (never sent), one receipt awaits its report,
    # and a promotion is refused at send time (STOP after it was queued).
    fake_at.fake.always[BAD] = 403
    assert await _send(sms, fake_at, BAD, _utc(5, 12)) == ""
    pending = await _send(sms, fake_at, D, _utc(5, 12, 5))
    assert await _report_back(sms, pending, _utc(5, 12, 6), "submitted", "Submitted") == "applied"
    sms.clock.now = _utc(5, 13)
    await sms.outbox.send(B, "Deals!", category="promotional")
    await sms.ledger.record(sms.pseudonym(B), PURPOSES, "revoked", source="keyword:STOP",
                            channel="sms")  # fmt: skip
    await sms.worker.run_once()

    report = await _report(client, **{"from": "2025-03-04", "to": "2025-03-05"})

    assert report == {
        "from": "2025-03-04", "to": "2025-03-05", "tz": "UTC",
        "days": [
            _day("2025-03-04",
                 _counts(3, 3, 0, delivered=2, failed=1, rate=0.6667, median=5),
                 _counts(1, 1, 0, delivered=1, rate=1.0, median=2),
                 _counts(4, 4, 0, delivered=3, failed=1, rate=0.75, median=5)),
            _day("2025-03-05",
                 _counts(2, 1, 1, failed=1, rate=0.0),
                 _counts(1, 0, 0, refused=1),
                 _counts(3, 1, 1, failed=1, refused=1, rate=0.0)),
        ],
        "totals": {
            "categories": {
                "transactional": _counts(5, 4, 1, delivered=2, failed=2, rate=0.5, median=5),
                "promotional": _counts(2, 1, 0, delivered=1, refused=1, rate=1.0, median=2),
            },
            **_counts(7, 5, 1, delivered=3, failed=2, refused=1, rate=0.6, median=5),
        },
    }  # fmt: skip


async def test_a_retried_or_repeated_report_counts_once(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """AT posting the same report twice, a stale report after the final one, and a send that
    needed a retry: each message is counted once."""
    client = await _reports(make_gateway)
    fake_at.fake.first[B] = [500]  # the first try fails (retryable), the second goes
    a = await _send(sms, fake_at, A, _utc(4, 9))
    assert await _send(sms, fake_at, B, _utc(4, 9, 1)) == ""
    sms.clock.now = _utc(4, 9, 10)  # the retry, once its backoff (at most 5 s) is over
    await sms.worker.run_once()
    b = fake_at.fake.received[-1].provider_message_id
    for _ in range(2):
        await _report_back(sms, a, _utc(4, 9, 0, 3), "delivered", "Success")
    assert await _report_back(sms, a, _utc(4, 9, 0, 9), "submitted", "Submitted") == "ignored"
    assert await _report_back(sms, b, _utc(4, 9, 11), "rejected", "Rejected") == "applied"
    assert await _report_back(sms, b, _utc(4, 9, 12), "rejected", "Rejected") == "ignored"
    day = (await _report(client, **{"from": "2025-03-04", "to": "2025-03-04"}))["days"][0]
    assert day["categories"]["transactional"] == _counts(2, 2, 0, delivered=1, rejected=1,
                                                         rate=0.5, median=3)  # fmt: skip


async def test_a_message_that_dies_counts_on_the_day_it_died(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """A message AT never accepts, tried until the worker gives up, is one dead message on the
    day of its last try, and was never sent."""
    client = await _reports(make_gateway)
    fake_at.fake.always[A] = 500
    sms.clock.now = _utc(4, 23, 59)
    await sms.outbox.send(A, "Your code is 1234")
    for step in range(3):
        sms.clock.now = _utc(4, 23, 59) + step * 120
        await sms.worker.run_once()
    report = await _report(client, **{"from": "2025-03-04", "to": "2025-03-05"})
    assert [day["dead"] for day in report["days"]] == [0, 1]
    totals = {k: v for k, v in report["totals"].items() if k != "categories"}
    assert totals == _counts(1, 0, 0, dead=1)


async def test_a_late_report_counts_on_the_day_the_message_was_sent(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """Sent at 23:50, delivered at 00:20 the next day: one delivered message on the first day,
    in 30 minutes; the second day stays empty."""
    client = await _reports(make_gateway)
    at_id = await _send(sms, fake_at, A, _utc(4, 23, 50))
    assert await _report_back(sms, at_id, _utc(5, 0, 20), "delivered", "Success") == "applied"
    report = await _report(client, **{"from": "2025-03-04", "to": "2025-03-05"})
    first, second = report["days"]
    assert (first["delivered"], first["pending"], first["median_seconds_to_delivery"]) == (
        1, 0, 1800)  # fmt: skip
    assert second == _day("2025-03-05", _counts(), _counts(), _counts())


async def test_days_follow_the_time_zone_asked_for(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """A message sent at 22:30 UTC on 4 March is on 4 March in UTC and Lagos, 5 March in
    Nairobi (UTC+3)."""
    client = await _reports(make_gateway)
    at_id = await _send(sms, fake_at, A, _utc(4, 22, 30))
    await _report_back(sms, at_id, _utc(4, 22, 30, 30), "delivered", "Success")
    window = {"from": "2025-03-04", "to": "2025-03-05"}
    for tz, delivered in (("UTC", [1, 0]), ("Africa/Lagos", [1, 0]), ("Africa/Nairobi", [0, 1])):
        report = await _report(client, **window, tz=tz)
        assert report["tz"] == tz
        assert [day["delivered"] for day in report["days"]] == delivered, tz


async def test_a_report_that_beats_the_send_record_is_counted_once(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer, aredis: Any
) -> None:
    """AT's final report reaching the gateway before the worker recorded the send (kept aside,
    then applied) counts one delivered message, delivered at once."""
    client = await _reports(make_gateway)
    delivery = str(client.make_url("/sms/africastalking/delivery"))

    class ReportsFirst:
        """The real SDK to the fake AT, whose delivery report then arrives before we return."""

        def __init__(self) -> None:
            self.sdk = AtSms("sandbox", "test-key", fake_at.url, timeout=2.0)

        def send_many(
            self, to: list[str], message: str, sender_id: str | None
        ) -> list[Accepted | SendError]:
            outcomes = self.sdk.send_many(to, message, sender_id)
            for accepted in outcomes:
                assert isinstance(accepted, Accepted)
                form = f"id={accepted.provider_message_id}&status=Success".encode()
                with urllib.request.urlopen(urllib.request.Request(delivery, data=form),
                                            timeout=5):  # fmt: skip
                    pass
            return outcomes

    worker = Worker(aredis, ReportsFirst(), sms.ledger, WorkerConfig(rate_per_sender=0),
                    name="t2", clock=sms.clock)  # fmt: skip
    try:
        sms.clock.now = _utc(4, 8)
        message_id = await sms.outbox.send(A, "Your code is 4821")
        await worker.run_once()
    finally:
        worker.close()
    assert (await sms.outbox.get(message_id) or {})["status"] == "delivered"
    day = (await _report(client, **{"from": "2025-03-04", "to": "2025-03-04"}))["days"][0]
    assert day["categories"]["transactional"] == _counts(1, 1, 0, delivered=1, rate=1.0,
                                                         median=1)  # fmt: skip


async def test_csv_has_one_row_per_day_and_category(
    make_gateway: GatewayFactory, sms: Sms, fake_at: FakeServer
) -> None:
    """?format=csv downloads a CSV with a header and one row per day × category."""
    client = await _reports(make_gateway)
    at_id = await _send(sms, fake_at, A, _utc(4, 10))
    await _report_back(sms, at_id, _utc(4, 10, 0, 12), "delivered", "Success")
    response = await client.get("/v1/reports/sms", headers=AUTH, params={
        "from": "2025-03-04", "to": "2025-03-05", "format": "csv"})  # fmt: skip
    assert response.status == 200
    assert response.content_type == "text/csv"
    assert "jumbe-sms-2025-03-04-2025-03-05.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(await response.text())))
    assert rows == [
        ["date", "category", "messages", "sent", "pending", "delivered", "failed", "rejected",
         "dead", "refused", "delivery_rate", "median_seconds_to_delivery"],
        ["2025-03-04", "transactional", "1", "1", "0", "1", "0", "0", "0", "0", "1.0", "15"],
        ["2025-03-04", "promotional", "0", "0", "0", "0", "0", "0", "0", "0", "", ""],
        ["2025-03-05", "transactional", "0", "0", "0", "0", "0", "0", "0", "0", "", ""],
        ["2025-03-05", "promotional", "0", "0", "0", "0", "0", "0", "0", "0", "", ""],
    ]  # fmt: skip


async def test_the_gateways_own_worker_and_callbacks_fill_todays_report(
    make_gateway: GatewayFactory, fake_at: FakeServer
) -> None:
    """Messages sent through POST /v1/sms and reported delivered by AT show up today, all
    delivered, without any date given (the default is the last 30 days)."""
    client = await make_gateway(api_token=TOKEN, at_base_url=fake_at.url, sms_send_timeout=2.0,
                                sms_rate_per_sender=0)  # fmt: skip
    fake_at.fake.callback_url = str(client.make_url("/sms/africastalking/delivery"))
    before = datetime.now(UTC).date()
    for n in range(3):
        response = await client.post("/v1/sms", headers=AUTH, json={
            "to": f"+25471100010{n}", "text": "Receipt", "category": "transactional"})  # fmt: skip
        assert response.status == 202

    async def all_delivered() -> bool:
        return (await _report(client))["totals"]["delivered"] == 3

    await eventually(all_delivered)
    report = await _report(client)
    assert date.fromisoformat(report["to"]) in (before, datetime.now(UTC).date())
    assert date.fromisoformat(report["to"]) - date.fromisoformat(report["from"]) == timedelta(29)
    assert len(report["days"]) == 30
    assert {k: report["totals"][k] for k in ("messages", "sent", "delivered", "delivery_rate")} == {
        "messages": 3, "sent": 3, "delivered": 3, "delivery_rate": 1.0}  # fmt: skip


@pytest.mark.parametrize(("params", "reason"), [
    ({"tz": "Mars/Olympus_Mons"}, "tz: unknown time zone 'Mars/Olympus_Mons'"),
    ({"tz": "Africa"}, "tz: unknown time zone 'Africa'"),
    ({"tz": "Asia/Kolkata"}, "Asia/Kolkata is +05:30 from UTC"),
    ({"from": "2025-3-4"}, "from: expected a date as YYYY-MM-DD, got '2025-3-4'"),
    ({"to": "2025-02-30"}, "to: expected a date as YYYY-MM-DD, got '2025-02-30'"),
    ({"from": "2025-03-05", "to": "2025-03-04"}, "from (2025-03-05) is after to (2025-03-04)"),
    ({"from": "2024-01-01", "to": "2025-03-04"}, "at most 366 days at a time"),
    ({"format": "xlsx"}, "format: expected json or csv, got 'xlsx'"),
    ({"form": "2025-03-04"}, "unknown parameter(s) form; expected from, to, tz, format"),
])  # fmt: skip
async def test_unusable_parameters_get_400_with_the_reason(
    make_gateway: GatewayFactory, params: dict[str, str], reason: str
) -> None:
    """A date that is not YYYY-MM-DD, an unknown zone, a zone off by half an hour, a reversed
    or too long range, an unknown format or parameter: 400 saying which."""
    client = await _reports(make_gateway)
    response = await client.get("/v1/reports/sms", headers=AUTH, params=params)
    assert response.status == 400
    body = orjson.loads(await response.read())
    assert body["error"] == "bad_request"
    assert body["reason"].startswith(reason)


async def test_only_tokens_with_the_reports_scope_may_read_it(
    make_gateway: GatewayFactory, tmp_path: Any
) -> None:
    """A token scoped to sms gets 403 naming the reports API; one scoped to reports gets 200."""
    path = tmp_path / "tokens.yaml"
    path.write_text("tokens:\n"
                    "  - {name: shop, token: shop-token-0123456789, scopes: [sms]}\n"
                    "  - {name: bi, token: bi-token-0123456789, scopes: [reports]}\n")  # fmt: skip
    client = await make_gateway(api_tokens_file=path, sms_worker=False)
    shop = await client.get("/v1/reports/sms", headers={
        "Authorization": "Bearer shop-token-0123456789"})  # fmt: skip
    assert shop.status == 403
    assert orjson.loads(await shop.read()) == {
        "error": "forbidden", "reason": "this token may not use the reports API"}  # fmt: skip
    bi = await client.get("/v1/reports/sms", headers={
        "Authorization": "Bearer bi-token-0123456789"})  # fmt: skip
    assert bi.status == 200
