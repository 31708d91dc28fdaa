"""`jumbe serve` as a real process: embedded Redis up, answers, clean stop, data kept."""

from __future__ import annotations

import signal
from pathlib import Path

from conftest import free_port
from processes import alive, descendants, environment, jumbe, post, redis_child, start


def test_serve_embedded_stop_and_restart_keeps_sessions(tmp_path: Path) -> None:
    """The first README command's server: answers, stops on SIGTERM, and a restart resumes."""
    port = free_port()
    data_dir = tmp_path / "var"
    server = start(port, data_dir)
    try:
        assert post(port, "").startswith("CON Welcome")
        assert post(port, "2") == "CON Rate us 1-5"
        redis_pid = redis_child(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    assert not alive(redis_pid), "redis-server stopped with the gateway"
    assert (data_dir / "appendonly.aof").exists() or (data_dir / "appendonlydir").exists()
    server = start(port, data_dir)
    try:
        assert post(port, "2*4") == "CON Any comment?", "the session survived the restart"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_second_server_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    """Two gateways cannot share one embedded data dir (the AOF would be corrupted)."""
    data_dir = tmp_path / "var"
    first = start(free_port(), data_dir)
    try:
        second = jumbe("serve", "--port", str(free_port()), "--data-dir", str(data_dir),
                       env=environment())  # fmt: skip
        assert second.returncode != 0
        assert f"in use by another Jumbe process (pid {first.pid})" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)


def test_workers_share_port_and_sessions(tmp_path: Path) -> None:
    """--workers 2: two processes on one port, one embedded Redis, all stopped by SIGTERM."""
    port = free_port()
    server = start(port, tmp_path / "var", "--workers", "2")
    try:
        processes = descendants(server.pid)
        assert len(processes) == 3, "two gateway workers and one redis-server"
        bodies = [post(port, "*".join(["2", "4", "fine"][:i])) for i in range(4)]
        assert bodies[-1] == "END Thanks"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not any(alive(pid) for pid in processes)
