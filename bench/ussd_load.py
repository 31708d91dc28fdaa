"""Load test for sizing a Jumbe deployment: N simulated subscribers on loopback.

Each subscriber dials the benchmark journey (menus/benchmark.yaml, ``*384*123#``) over and over
with a fresh session id, the way Africa's Talking sends it (cumulative ``text``), and checks
every screen:

    ""  → Welcome menu,  "2" → Rate us 1-5,  "2*4" → Any comment?,  "2*4*ok" → END Thanks

It reports hops/s, p50/p95/p99 latency per hop and overall, errors, and the server's peak RSS.

    # against a gateway you started yourself
    python bench/ussd_load.py --url http://127.0.0.1:8000/ussd/africastalking -c 50 -d 15
    # or let it start `jumbe serve` on the embedded Redis, then on a Redis URL
    python bench/ussd_load.py --spawn embedded -c 50 -d 15
    python bench/ussd_load.py --spawn redis://127.0.0.1:6379/9 -c 50 -d 15

Only loopback targets are accepted; the run is bounded by ``--duration`` (max 300 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

JOURNEY = [
    ("", "CON Welcome\n1. Balance\n2. Survey\n3. Rewards"),
    ("2", "CON Rate us 1-5"),
    ("2*{r}", "CON Any comment?"),
    ("2*{r}*{c}", "END Thanks"),
]
HOP_NAMES = ["menu", "survey", "rating", "comment"]
COMMENTS = ["great service", "ok", "too slow", "love it", "fast and easy"]
MAX_DURATION = 300.0


class Client:
    """A minimal keep-alive HTTP/1.1 client (aiohttp's client would be the bottleneck)."""

    def __init__(self, host: str, port: int, path: str) -> None:
        self.host, self.port, self.path = host, port, path
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, str]:
        """POST ``body`` on the kept-alive connection. A reused connection the server closed
        while it was idle (aiohttp's keep-alive timeout) is reopened and the request sent once
        more, as HTTP clients do; any other loss is a ``ConnectionError``."""
        reused = self.writer is not None
        try:
            return await self._post(body)
        except ConnectionError:
            await self.close()
            self.writer = None
            if not reused:
                raise
            return await self._post(body)

    async def _post(self, body: bytes) -> tuple[int, str]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        self.writer.write(head + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        payload = await self.reader.readexactly(length)
        return int(status_line.split()[1]), payload.decode()

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def subscriber(
    url: str, stop_at: float, measure_from: float, latencies: list[list[float]], errors: list[str]
) -> None:
    parts = urlsplit(url)
    client = Client(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
    try:
        while time.perf_counter() < stop_at:
            session = f"ATUid_{uuid.uuid4().hex}"
            phone = f"+2547{random.randrange(10**8):08d}"
            rating, comment = random.randint(1, 5), random.choice(COMMENTS)
            for index, (text, expected) in enumerate(JOURNEY):
                body = urlencode(
                    {
                        "sessionId": session,
                        "serviceCode": "*384*123#",
                        "phoneNumber": phone,
                        "networkCode": "63902",
                        "text": text.format(r=rating, c=comment),
                    }
                ).encode()
                started = time.perf_counter()
                try:
                    status, reply = await asyncio.wait_for(client.post(body), 10)
                except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    errors.append(f"transport: {exc!r}")
                    await client.close()
                    client = Client(client.host, client.port, client.path)
                    break
                if started >= measure_from:
                    latencies[index].append((time.perf_counter() - started) * 1000)
                if status != 200 or reply != expected:
                    errors.append(f"hop {index + 1}: {status} {reply[:40]!r}")
                    break
    finally:
        await client.close()


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, MiB."""
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            if int(proc.name) == pid or int(stat[1]) == pid:
                total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return total / 2**20


async def run(
    url: str, concurrency: int, duration: float, warmup: float, server_pid: int | None
) -> dict[str, object]:
    latencies: list[list[float]] = [[] for _ in JOURNEY]
    errors: list[str] = []
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    peak_rss = 0.0
    tasks = [
        asyncio.create_task(subscriber(url, stop_at, measure_from, latencies, errors))
        for _ in range(concurrency)
    ]
    while not all(t.done() for t in tasks):
        if server_pid:
            peak_rss = max(peak_rss, rss_mib(server_pid))
        await asyncio.sleep(0.2)
    await asyncio.gather(*tasks)
    every = [v for hop in latencies for v in hop]
    return {
        "concurrency": concurrency, "duration_s": duration, "hops": len(every),
        "hops_per_s": round(len(every) / duration, 1),
        "p50_ms": round(percentile(every, 50), 3), "p95_ms": round(percentile(every, 95), 3),
        "p99_ms": round(percentile(every, 99), 3),
        "per_hop_ms": {name: [round(percentile(v, q), 3) for q in (50, 95, 99)]
                       for name, v in zip(HOP_NAMES, latencies, strict=True)},
        "errors": len(errors), "first_errors": errors[:5],
        "server_peak_rss_mib": round(peak_rss, 1) if server_pid else None,
    }  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def spawn(redis: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    jumbe = shutil.which("jumbe") or str(Path(sys.executable).parent / "jumbe")
    args = [jumbe, "serve", "--port", str(port), "--data-dir", data_dir]
    if redis != "embedded":
        args += ["--redis", redis]
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(args, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit("jumbe serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", default="http://127.0.0.1:8000/ussd/africastalking")
    target.add_argument(
        "--spawn",
        metavar="embedded|REDIS_URL",
        help="start `jumbe serve` with this store, measure it, stop it",
    )
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    parser.add_argument("-d", "--duration", type=float, default=15.0)
    parser.add_argument("-w", "--warmup", type=float, default=3.0)
    parser.add_argument("--server-pid", type=int, help="process to sample RSS from")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args()
    duration = min(args.duration, MAX_DURATION)
    process = None
    url, server_pid = args.url, args.server_pid
    with tempfile.TemporaryDirectory(prefix="jumbe-bench-") as data_dir:
        if args.spawn:
            port = free_port()
            process = spawn(args.spawn, port, data_dir)
            url, server_pid = f"http://127.0.0.1:{port}/ussd/africastalking", process.pid
        if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise SystemExit("only loopback targets are allowed")
        try:
            result = asyncio.run(run(url, args.concurrency, duration, args.warmup, server_pid))
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=20)
    result["store"] = args.spawn or "external"
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"store={result['store']} c={args.concurrency}: {result['hops_per_s']} hops/s, "
        f"p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, p99 {result['p99_ms']} ms, "
        f"errors {result['errors']}/{result['hops']}, "
        f"server peak RSS {result['server_peak_rss_mib']} MiB"
    )
    for name, (p50, p95, p99) in result["per_hop_ms"].items():  # type: ignore[attr-defined]
        print(f"  {name:8s} p50 {p50:8.3f}  p95 {p95:8.3f}  p99 {p99:8.3f} ms")
    if result["errors"]:
        print("  first errors:", *result["first_errors"], sep="\n    ")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
