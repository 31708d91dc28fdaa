"""Funnel analytics over HTTP: real journeys on the demo menu, Africa's Talking's end-of-session
notifications and Hubtel's Release/Timeout, then `GET /v1/reports/funnel/{menu}` and
`jumbe report funnel`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestClient
from conftest import ON_CLUSTER, GatewayFactory, eventually, journey
from processes import jumbe_async

from gateway.funnel.counts import FunnelCounts
from gateway.store import keys
from gateway.store.connection import connect

TOKEN = "funnel-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PHONE = "+254711000001"


async def _end(client: TestClient[Any, Any], session_id: str, status: str, **extra: str) -> int:
    response = await client.post("/ussd/africastalking/events", data={
        "sessionId": session_id, "serviceCode": "*384#", "phoneNumber": PHONE,
        "networkCode": "63902", "status": status, "date": "2026-11-30 08:00:00", **extra,
    })  # fmt: skip
    return response.status


async def _report(client: TestClient[Any, Any], menu: str = "demo", **params: str) -> Any:
    response = await client.get(f"/v1/reports/funnel/{menu}", headers=AUTH, params=params)
    assert response.status == 200, await response.text()
    return orjson.loads(await response.read())


def _screens(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["screen"]: row for row in report["screens"]}


async def _settled(client: TestClient[Any, Any], sessions: int) -> dict[str, Any]:
    """The report once this process has added its counts (about once a second)."""
    found: dict[str, Any] = {}

    async def counted() -> bool:
        found.update(await _report(client))
        return bool(found["sessions"] == sessions)

    await eventually(counted)
    return found


async def test_sessions_reaching_answering_and_dropping_each_screen(
    make_gateway: GatewayFactory,
) -> None:
    """Four sessions on the demo menu: one rates 9 (refused, asked again) then 5 and ends;
    one cancels on the rating screen; one times out on the welcome screen (AT's Failed); one
    chooses Help. The report counts each screen's sessions and says where and why they left;
    AT's retried notification counts nothing twice."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    kw = {"service_code": "*384#"}
    await journey(client, ["1", "9", "5"], session_id="s1", **kw)
    assert await _end(client, "s1", "Success") == 200
    await journey(client, ["1"], session_id="s2", **kw)
    for _ in range(2):  # AT retries: counted once
        assert await _end(client, "s2", "Incomplete") == 200
    await journey(client, [], session_id="s3", **kw)
    assert await _end(client, "s3", "Failed", errorMessage="Session timed out") == 200
    await journey(client, ["5"], session_id="s4", **kw)

    report = await _settled(client, 4)
    screens = _screens(report)
    assert report["menu"] == "demo" and report["tz"] == "UTC"
    assert report["screens"][0]["screen"] == "main"  # the menu's order, from its start
    main, rate, happy = screens["main"], screens["rate"], screens["happy"]
    assert (main["reached"], main["answered"], main["invalid"]) == (4, 3, 0)
    assert main["dropped"] == {"timeout": 1, "user": 0, "error": 0}
    assert (rate["reached"], rate["answered"], rate["invalid"]) == (2, 1, 1)
    assert rate["dropped"] == {"timeout": 0, "user": 1, "error": 0}
    assert rate["dropped_total"] == 1
    assert (happy["reached"], happy["dropped_total"]) == (1, 0)
    assert screens["help"]["reached"] == 1
    assert screens["rating_router"]["reached"] == 0  # routers pass through, never shown
    today = report["days"][-1]
    assert today["sessions"] == 4
    assert {row["screen"]: row["reached"] for row in today["screens"]}["rate"] == 2


async def test_an_idle_incomplete_session_is_a_timeout(make_gateway: GatewayFactory) -> None:
    """AT does not say whether an incomplete session timed out: one left idle longer than
    JUMBE_FUNNEL_IDLE_TIMEOUT counts as a timeout, a quick cancel as the subscriber's."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False, funnel_idle_timeout=0.3)
    kw = {"service_code": "*384#"}
    await journey(client, [], session_id="quick", **kw)
    assert await _end(client, "quick", "Incomplete") == 200
    await journey(client, [], session_id="idle", **kw)
    await asyncio.sleep(0.4)
    assert await _end(client, "idle", "Incomplete") == 200
    main = _screens(await _settled(client, 2))["main"]
    assert main["dropped"] == {"timeout": 1, "user": 1, "error": 0}


async def test_hubtel_says_which_ended_the_session(make_gateway: GatewayFactory) -> None:
    """Hubtel's Timeout is a timeout and its Release a subscriber's ending, on the screen the
    session stood on."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    for session_id, end in (("h1", "Timeout"), ("h2", "Release")):
        for kind, message in (("Initiation", "*384#"), (end, "")):
            response = await client.post("/ussd/hubtel", json={
                "Type": kind, "Message": message, "SessionId": session_id,
                "Mobile": "233244000001", "ServiceCode": "384", "Operator": "mtn",
                "Sequence": 1 if kind == "Initiation" else 2,
            })  # fmt: skip
            assert response.status == 200, await response.text()
    main = _screens(await _settled(client, 2))["main"]
    assert main["dropped"] == {"timeout": 1, "user": 1, "error": 0}


async def test_csv_bad_parameters_and_unknown_menus(make_gateway: GatewayFactory) -> None:
    """?format=csv is a row per day and screen with no phone number; a menu not served is 404,
    a bad zone or date 400 with the reason."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    await journey(client, ["1"], session_id="c1", service_code="*384#")
    await _settled(client, 1)
    response = await client.get("/v1/reports/funnel/demo", headers=AUTH,
                                params={"format": "csv"})  # fmt: skip
    assert response.status == 200 and response.content_type == "text/csv"
    text = await response.text()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {"date", "screen", "reached", "dropped_timeout"} <= set(rows[0])
    assert any(row["screen"] == "rate" and row["reached"] == "1" for row in rows)
    assert not re.search(r"\d{9,}", text)
    missing = await client.get("/v1/reports/funnel/nope", headers=AUTH)
    assert missing.status == 404
    assert "no menu 'nope'" in (await missing.json())["reason"]
    bad = await client.get("/v1/reports/funnel/demo", headers=AUTH, params={"tz": "Mars/Base"})
    assert bad.status == 400 and "tz" in (await bad.json())["reason"]
    assert (await client.get("/v1/reports/funnel/demo")).status == 401


async def test_jumbe_report_funnel_prints_and_draws(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """`jumbe report funnel demo` prints a row per screen; --format json is the API's document;
    --html writes a self-contained page with the funnel chart."""
    client = await make_gateway(api_token=TOKEN, sms_worker=False)
    await journey(client, ["1", "5"], session_id="r1", service_code="*384#")
    await journey(client, ["1"], session_id="r2", service_code="*384#")
    assert await _end(client, "r2", "Incomplete") == 200
    api = await _settled(client, 2)
    url = str(client.make_url("")).rstrip("/")
    code, out, err = await jumbe_async("report", "funnel", "demo", "--url", url, token=TOKEN)
    assert (code, err) == (0, "")
    assert out.startswith("Funnel of demo, ")
    assert "sessions: 2" in out
    assert re.search(r"^rate\s+input\s+2\s+1\s+0\s+0\s+1\s+0\s+50", out, re.M), out
    code, out, _ = await jumbe_async("report", "funnel", "demo", "--url", url, "--format", "json",
                                     token=TOKEN)  # fmt: skip
    assert code == 0 and json.loads(out) == api
    page = tmp_path / "funnel.html"
    code, _, err = await jumbe_async("report", "funnel", "demo", "--url", url, "--html", str(page),
                                     token=TOKEN)  # fmt: skip
    assert code == 0 and err == f"jumbe: wrote {page}\n"
    html = page.read_text()
    assert "Sessions reaching each screen" in html
    assert "<title>rate: 2 (100%)</title>" in html
    for network in ("http", "<script", "src=", "href="):
        assert network not in html.lower()


async def test_a_counter_redis_refuses_does_not_make_the_others_count_twice(
    redis_client: Any, redis_url: str
) -> None:
    """One menu's counters cannot be written (here: its key holds another type, as a Cluster
    master down or out of memory would refuse them): its counts wait for the next flush, and
    every other menu's counts are added exactly once however often that flush is retried."""
    hour = 490_000
    counts = FunnelCounts(clock=lambda: hour * 3600.0)
    counts.hop("good", "new", "", "main", False)
    counts.hop("bad", "new", "", "main", False)
    redis_client.set(keys.funnel_hops("bad", hour // 24), "not a hash")
    client = connect(redis_url, cluster=ON_CLUSTER, socket_timeout=5.0)
    try:
        for _ in range(3):
            assert await counts.flush(client) is False
    finally:
        await client.aclose()
    stored = redis_client.hgetall(keys.funnel_hops("good", hour // 24))
    at = hour % 24
    assert stored == {f"{at}|n|".encode(): b"1", f"{at}|r|main".encode(): b"1"}


async def test_turning_the_pages_of_a_re_prompt_is_not_another_invalid_answer(
    make_gateway: GatewayFactory, tmp_path: Path
) -> None:
    """A wrong answer re-prompts with a long `invalid` text over several pages: the subscriber
    reading its second page (98) is not counted as a second invalid answer."""
    content = tmp_path / "content"
    content.mkdir()
    long = " ".join(["Please answer with a whole number of cattle between 1 and 5."] * 5)
    (content / "herd.yaml").write_text(f"""\
id: herd
service_codes: ["*600#"]
start: count
screens:
  count:
    input:
      text: "How many cattle?"
      validate: {{integer: {{min: 1, max: 5}}}}
      invalid: "{long}"
      save: n
      next: done
  done:
    end: "Thanks"
""")
    client = await make_gateway(api_token=TOKEN, sms_worker=False, menus_dir=content)
    bodies = await journey(client, ["9", "98"], session_id="p1", service_code="*600#")
    assert bodies[1].startswith("CON Please answer") and bodies[2].startswith("CON ")
    assert bodies[2] != bodies[1]  # the re-prompt's second page

    async def counted() -> bool:
        report = await _report(client, "herd")
        return bool(report["sessions"] == 1 and _screens(report)["count"]["invalid"] >= 1)

    await eventually(counted)
    await asyncio.sleep(1.2)  # one more flush: nothing else may arrive
    assert _screens(await _report(client, "herd"))["count"]["invalid"] == 1
