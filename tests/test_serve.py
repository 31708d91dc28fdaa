"""`jumbe serve` as a real process: embedded Redis up, answers, clean stop, data kept."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from conftest import ROOT


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _post(port: int, text: str) -> str:
    body = (
        f"sessionId=ATUid_serve&serviceCode=%2A384%2A123%23&phoneNumber=%2B254700000009"
        f"&networkCode=63902&text={text}"
    ).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ussd/africastalking", data=body)
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def _start(port: int, data_dir: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JUMBE_REDIS_URL")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "serve",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir),
            "--log-format",
            "json",
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                stderr = process.stderr.read().decode() if process.stderr else ""
                raise AssertionError(f"jumbe serve exited: {stderr}") from None
            time.sleep(0.1)
    process.kill()
    raise AssertionError("jumbe serve did not become ready")


def _redis_children(parent: int) -> list[int]:
    out = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True, check=True
    )
    rows = [line.split(None, 2) for line in out.stdout.splitlines()]
    return [
        int(pid)
        for pid, ppid, comm in rows
        if int(ppid) == parent and comm.startswith("redis-server")
    ]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def test_serve_embedded_stop_and_restart_keeps_sessions(tmp_path: Path) -> None:
    """The first README command's server: answers, stops on SIGTERM, and a restart resumes."""
    port = _free_port()
    data_dir = tmp_path / "var"
    server = _start(port, data_dir)
    try:
        assert _post(port, "").startswith("CON Welcome")
        assert _post(port, "2") == "CON Rate us 1-5"
        children = _redis_children(server.pid)
        for _ in range(20):  # ps can miss a child that is being scheduled; look again briefly
            if children:
                break
            time.sleep(0.1)
            children = _redis_children(server.pid)
        assert len(children) == 1, "an embedded redis-server runs"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
    assert not _alive(children[0]), "redis-server stopped with the gateway"
    assert (data_dir / "appendonly.aof").exists() or (data_dir / "appendonlydir").exists()
    server = _start(port, data_dir)
    try:
        assert _post(port, "2*4") == "CON Any comment?", "the session survived the restart"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=20)


def test_second_server_on_same_data_dir_is_refused(tmp_path: Path) -> None:
    """Two gateways cannot share one embedded data dir (the AOF would be corrupted)."""
    data_dir = tmp_path / "var"
    first = _start(_free_port(), data_dir)
    try:
        env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JUMBE_REDIS_URL")}
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "gateway",
                "serve",
                "--port",
                str(_free_port()),
                "--data-dir",
                str(data_dir),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode != 0
        assert "in use by another Jumbe process" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(timeout=20)


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    children: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def test_workers_share_port_and_sessions(tmp_path: Path) -> None:
    """--workers 2: two processes on one port, one embedded Redis, all stopped by SIGTERM."""
    port = _free_port()
    server = _start(port, tmp_path / "var", "--workers", "2")
    try:
        processes = _descendants(server.pid)
        assert len(processes) == 3, "two gateway workers and one redis-server"
        bodies = [_post(port, "*".join(["2", "4", "fine"][:i])) for i in range(4)]
        assert bodies[-1] == "END Thanks"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    assert not any(_alive(pid) for pid in processes)
