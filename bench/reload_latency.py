"""Hop latency while the gateway reloads a huge menu file (issue 9: reloads stalled every hop).

Starts ``jumbe serve`` (embedded Redis) on a copy of its ``menus/`` plus a generated menu of
``--screens`` screens, sends a steady open-loop stream of first hops on ``*384#`` (a new session
each, ``--rate`` per second; latency counts from the moment a hop was due, so a stalled server
shows up in full), edits the huge file and asks ``POST /admin/reload``. Reports max and p99 of
the hops due before the reload and of those due while it ran.

    python bench/reload_latency.py                       # this checkout
    python bench/reload_latency.py --src /tmp/old-jumbe  # another checkout, for a before/after

Only loopback; every run is bounded (``MAX_SECONDS``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from ussd_load import Client, free_port, percentile

ROOT = Path(__file__).resolve().parent.parent
MAX_SECONDS = 180.0
TOKEN = "bench-admin"


def big_menu(screens: int, title: str) -> str:
    """``screens`` chained menu screens on *500# (10,000 screens ≈ 1.3 MiB of YAML)."""
    lines = ["id: big", "service_codes: ['*500#']", "start: s0", "screens:"]
    for i in range(screens):
        lines += [f"  s{i}:", "    menu:", f'      text: "{title} {i}"', "      options:",
                  f"        - {{label: Next, next: s{i + 1}}}",
                  "        - {label: Home, next: s0}"]  # fmt: skip
    lines += [f"  s{screens}:", "    end: Bye"]
    return "\n".join(lines) + "\n"


def spawn(src: Path, menus: Path, data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(src), "JUMBE_ADMIN_TOKEN": TOKEN,
           "JUMBE_RELOAD_INTERVAL": "0", "JUMBE_LOG_LEVEL": "warning"}  # fmt: skip
    args = [sys.executable, "-m", "gateway", "serve", "--menus", str(menus), "--port", str(port),
            "--data-dir", str(data_dir)]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(args, cwd=src, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"jumbe serve did not start; see {log}")


async def admin_reload(port: int) -> tuple[int, str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"POST /admin/reload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {TOKEN}\r\n"
        "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    response = await reader.read()
    writer.close()
    head, _, body = response.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body


async def one_hop(
    pool: asyncio.Queue[Client], due: float, n: int, results: list[tuple[float, float, bool]]
) -> None:
    client = await pool.get()
    body = urlencode({"sessionId": f"ATUid_reload_{n}", "serviceCode": "*384#",
                      "phoneNumber": f"+2547{n % 10**8:08d}", "networkCode": "63902",
                      "text": ""}).encode()  # fmt: skip
    try:
        status, reply = await asyncio.wait_for(client.post(body), 30)
        ok = status == 200 and reply.startswith("CON ")
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        await client.close()
        client, ok = Client(client.host, client.port, client.path), False
    results.append((due, (time.perf_counter() - due) * 1000, ok))
    pool.put_nowait(client)


def summary(latencies: list[float]) -> dict[str, float]:
    return {"hops": len(latencies), "p50_ms": round(percentile(latencies, 50), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies, default=0.0), 2)}  # fmt: skip


async def measure(
    port: int, big: Path, screens: int, rate: float, before: float
) -> dict[str, object]:
    pool: asyncio.Queue[Client] = asyncio.Queue()
    for _ in range(64):
        pool.put_nowait(Client("127.0.0.1", port, "/ussd/africastalking"))
    edited = big_menu(screens, "Edited")
    results: list[tuple[float, float, bool]] = []
    tasks: set[asyncio.Task[None]] = set()
    start = time.perf_counter()
    reload_task: asyncio.Task[tuple[int, str]] | None = None
    reload_window = (float("inf"), float("inf"))
    n = 0
    while time.perf_counter() - start < MAX_SECONDS:
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        task = asyncio.create_task(one_hop(pool, due, n, results))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
        if reload_task is None and due - start >= before:
            await asyncio.to_thread(big.write_text, edited)
            reload_started = time.perf_counter()
            reload_task = asyncio.create_task(admin_reload(port))
        elif reload_task is not None and reload_task.done():
            if reload_window[1] == float("inf"):
                reload_window = (reload_started, time.perf_counter())
            if time.perf_counter() > reload_window[1] + 1.0:
                break
    await asyncio.gather(*tasks)
    while not pool.empty():
        await pool.get_nowait().close()
    status, body = await reload_task if reload_task else (0, "")
    idle = [ms for due, ms, _ in results if start + 0.5 <= due < reload_window[0]]
    during = [ms for due, ms, _ in results if reload_window[0] <= due <= reload_window[1]]
    return {
        "reload_status": status, "reload_parsed": json.loads(body).get("parsed") if body else None,
        "reload_s": round(reload_window[1] - reload_window[0], 2), "rate_per_s": rate,
        "idle": summary(idle), "during_reload": summary(during),
        "failed_hops": sum(not ok for *_, ok in results),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose gateway to run")
    parser.add_argument("--screens", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="hops per second")
    parser.add_argument("--before", type=float, default=2.0, help="seconds of hops before")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jumbe-reload-") as tmp:
        menus = Path(tmp) / "menus"
        shutil.copytree(args.src / "menus", menus)  # its own: the file formats may differ
        big = menus / "big.yaml"
        big.write_text(big_menu(args.screens, "Screen"))
        port = free_port()
        server = spawn(args.src.resolve(), menus, Path(tmp) / "var", port, Path(tmp) / "serve.log")
        try:
            result = asyncio.run(measure(port, big, args.screens, args.rate, args.before))
        finally:
            server.terminate()
            server.wait(30)
    print(json.dumps({"src": str(args.src), "screens": args.screens, **result}, indent=2))


if __name__ == "__main__":
    main()
