"""Every Prometheus series Jumbe exports, defined once (``prometheus-client``), and its text.

With ``jumbe serve --workers N`` the supervisor gives all workers one
``PROMETHEUS_MULTIPROC_DIR`` (read by prometheus-client at import): each worker writes its
values there and ``/metrics``, whichever worker answers, adds them all up. Values that are not
per process (queue depths) are read from Redis at scrape time instead (``http/metrics.py``).

Labels never carry a phone number or a pseudonym: only channel, menu id, outcome, status and
similar bounded values.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

# ``*_created`` series would double the page, and no dashboard reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HOPS = Counter(
    "jumbe_ussd_hops", "USSD hops answered, by channel, menu and outcome (new, continue, end, "
    "duplicate, stale, timeout, store_unavailable, …)", ["channel", "menu", "outcome"],
)  # fmt: skip
HOP_SECONDS = Histogram(
    "jumbe_ussd_hop_seconds", "Time to answer one USSD hop, from request parsed to reply",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)  # fmt: skip
REDIS_ERRORS = Counter(
    "jumbe_redis_errors", "Redis commands that failed: unavailable (down, timed out) or reply "
    "(an error answer)", ["client", "error"],
)  # fmt: skip

SMS_MESSAGES = Counter(
    "jumbe_sms_messages", "Outbound SMS reaching a status: queued, scheduled, sent, retrying, "
    "delivered, failed, rejected, refused, dead, … (a delivery report counts once)", ["status"],
)  # fmt: skip

# --- Balance-check ads (issue 11) ---
ADS_DECISIONS = Counter(
    "jumbe_ads_decisions", "Balance-check ad decisions, by outcome (ad, fail_open)", ["outcome"]
)
ADS_FAIL_OPEN = Counter(
    "jumbe_ads_fail_open", "Balance checks answered without an ad, by reason (no_consent, "
    "no_campaign, capped, no_fit, refused, timeout, store_unavailable, error)", ["reason"],
)  # fmt: skip
ADS_DECISION_SECONDS = Histogram(
    "jumbe_ads_decision_seconds", "Time to decide one balance-check ad (deadline included)",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25),
)  # fmt: skip


PUBLISH_AFTER_S = 1.0
"""Hops and ad decisions are tallied in plain integers and added to the Prometheus values at
most this long after (and at every scrape of this process): ~0.1 µs each instead of ~1 µs."""


class _Tally:
    """Counts by label and a latency histogram kept in plain integers, published into the
    Prometheus values (under ``--workers`` the shared files) by ``publish``. The histogram's
    buckets get their counts directly (prometheus-client keeps one value per bucket, not
    cumulative; ``observe`` adds 1 to the first bound ≥ the amount, as ``bisect_left``
    finds it)."""

    def __init__(self, histogram: Histogram, count: Callable[[Any, int], None]) -> None:
        self.histogram = histogram
        self.count = count
        self.bounds = histogram._upper_bounds
        self.counts: dict[Any, int] = {}
        self.buckets = [0] * len(self.bounds)
        self.sum = 0.0
        self.scheduled: asyncio.AbstractEventLoop | None = None
        """The loop a publish is scheduled on (a closed one publishes nothing: schedule anew)."""

    def add(self, label: Any, seconds: float) -> None:
        counts = self.counts
        counts[label] = counts.get(label, 0) + 1
        self.buckets[bisect_left(self.bounds, seconds)] += 1
        self.sum += seconds
        if self.scheduled is None or self.scheduled.is_closed():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.publish()
                return
            self.scheduled = loop
            loop.call_later(PUBLISH_AFTER_S, self.publish)

    def publish(self) -> None:
        self.scheduled = None
        if not self.counts:
            return
        for label, n in self.counts.items():
            self.count(label, n)
        self.counts.clear()
        for index, n in enumerate(self.buckets):
            if n:
                self.histogram._buckets[index].inc(n)
                self.buckets[index] = 0
        self.histogram._sum.inc(self.sum)
        self.sum = 0.0


def _count_hops(label: tuple[str, str, str], n: int) -> None:
    HOPS.labels(*label).inc(n)


def _count_ads(reason: str, n: int) -> None:
    ADS_DECISIONS.labels("fail_open" if reason else "ad").inc(n)
    if reason:
        ADS_FAIL_OPEN.labels(reason).inc(n)


_HOP_TALLY = _Tally(HOP_SECONDS, _count_hops)
_AD_TALLY = _Tally(ADS_DECISION_SECONDS, _count_ads)


def count_hop(channel: str, menu: str, outcome: str, seconds: float) -> None:
    """One hop answered (published within ``PUBLISH_AFTER_S``, see ``publish_hops``)."""
    _HOP_TALLY.add((channel, menu, outcome), seconds)


def publish_hops() -> None:
    """Add the tallied hops to ``HOPS`` and ``HOP_SECONDS`` (the values ``/metrics`` reads)."""
    _HOP_TALLY.publish()


def count_ad_decision(reason: str, seconds: float) -> None:
    """One balance check answered: with an ad (``reason`` empty) or failing open, and why
    (published within ``PUBLISH_AFTER_S``, see ``publish_ads``)."""
    _AD_TALLY.add(reason, seconds)


def publish_ads() -> None:
    """Add the tallied decisions to ``ADS_DECISIONS``, ``ADS_FAIL_OPEN`` and
    ``ADS_DECISION_SECONDS``."""
    _AD_TALLY.publish()


def count_sms(status: str) -> None:
    """One outbound message reached ``status``."""
    SMS_MESSAGES.labels(status).inc()


def count_redis_error(client: str, error: str) -> None:
    REDIS_ERRORS.labels(client, error).inc()


# --- Surveys (issue 12) ---
SURVEY_DISPOSITIONS = Counter(
    "jumbe_survey_dispositions", "Survey respondents reaching a disposition (contacted, started, "
    "completed, breakoff, refused, unresponsive, rejected, …), by survey and channel",
    ["survey", "channel", "disposition"],
)  # fmt: skip


_survey_counters: dict[tuple[str, str, str], Callable[[], None]] = {}


def count_survey(survey: str, channel: str, disposition: str) -> None:
    """A respondent reached ``disposition`` (counted where the step is decided; a retried hop
    may count twice, the report (``/v1/reports/surveys``) never does). Labelled children are
    cached, as for hops."""
    label = (survey, channel, disposition)
    inc = _survey_counters.get(label)
    if inc is None:
        inc = _survey_counters[label] = SURVEY_DISPOSITIONS.labels(*label).inc
    inc()


def exposition(extra: CollectorRegistry | None = None) -> bytes:
    """The Prometheus text of this process (or of every worker), then ``extra``'s series."""
    publish_hops()
    publish_ads()
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    return text + (generate_latest(extra) if extra is not None else b"")


# --- Rewards (issue 13) ---------------------------------------------------------------------------
REDEMPTIONS = Counter(
    "jumbe_rewards_redemptions", "Redemptions by the state they reached (HELD, SUBMITTED, "
    "SUCCESS, FAILED, REVERSED) or refused before any hold", ["state"],
)  # fmt: skip


def count_redemption(state: str) -> None:
    REDEMPTIONS.labels(state).inc()
