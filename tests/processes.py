"""Helpers for tests that run ``jumbe serve`` as a real process (imported by test modules)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from conftest import ROOT

CLEAN_ENV = ("REDIS_URL", "JUMBE_REDIS_URL", "JUMBE_PSEUDONYM_KEY")


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without Redis or key settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env.update(extra)
    return env


def jumbe(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Any:
    """Run ``jumbe ARGS`` to completion; the ``CompletedProcess`` (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "gateway", *args], cwd=ROOT, env=env or environment(),
        capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


async def jumbe_async(*args: str, token: str | None = None) -> tuple[int, str, str]:
    """Run ``jumbe ARGS`` without blocking the test's event loop (which may be the gateway's),
    with no ``JUMBE_*`` variables but ``JUMBE_API_TOKEN=token``: (exit code, stdout, stderr)."""
    import asyncio

    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMBE_")}
    if token is not None:
        env["JUMBE_API_TOKEN"] = token
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def start(
    port: int,
    data_dir: Path | None,
    *extra: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``jumbe serve`` and wait until ``/readyz`` answers 200; its JSON log lines go to
    ``log`` (a file, so a chatty server never blocks on a full pipe)."""
    args = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--log-format", "json"]
    if data_dir is not None:
        args += ["--data-dir", str(data_dir)]
    with open(log or os.devnull, "ab") as out:
        process = subprocess.Popen(
            [*args, *extra], cwd=ROOT, env=env or environment(),
            stdout=out, stderr=subprocess.PIPE,
        )  # fmt: skip
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


def post(
    port: int,
    text: str,
    session: str = "ATUid_serve",
    service_code: str = "*384*123#",
    phone: str = "+254700000009",
) -> str:
    """One Africa's Talking hop; the body."""
    body = urlencode({"sessionId": session, "serviceCode": service_code, "phoneNumber": phone,
                      "networkCode": "63902", "text": text}).encode()  # fmt: skip
    request = urllib.request.Request(f"http://127.0.0.1:{port}/ussd/africastalking", data=body)
    with urllib.request.urlopen(request, timeout=5) as response:
        return str(response.read().decode())


def ready(port: int) -> tuple[int, dict[str, Any]]:
    """``GET /readyz``: status and JSON body."""
    import json

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def children(parent: int, name: str = "") -> list[int]:
    """Direct children of ``parent`` whose command starts with ``name``."""
    out = subprocess.run(
        ["ps", "-eo", "pid=,ppid=,comm="], capture_output=True, text=True, check=True
    )
    rows = [line.split(None, 2) for line in out.stdout.splitlines()]
    return [int(pid) for pid, ppid, comm in rows if int(ppid) == parent and comm.startswith(name)]


def redis_child(parent: int) -> int:
    """The redis-server child of ``parent`` (waits briefly: ps can miss a new child)."""
    for _ in range(50):
        found = children(parent, "redis-server")
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError("no redis-server child")


def descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True, check=True)
    tree: dict[int, list[int]] = {}
    for line in out.stdout.splitlines():
        child, parent = map(int, line.split())
        tree.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")


def wait_for(check: Any, within: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within}s")
        time.sleep(0.05)


def log_events(log: Path, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of ``event`` written so far."""
    import json

    lines = log.read_text().splitlines() if log.exists() else []
    return [e for e in (json.loads(line) for line in lines if line.startswith("{"))
            if e.get("event") == event]  # fmt: skip
