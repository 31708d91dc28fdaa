"""Soak test: a long run at a steady share of capacity, with Redis restarted half-way.

It starts its own redis-server (append-only, ``everysec``, as in deploy/) and ``jumbe serve`` on
it, measures capacity with a short closed-loop burst (50 subscribers), then offers a fixed rate
of new journeys (``--share`` of that capacity, open loop: arrivals do not wait for answers) for
``--duration`` seconds. Half-way through it stops Redis and starts it again. It reports, per
window and overall: hops/s, p50/p99, readable failures (an ``END`` apology while Redis is gone),
transport errors (which must stay 0), the gateway's RSS (growth from the first window to the
last), recovery (how long after Redis answered again the first journey completed), and the
hops the gateway's ``/metrics`` counted against those the load generator saw answered.

    python bench/soak.py                       # 20 minutes at half capacity
    python bench/soak.py --duration 120 --json # a short rehearsal

Only loopback; the journey is menus/benchmark.yaml's (see ussd_load.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from ussd_load import JOURNEY, Client, free_port, percentile, rss_mib
from ussd_load import run as closed_loop

ROOT = Path(__file__).resolve().parent.parent
MAX_DURATION = 3 * 3600.0
WINDOW_S = 30.0
REDIS_DOWN_S = 5.0
KEY = "soak-pseudonym-key-0123456789abcdef0123456789"


@dataclass
class Window:
    """What happened in one ``WINDOW_S`` slice of the run."""

    started: float
    ended: float = 0.0
    latencies: list[float] = field(default_factory=list)
    journeys: int = 0
    failed_answers: int = 0
    transport_errors: int = 0
    rss_mib: float = 0.0

    def summary(self, at: float) -> dict[str, object]:
        seconds = max((self.ended or time.perf_counter()) - self.started, 1e-9)
        return {
            "t_s": round(self.started - at), "hops_per_s": round(len(self.latencies) / seconds, 1),
            "p50_ms": round(percentile(self.latencies, 50), 2),
            "p99_ms": round(percentile(self.latencies, 99), 2),
            "journeys": self.journeys, "failed_answers": self.failed_answers,
            "transport_errors": self.transport_errors, "rss_mib": round(self.rss_mib, 1),
        }  # fmt: skip


@dataclass
class Soak:
    port: int
    path: str = "/ussd/africastalking"
    windows: list[Window] = field(default_factory=list)
    redis_back: float | None = None
    first_ok_after_back: float | None = None
    in_flight: int = 0
    idle: list[Client] = field(default_factory=list)

    def window(self) -> Window:
        now = time.perf_counter()
        if not self.windows or now - self.windows[-1].started >= WINDOW_S:
            if self.windows:
                self.windows[-1].ended = now
            self.windows.append(Window(now))
        return self.windows[-1]

    async def journey(self) -> None:
        """One subscriber's four hops; a wrong screen ends it (the subscriber hangs up)."""
        client = self.idle.pop() if self.idle else Client("127.0.0.1", self.port, self.path)
        self.in_flight += 1
        session, phone = f"ATUid_{uuid.uuid4().hex}", f"+2547{random.randrange(10**8):08d}"
        try:
            for text, expected in JOURNEY:
                body = urlencode({"sessionId": session, "serviceCode": "*384*123#",
                                  "phoneNumber": phone, "networkCode": "63902",
                                  "text": text.format(r=4, c="ok")}).encode()  # fmt: skip
                started = time.perf_counter()
                try:
                    status, reply = await asyncio.wait_for(client.post(body), 10)
                except (OSError, TimeoutError, asyncio.IncompleteReadError):
                    self.window().transport_errors += 1
                    await client.close()
                    return
                self.window().latencies.append((time.perf_counter() - started) * 1000)
                if status != 200 or reply != expected:
                    self.window().failed_answers += 1
                    break
            else:
                self.window().journeys += 1
                now = time.perf_counter()
                if self.redis_back and self.first_ok_after_back is None and now >= self.redis_back:
                    self.first_ok_after_back = now
            self.idle.append(client)
        finally:
            self.in_flight -= 1


class RedisServer:
    """The soak's own redis-server, append-only, on a TCP port (so it can be restarted)."""

    def __init__(self, folder: Path) -> None:
        from gateway.store.embedded import redis_server_binary

        self.binary, self.folder, self.port = redis_server_binary(), folder, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> float:
        """Start it; the time it first answered PING."""
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
             str(self.folder), "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        client = redis.Redis(port=self.port, socket_timeout=1)
        while True:
            try:
                if client.ping():
                    client.close()
                    return time.perf_counter()
            except redis.RedisError:
                time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


async def offer(soak: Soak, rate: float, seconds: float, max_in_flight: int) -> int:
    """Start ``rate`` journeys per second for ``seconds`` (open loop); journeys refused because
    ``max_in_flight`` were already waiting (the gateway fell behind)."""
    tasks: set[asyncio.Task[None]] = set()
    refused, started, begin = 0, 0, time.perf_counter()
    while (now := time.perf_counter()) - begin < seconds:
        due = int((now - begin) * rate) - started
        for _ in range(due):
            started += 1
            if soak.in_flight >= max_in_flight:
                refused += 1
                continue
            task = asyncio.create_task(soak.journey())
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.sleep(0.005)
    await asyncio.gather(*tasks)
    return refused


def soak_run(args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """Start Redis and the gateway, run the load, stop both; the report."""
    redis_server = RedisServer(folder)
    redis_server.start()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUMBE_")}
    gateway = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--redis",
         redis_server.url, "--data-dir", str(folder / "var")],
        cwd=ROOT, env={**env, "JUMBE_PSEUDONYM_KEY": KEY},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_ready(port)
        return asyncio.run(load(args, port, gateway.pid, redis_server))
    finally:
        gateway.terminate()
        gateway.wait(timeout=30)
        redis_server.stop()


async def load(
    args: argparse.Namespace, port: int, pid: int, redis_server: RedisServer
) -> dict[str, object]:
    """Measure capacity, then offer ``args.share`` of it, restarting Redis half-way."""
    url = f"http://127.0.0.1:{port}/ussd/africastalking"
    burst = await closed_loop(url, 50, 10.0, 2.0, None)
    capacity = float(burst["hops_per_s"])  # type: ignore[arg-type]
    rate = capacity * args.share / len(JOURNEY)
    counted_before = await asyncio.to_thread(_counted_hops, port)
    soak = Soak(port)
    sampler = asyncio.create_task(_sample_rss(soak, pid))
    half = args.duration / 2
    refused = await offer(soak, rate, half, args.max_in_flight)
    await asyncio.to_thread(redis_server.stop)
    stopped = time.perf_counter()
    outage = asyncio.create_task(offer(soak, rate, REDIS_DOWN_S, args.max_in_flight))
    await asyncio.sleep(REDIS_DOWN_S)
    back = soak.redis_back = await asyncio.to_thread(redis_server.start)
    refused += await outage
    refused += await offer(soak, rate, args.duration - half - REDIS_DOWN_S, args.max_in_flight)
    sampler.cancel()
    soak.windows[-1].ended = time.perf_counter()
    counted = await asyncio.to_thread(_counted_hops, port) - counted_before
    hops = sum(len(w.latencies) for w in soak.windows)
    every = [v for w in soak.windows for v in w.latencies]
    rss = [w.rss_mib for w in soak.windows if w.rss_mib]
    recovered = soak.first_ok_after_back
    return {
        "duration_s": args.duration, "capacity_hops_per_s": capacity, "share": args.share,
        "offered_journeys_per_s": round(rate, 1), "hops": hops,
        "hops_per_s": round(hops / args.duration, 1),
        "p50_ms": round(percentile(every, 50), 2), "p99_ms": round(percentile(every, 99), 2),
        "failed_answers": sum(w.failed_answers for w in soak.windows),
        "transport_errors": sum(w.transport_errors for w in soak.windows),
        "refused_journeys": refused, "redis_down_s": round(back - stopped, 2),
        "recovered_s": round(recovered - back, 3) if recovered is not None else None,
        "rss_first_mib": round(rss[0], 1) if rss else None,
        "rss_last_mib": round(rss[-1], 1) if rss else None,
        "rss_growth_mib": round(rss[-1] - rss[0], 1) if rss else None,
        "hops_counted_by_gateway": counted,
        "windows": [w.summary(soak.windows[0].started) for w in soak.windows],
    }  # fmt: skip


async def _sample_rss(soak: Soak, pid: int) -> None:
    while True:
        soak.window().rss_mib = max(soak.window().rss_mib, rss_mib(pid))
        await asyncio.sleep(1.0)


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("jumbe serve did not become ready")


def _counted_hops(port: int) -> float:
    """What the gateway's /metrics says it answered (all outcomes)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as page:
        text = page.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples if sample.name == "jumbe_ussd_hops_total")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-d", "--duration", type=float, default=1200.0, help="seconds (20 min)")
    parser.add_argument("--share", type=float, default=0.5, help="share of capacity to offer")
    parser.add_argument("--max-in-flight", type=int, default=500,
                        help="journeys waiting at once before new ones are refused")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    args.duration = min(args.duration, MAX_DURATION)
    with tempfile.TemporaryDirectory(prefix="jumbe-soak-") as folder:
        result = soak_run(args, Path(folder))
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(json.dumps({k: v for k, v in result.items() if k != "windows"}, indent=2))
    print("t_s  hops/s  p50  p99  journeys  failed  transport  rss")
    for w in result["windows"]:  # type: ignore[attr-defined]
        print(f"{w['t_s']:>5} {w['hops_per_s']:>7} {w['p50_ms']:>6} {w['p99_ms']:>7} "
              f"{w['journeys']:>6} {w['failed_answers']:>6} {w['transport_errors']:>6} "
              f"{w['rss_mib']:>7}")  # fmt: skip


if __name__ == "__main__":
    main()
