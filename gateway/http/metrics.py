"""``GET /metrics``: Prometheus text, no token (DESIGN §4): the series in ``gateway.metrics``,
plus queue depths read from Redis at scrape time (they belong to no single process).

A scrape while Redis is down still answers 200 with the process's series; the queue depths are
left out and ``jumbe_metrics_redis_up`` says 0.
"""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from gateway import metrics
from gateway.appkeys import REDIS, SETTINGS
from gateway.errors import StoreError
from gateway.rewards.runtime import QUEUE_SHARDS
from gateway.rewards.service import QUEUE
from gateway.store import keys
from gateway.store.client import StoreClient

SMS_QUEUES = (("scheduled", keys.sms_due, "ZCARD"), ("ready", keys.sms_queue, "XLEN"),
              ("dead", keys.sms_dead, "XLEN"))  # fmt: skip
"""``jumbe_sms_queue_depth{queue}``: messages waiting for their time (send at, quiet hours,
retry backoff), ready or being sent, and dead-lettered (the capped streams' length), summed
over the outbox's shards."""


JOB_QUEUES = ((QUEUE, QUEUE_SHARDS),)
"""``jumbe_jobs_queue_depth{queue, state}`` for each durable job queue (``gateway.jobs``), summed
over its shards: ``waiting`` (due later: retry backoff, rechecks), ``ready`` (ready or being
worked on) and ``dead``."""


def add_routes(app: web.Application) -> None:
    app.router.add_get("/metrics", metrics_page)


async def metrics_page(request: web.Request) -> web.Response:
    body = metrics.exposition(await _live(request.app[REDIS],
                                          request.app[SETTINGS].sms.shards))  # fmt: skip
    return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})


async def _live(client: StoreClient, sms_shards: int) -> CollectorRegistry:
    """The series read from Redis now."""
    registry = CollectorRegistry(auto_describe=False)
    up = GaugeMetricFamily("jumbe_metrics_redis_up", "Whether Redis answered this scrape")
    depth = GaugeMetricFamily("jumbe_sms_queue_depth", "Outbound SMS waiting, by queue",
                              labels=["queue"])  # fmt: skip
    jobs = GaugeMetricFamily("jumbe_jobs_queue_depth", "Durable jobs by queue and state",
                             labels=["queue", "state"])  # fmt: skip
    try:
        for name, key_of, command in SMS_QUEUES:
            pipe = client.pipeline(transaction=False)
            for shard in keys.sms_shards(sms_shards):
                pipe.execute_command(command, key_of(shard))
            depth.add_metric([name], float(sum(await pipe.execute())))
        for queue, shards in JOB_QUEUES:
            counts = dict.fromkeys(("waiting", "ready", "dead"), 0.0)
            for shard in range(shards):
                counts["waiting"] += await client.zcard(keys.jobs_due(queue, shard))
                counts["ready"] += await client.xlen(keys.jobs_queue(queue, shard))
                counts["dead"] += await client.xlen(keys.jobs_dead(queue, shard))
            for state, count in counts.items():
                jobs.add_metric([queue, state], count)
    except StoreError:
        up.add_metric([], 0.0)
    else:
        up.add_metric([], 1.0)
        registry.register(_Fixed(depth))
        registry.register(_Fixed(jobs))
    registry.register(_Fixed(up))
    return registry


class _Fixed:
    """A collector that yields series already read."""

    def __init__(self, family: GaugeMetricFamily) -> None:
        self.family = family

    def collect(self) -> list[GaugeMetricFamily]:
        return [self.family]
