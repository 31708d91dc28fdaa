"""Phone numbers never reach the logs; each hop logs one canonical line."""

from __future__ import annotations

import io

import orjson
import pytest
from conftest import GatewayFactory, hop

from gateway import logs
from gateway.privacy import Pseudonymizer, pseudonymize


def test_pseudonym_is_keyed_and_stable() -> None:
    """Same key and number → same pseudonym; another key → another; '+' does not matter."""
    key = b"k" * 32
    assert pseudonymize(key, "+254700000001") == pseudonymize(key, "254700000001")
    assert pseudonymize(key, "+254700000001") != pseudonymize(b"x" * 32, "+254700000001")
    assert Pseudonymizer(key)("+254700000001") == pseudonymize(key, "+254700000001")
    assert "254700000001" not in pseudonymize(key, "+254700000001")


@pytest.mark.parametrize("length", [0, 1, 32, 63, 64, 65, 200])
def test_the_cached_pseudonymizer_is_hmac_sha256_for_any_key_length(length: int) -> None:
    """``Pseudonymizer`` hashes from precomputed HMAC states: the same pseudonyms as
    ``pseudonymize`` (HMAC-SHA256) for short, block-sized and over-long keys."""
    key = bytes(range(256))[:length]
    pseudonym = Pseudonymizer(key, cache_size=2)
    for number in ("+254700000001", "254700000002", " +254700000003 ", "+254700000001"):
        assert pseudonym(number) == pseudonymize(key, number)


@pytest.fixture
def log_stream() -> io.BytesIO:
    stream = io.BytesIO()
    logs.configure("json", "info", stream=stream)
    yield stream
    logs.configure("json", "info")


def _lines(stream: io.BytesIO) -> list[dict[str, object]]:
    logs.flush()
    return [orjson.loads(line) for line in stream.getvalue().splitlines()]


async def test_one_canonical_line_per_hop(
    make_gateway: GatewayFactory, log_stream: io.BytesIO
) -> None:
    """A hop logs ussd_hop with menu, states, outcome, latency and a pseudonym — no number."""
    client = await make_gateway()
    await hop(client, "", phone="+254799888777")
    await hop(client, "2", phone="+254799888777")
    hops = [line for line in _lines(log_stream) if line["event"] == "ussd_hop"]
    assert len(hops) == 2
    second = hops[1]
    assert second["menu"] == "benchmark"
    assert (second["state_before"], second["state_after"]) == ("welcome", "rate")
    assert second["outcome"] == "continue"
    assert second["redis_round_trips"] == 1
    assert isinstance(second["latency_ms"], float)
    assert second["subscriber"] == pseudonymize(b"test-pseudonym-key", "+254799888777")
    assert b"254799888777" not in log_stream.getvalue()


async def test_a_number_in_a_callers_session_id_is_redacted_from_the_hop_line(
    make_gateway: GatewayFactory, log_stream: io.BytesIO
) -> None:
    """An aggregator that puts the caller's number in its session id: the hop line still
    carries no number (fields the caller sends are always scanned)."""
    client = await make_gateway()
    await hop(client, "", session_id="254711222333", phone="+254711222333")
    (line,) = [line for line in _lines(log_stream) if line["event"] == "ussd_hop"]
    assert line["session_id"] == "<redacted>"
    assert b"254711222333" not in log_stream.getvalue()


async def test_numbers_are_redacted_even_when_logged_by_mistake(log_stream: io.BytesIO) -> None:
    """The backstop: a raw number passed to any logger is replaced by <redacted>."""
    logs.get_logger("test").warning("oops", note="call +254711222333 now", other="0711222333")
    logs.emit("also", value="+2348031234567")
    logs.flush()
    text = log_stream.getvalue()
    assert b"254711222333" not in text and b"0711222333" not in text
    assert b"2348031234567" not in text
    assert text.count(b"<redacted>") == 3


def test_a_value_seen_before_is_written_as_it_was_scanned(log_stream: io.BytesIO) -> None:
    """The hop line remembers what it scanned (a session id comes back on every hop): a number
    is redacted on each line, not only the first, and a clean value is kept as it is, also
    after the memory of scanned values has been emptied for being full."""
    for _ in range(3):
        logs.emit("ussd_hop", session_id="call-254711222333", menu="survey2")
    for n in range(5000):  # more distinct values than it remembers
        logs.emit("ussd_hop", session_id=f"s{n}")
    logs.emit("ussd_hop", session_id="call-254711222333", menu="survey2")
    logs.flush()
    lines = [line for line in _lines(log_stream) if line["session_id"].startswith("call")]
    assert [line["session_id"] for line in lines] == ["call-<redacted>"] * 4
    assert [line["menu"] for line in lines] == ["survey2"] * 4
    assert b"254711222333" not in log_stream.getvalue()


def test_numbers_after_escaped_newlines_and_in_tracebacks_are_redacted(
    log_stream: io.BytesIO,
) -> None:
    """A number on its own line inside a nested value, or in an exception, never gets out."""
    log = logs.get_logger("test")
    log.warning("screen", lines=["Send to:\n254711222333", {"to": "\t0711222333"}])
    try:
        raise ValueError("no route for\n+2348031234567")
    except ValueError:
        log.exception("failed")
    logs.flush()
    text = log_stream.getvalue()
    assert b"254711222333" not in text and b"0711222333" not in text
    assert b"2348031234567" not in text
    assert b"Send to:\\n<redacted>" in text
    assert [line["event"] for line in _lines(log_stream)] == ["screen", "failed"]


def test_warning_level_keeps_warnings_and_drops_the_per_call_lines() -> None:
    """``JUMBE_LOG_LEVEL=warning``: the hop and API lines (written by the fast path) are
    dropped like any info line; warnings still go out."""
    stream = io.BytesIO()
    logs.configure("json", "warning", stream=stream)
    try:
        logs.emit("ussd_hop", session_id="s1")
        logs.get_logger("test").info("dropped")
        logs.get_logger("test").warning("kept")
        assert [line["event"] for line in _lines(stream)] == ["kept"]
    finally:
        logs.configure("json", "info")


def test_hop_line_timestamp_is_iso_utc() -> None:
    """The fast timestamp has structlog's shape and tracks the clock."""
    import re
    from datetime import UTC, datetime

    stamp = logs.iso_now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", stamp)
    parsed = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 1
