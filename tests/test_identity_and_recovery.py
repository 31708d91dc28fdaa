"""A subscriber is the same subscriber after a restart, in every worker; Redis faults heal.

Real ``jumbe serve`` processes on the embedded Redis (or a redis-server of the test's own),
stopped, killed and restarted the way an operator or a crash would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import stat
import time
from pathlib import Path
from typing import Any

import pytest
import redis
from conftest import GatewayFactory, RedisProcess, eventually, free_port, settings_for
from processes import (
    alive,
    environment,
    jumbe,
    log_events,
    post,
    ready,
    redis_child,
    start,
    wait_for,
)

from gateway.consent.ledger import ConsentLedger
from gateway.errors import ConfigError
from gateway.store.connection import prepared_store
from gateway.store.meta import acknowledge

KEY_A = "a" * 40
KEY_B = "b" * 40
SW_GREETING = "CON Karibu Jumbe"


def _choose_swahili(port: int, session: str, phone: str) -> None:
    post(port, "", session, "*384#", phone)
    post(port, "4", session, "*384#", phone)
    assert post(port, "4*2", session, "*384#", phone).startswith(SW_GREETING)


def test_language_chosen_before_a_restart_is_kept_after_it(tmp_path: Path) -> None:
    """make run → choose Kiswahili → stop → make run: the next session greets in Kiswahili,
    with the key created once in the data dir (mode 0600) and reused."""
    port, data_dir = free_port(), tmp_path / "var"
    server = start(port, data_dir)
    try:
        _choose_swahili(port, "before", "+254700000111")
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    key_file = data_dir / "pseudonym.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_text()
    server = start(port, data_dir)
    try:
        assert post(port, "", "after", "*384#", "+254700000111").startswith(SW_GREETING)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
    assert key_file.read_text() == key


def test_every_worker_knows_the_subscriber(tmp_path: Path) -> None:
    """--workers 2: each of 30 new sessions of a subscriber uses the language they chose."""
    port = free_port()
    server = start(port, tmp_path / "var", "--workers", "2")
    try:
        _choose_swahili(port, "choose", "+254700000222")
        greetings = [post(port, "", f"new{i}", "*384#", "+254700000222") for i in range(30)]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert all(g.startswith(SW_GREETING) for g in greetings), greetings


def test_external_redis_without_a_key_is_refused(own_redis: RedisProcess) -> None:
    """With --redis and no JUMBE_PSEUDONYM_KEY, serve says what to set and does not start."""
    result = jumbe("serve", "--port", str(free_port()), "--redis", own_redis.url)
    assert result.returncode == 2
    assert "JUMBE_PSEUDONYM_KEY is required with an external Redis" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_short_key_is_refused(own_redis: RedisProcess) -> None:
    """A key too short to be a secret is refused with how to make one."""
    result = jumbe("serve", "--port", str(free_port()), "--redis", own_redis.url,
                   env=environment(JUMBE_PSEUDONYM_KEY="short"))  # fmt: skip
    assert result.returncode == 2
    assert "at least 32 characters" in result.stderr and "openssl rand" in result.stderr


def test_a_different_key_than_the_data_was_written_with_is_refused(
    own_redis: RedisProcess,
) -> None:
    """Changing JUMBE_PSEUDONYM_KEY would orphan every subscriber: the gateway refuses."""
    with prepared_store(settings_for(own_redis.url, pseudonym_key=KEY_A.encode())):
        pass
    with (
        pytest.raises(ConfigError, match="not the key this Redis's data was written with"),
        prepared_store(settings_for(own_redis.url, pseudonym_key=KEY_B.encode())),
    ):
        pass
    with prepared_store(settings_for(own_redis.url, pseudonym_key=KEY_A.encode())):
        pass


def test_lost_embedded_data_is_detected_until_acknowledged(tmp_path: Path) -> None:
    """The append-only file lost between two starts: /readyz reports the loss until an operator
    runs `jumbe ack-data-loss`, which clears it while the gateway runs."""
    port, data_dir = free_port(), tmp_path / "var"
    server = start(port, data_dir)
    assert "data_loss" not in ready(port)[1]
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=20) == 0
    for path in data_dir.glob("appendonly*"):
        if path.is_dir():
            for part in path.iterdir():
                part.unlink()
            path.rmdir()
        else:
            path.unlink()
    server = start(port, data_dir)
    try:
        status, body = ready(port)
        assert status == 200, "hops are still served"
        assert "append-only file was lost" in body["data_loss"]
        acked = jumbe("ack-data-loss", "--data-dir", str(data_dir), "--note", "restored")
        assert acked.returncode == 0 and "acknowledged:" in acked.stdout
        assert "data_loss" not in ready(port)[1]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


async def test_opt_out_marketing_waits_after_redis_loses_its_data(
    make_gateway: GatewayFactory, own_redis: RedisProcess
) -> None:
    """Opt-out mode: after FLUSHALL (data loss), a send to a subscriber with no recorded
    decision is refused — their STOP may be gone — until the loss is acknowledged."""
    client = await make_gateway(redis_url=own_redis.url, sms_worker=False)
    ledger = ConsentLedger(client.server.app[_redis_key()], "opt_out",
                           guard=client.server.app[_guard_key()])  # fmt: skip
    assert await ledger.refusal("p_someone", "promo_sms") is None
    store = redis.Redis.from_url(own_redis.url)
    store.flushall()
    refusal = await ledger.refusal("p_someone", "promo_sms")
    assert refusal is not None and "may be lost" in refusal

    async def loss_recorded() -> bool:
        return store.hget("j:meta:{meta}", "lost_reason") is not None

    await eventually(loss_recorded, 5)
    assert "vanished" in (await ledger.refusal("p_someone", "promo_sms") or "")
    assert acknowledge(store, "test") is not None
    assert await ledger.refusal("p_someone", "promo_sms") is None


def _redis_key() -> Any:
    from gateway.appkeys import REDIS

    return REDIS


def _guard_key() -> Any:
    from gateway.appkeys import DATA_GUARD

    return DATA_GUARD


def test_a_killed_embedded_redis_is_restarted(tmp_path: Path) -> None:
    """kill -9 of the embedded redis-server: serve restarts it within 5 s and sessions go on."""
    port = free_port()
    server = start(port, tmp_path / "var")
    try:
        assert post(port, "", "s1").startswith("CON Welcome")
        assert post(port, "2", "s1") == "CON Rate us 1-5"
        time.sleep(1.2)  # appendfsync everysec: let the session reach the disk
        first = redis_child(server.pid)
        os.kill(first, signal.SIGKILL)
        killed = time.monotonic()
        wait_for(lambda: ready(port)[0] == 200 and ready(port)[1].get(
            "embedded_redis_restarts") == 1, 10, "redis restarted")  # fmt: skip
        assert time.monotonic() - killed < 5
        assert redis_child(server.pid) != first
        assert post(port, "2*4", "s1") == "CON Any comment?"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0


def test_an_orphaned_redis_of_a_killed_gateway_is_stopped_not_doubled(tmp_path: Path) -> None:
    """kill -9 of serve leaves its redis-server running; the next serve stops that orphan
    (never a second server on the same append-only file) and the data is all there."""
    port, data_dir = free_port(), tmp_path / "var"
    server = start(port, data_dir)
    post(port, "", "s2")
    post(port, "2", "s2")
    time.sleep(1.2)
    orphan = redis_child(server.pid)
    server.kill()
    server.wait(timeout=10)
    assert alive(orphan), "the orphan survives its gateway"
    server = start(port, data_dir)
    try:
        assert not alive(orphan)
        assert post(port, "2*5", "s2") == "CON Any comment?"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_port_in_use_is_one_clear_line(tmp_path: Path) -> None:
    """A taken port: one line naming it, non-zero exit, and no 'serving' banner."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = jumbe("serve", "--port", str(port), "--data-dir", str(tmp_path / "var"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"jumbe: cannot listen on 127.0.0.1:{port}: address already in use"
    ]


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_invalid_port_is_refused(port: str, tmp_path: Path) -> None:
    """A port outside 1-65535 is refused before anything starts."""
    result = jumbe("serve", "--port", port, "--data-dir", str(tmp_path / "var"))
    assert result.returncode == 2
    assert "a port is a number from 1 to 65535" in result.stderr
    assert not (tmp_path / "var").exists(), "nothing was started"


def test_unreachable_or_wrong_redis_is_one_clear_line() -> None:
    """Nothing listening, a URL that is not Redis's, a server that is not Redis: one line each
    naming the URL (never its password), and a non-zero exit."""
    import socket
    import threading

    env = environment(JUMBE_PSEUDONYM_KEY=KEY_A)
    nothing = f"redis://:s3cret@127.0.0.1:{free_port()}/0"
    down = jumbe("serve", "--port", str(free_port()), "--redis", nothing, env=env)
    assert down.returncode == 1
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jumbe: cannot use Redis at redis://:***@")
    assert "s3cret" not in down.stderr
    scheme = jumbe("serve", "--port", str(free_port()), "--redis", "http://127.0.0.1:6379",
                   env=env)  # fmt: skip
    assert scheme.returncode == 2 and "unsupported Redis URL" in scheme.stderr
    with socket.socket() as other:  # a server that is not Redis: answers nonsense and hangs up
        other.bind(("127.0.0.1", 0))
        other.listen()

        def answer_nonsense() -> None:
            with contextlib.suppress(OSError):
                connection, _ = other.accept()
                with connection:
                    connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

        threading.Thread(target=answer_nonsense, daemon=True).start()
        url = f"redis://127.0.0.1:{other.getsockname()[1]}/0"
        wrong = jumbe("serve", "--port", str(free_port()), "--redis", url, env=env)
    assert wrong.returncode == 1
    assert wrong.stderr.strip().splitlines()[0].startswith(f"jumbe: cannot use Redis at {url}:")


def test_redis_going_away_at_run_time_is_logged_with_the_reason(
    own_redis: RedisProcess, tmp_path: Path
) -> None:
    """Redis stopped under a running gateway: a warning says so and why; recovery is logged."""
    port, log = free_port(), tmp_path / "serve.log"
    server = start(port, None, "--redis", own_redis.url, env=environment(JUMBE_PSEUDONYM_KEY=KEY_A),
                   log=log)  # fmt: skip
    try:
        post(port, "", "s3")
        own_redis.stop()
        assert post(port, "2", "s3").startswith("END Sorry")
        wait_for(lambda: log_events(log, "redis_unavailable"), 5, "warning logged")
        warning = log_events(log, "redis_unavailable")[0]
        assert warning["level"] == "warning" and warning["reason"]
        own_redis.start()
        assert post(port, "2", "s3") == "CON Rate us 1-5"
        wait_for(lambda: log_events(log, "redis_available_again"), 5, "recovery logged")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def _api(port: int, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    import json
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer api-token", "Content-Type": "application/json"},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_stop_before_a_restart_still_refuses_promotions_after_it(tmp_path: Path) -> None:
    """Opt-out mode, embedded Redis: STOP, restart, then a promotion to that number is refused
    (409 with the reason) while a receipt is accepted (202)."""
    import urllib.request

    port, data_dir = free_port(), tmp_path / "var"
    env = environment(JUMBE_API_TOKEN="api-token", JUMBE_CONSENT_MODE="opt_out",
                      JUMBE_SMS_WORKER="0")  # fmt: skip
    server = start(port, data_dir, env=env)
    try:
        stop = urllib.request.Request(
            f"http://127.0.0.1:{port}/sms/africastalking/inbound",
            data=b"from=%2B254700000444&to=22384&text=STOP&id=ATXid_restart&networkCode=63902",
        )
        with urllib.request.urlopen(stop, timeout=5) as response:
            assert response.status == 200
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    server = start(port, data_dir, env=env)
    try:
        promo = {"to": "+254700000444", "text": "2x data today", "category": "promotional"}
        status, body = _api(port, "/v1/sms", promo)
        assert status == 409 and "opted out of promo_sms" in body["reason"]
        receipt = {"to": "+254700000444", "text": "Receipt: KES 50", "category": "transactional"}
        assert _api(port, "/v1/sms", receipt)[0] == 202
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)
