"""``GET /metrics``: what an operator's Prometheus scrapes, from one process or ``--workers``."""

from __future__ import annotations

import asyncio
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from conftest import PHONE, GatewayFactory, RedisProcess, free_port, hop, journey
from processes import post, start
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from gateway import metrics


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by (name, sorted labels)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _scrape(client: TestClient[Any, Any]) -> tuple[str, dict[Any, float]]:
    response = await client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    return text, _samples(text)


def _hops(samples: dict[Any, float], outcome: str, menu: str = "benchmark") -> float:
    labels = (("channel", "africastalking"), ("menu", menu), ("outcome", outcome))
    return samples.get(("jumbe_ussd_hops_total", labels), 0.0)


async def test_hops_are_counted_by_menu_and_outcome(make_gateway: GatewayFactory) -> None:
    """A four-hop journey counts as new, continue twice and end, in its menu; the aggregator's
    retry of the last hop as a duplicate; five timings; no phone number anywhere in the page."""
    client = await make_gateway()
    _, before = await _scrape(client)
    await journey(client, ["2", "4", "great"], session_id="m1")
    await hop(client, "2*4*great", session_id="m1")  # the aggregator retries the last hop
    text, after = await _scrape(client)
    added = {o: _hops(after, o) - _hops(before, o) for o in ("new", "continue", "end", "duplicate")}
    assert added == {"new": 1, "continue": 2, "end": 1, "duplicate": 1}
    count = ("jumbe_ussd_hop_seconds_count", ())
    assert after[count] - before.get(count, 0.0) == 5
    assert PHONE not in text and PHONE.lstrip("+") not in text


def test_hop_latencies_land_in_their_buckets() -> None:
    """Tallied hops are published into the histogram's buckets as ``observe`` would put them:
    a bound counts the hops at or under it, ``+Inf`` all of them, the sum adds up."""

    def scrape() -> dict[Any, float]:
        return _samples(metrics.exposition().decode())

    def bucket(samples: dict[Any, float], le: str) -> float:
        return samples.get(("jumbe_ussd_hop_seconds_bucket", (("le", le),)), 0.0)

    before = scrape()
    for seconds in (0.0005, 0.001, 0.003, 7.0):
        metrics.count_hop("test", "buckets", "new", seconds)
    after = scrape()
    added = {le: bucket(after, le) - bucket(before, le) for le in ("0.001", "0.005", "5.0", "+Inf")}
    assert added == {"0.001": 2, "0.005": 3, "5.0": 3, "+Inf": 4}
    total = ("jumbe_ussd_hop_seconds_sum", ())
    assert after[total] - before[total] == pytest.approx(7.0045)
    label = (("channel", "test"), ("menu", "buckets"), ("outcome", "new"))
    assert (
        after[("jumbe_ussd_hops_total", label)] - before.get(("jumbe_ussd_hops_total", label), 0)
        == 4
    )


def test_ad_decisions_are_published_at_a_scrape() -> None:
    """Tallied ad decisions reach /metrics at the next scrape: outcomes, fail-open reasons and
    the decision time's buckets."""

    def scrape() -> dict[Any, float]:
        return _samples(metrics.exposition().decode())

    before = scrape()
    for reason, seconds in (("", 0.0004), ("", 0.003), ("no_fit", 0.0004)):
        metrics.count_ad_decision(reason, seconds)
    after = scrape()

    def added(name: str, *labels: tuple[str, str]) -> float:
        return after.get((name, labels), 0.0) - before.get((name, labels), 0.0)

    assert added("jumbe_ads_decisions_total", ("outcome", "ad")) == 2
    assert added("jumbe_ads_decisions_total", ("outcome", "fail_open")) == 1
    assert added("jumbe_ads_fail_open_total", ("reason", "no_fit")) == 1
    assert added("jumbe_ads_decision_seconds_bucket", ("le", "0.0005")) == 2
    assert added("jumbe_ads_decision_seconds_bucket", ("le", "0.005")) == 3


def test_hops_tallied_in_a_loop_that_closed_are_published_by_the_next_one() -> None:
    """A loop that ends before its publish runs (a tool, a test, a restart of the loop) does
    not leave the tally stuck: the next loop's hops publish everything within a second,
    without a scrape."""
    label = {"channel": "test", "menu": "loops", "outcome": "new"}

    def published() -> float:
        return REGISTRY.get_sample_value("jumbe_ussd_hops_total", label) or 0.0

    async def one_hop(wait: float) -> None:
        metrics.count_hop("test", "loops", "new", 0.001)
        await asyncio.sleep(wait)

    before = published()
    asyncio.run(one_hop(0))  # closes before its publish is due
    asyncio.run(one_hop(metrics.PUBLISH_AFTER_S + 0.3))
    assert published() - before == 2


async def test_sms_queue_depth_is_read_from_redis(make_gateway: GatewayFactory) -> None:
    """A message scheduled for later shows in ``jumbe_sms_queue_depth{queue="scheduled"}``."""
    client = await make_gateway(api_token="t" * 32, sms_worker=False)
    _, before = await _scrape(client)
    later = {"to": "+254711000123", "text": "Later", "category": "transactional",
             "send_at": int(time.time()) + 30 * 86400}  # fmt: skip
    response = await client.post("/v1/sms", json=later,
                                 headers={"Authorization": "Bearer " + "t" * 32})  # fmt: skip
    assert response.status == 202, await response.text()
    _, after = await _scrape(client)
    scheduled = ("jumbe_sms_queue_depth", (("queue", "scheduled"),))
    assert before[scheduled] == 0 and after[scheduled] == 1
    assert after[("jumbe_metrics_redis_up", ())] == 1


async def test_a_scrape_while_redis_is_down_still_answers(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """Redis stops: hops fail readably and are counted, Redis errors are counted, and the
    scrape answers 200 with ``jumbe_metrics_redis_up 0`` instead of the queue depths."""
    client = await make_gateway(redis_url=own_redis.url)
    _, before = await _scrape(client)
    own_redis.stop()
    status, body = await hop(client, "", session_id="down1")
    assert status == 200 and body.startswith("END ")
    _, after = await _scrape(client)
    assert after[("jumbe_metrics_redis_up", ())] == 0
    assert not any(name == "jumbe_sms_queue_depth" for name, _ in after)
    assert _hops(after, "store_unavailable") - _hops(before, "store_unavailable") == 1
    errors = ("jumbe_redis_errors_total", (("client", "hop_path"), ("error", "unavailable")))
    assert after[errors] - before.get(errors, 0.0) >= 1


def test_workers_report_their_sum(tmp_path: Path) -> None:
    """``--workers 2``: whichever worker answers the scrape, it reports every worker's hops."""
    port = free_port()
    server = start(port, tmp_path / "var", "--workers", "2")
    try:
        for i in range(20):  # keep-alive off: the kernel spreads connections over both workers
            post(port, "", session=f"w{i}")
        time.sleep(metrics.PUBLISH_AFTER_S + 0.5)  # each worker publishes its tally within 1 s
        totals = set()
        for _ in range(10):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
                totals.add(_hops(_samples(page.read().decode()), "new"))
        assert totals == {20.0}
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
