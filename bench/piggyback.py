"""Balance-check ads under load: ``POST /v1/piggyback`` against a bare aiohttp JSON endpoint.

Writes 1,000 campaign files (a few overrides, contracts and many remnants over several
networks, per-day caps), starts ``jumbe serve`` on them (embedded Redis, or ``--redis URL``)
and a bare aiohttp app answering the same JSON, both pinned to the same core when the machine
allows it (the embedded Redis, which would inherit the pin, is freed to use every core, as
Redis on its own core or machine in production; ``--redis-cpu N`` pins it), then sends
``--concurrency`` (default 50) concurrent checks of random subscribers to each for
``--duration`` seconds with keep-alive connections (``wrk`` is used instead when installed and
``--wrk`` is given; both after ``--warmup`` seconds of the same load, not counted). Reports
requests/s, p50/p99, errors, the share of checks that carried an ad, the ratio to the bare
endpoint, and the decision's own p99 (from ``jumbe_ads_decision_seconds`` on ``/metrics``, as a
histogram bucket bound) with the share of decisions within 5 ms, and within each bucket bound
up to 25 ms (``decisions_within``: where the tail sits).

    python bench/piggyback.py -d 10            # the issue 11 scenario, briefly
    python bench/piggyback.py --campaigns 1000 -c 50 -d 30 --cpu 0

Loopback only; bounded by ``--duration`` (max 300 s). Figures on a shared machine are noisy.
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
from pathlib import Path

TOKEN = "bench-token-0123456789"
NETWORKS = ("63902", "63903", "63907")
BALANCE = "Your balance is KES 12.50. Data: 200MB valid till 30/11."
MAX_DURATION = 300.0
BARE = """
import sys, orjson
from aiohttp import web
async def handle(request):
    body = orjson.loads(await request.read())
    return web.Response(body=orjson.dumps({"text": body["text"], "ad": None}),
                        content_type="application/json")
app = web.Application()
app.router.add_post("/v1/piggyback", handle)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""


def write_campaigns(folder: Path, count: int, rng: random.Random) -> None:
    """``count`` campaign files: 1 % overrides (narrow prefixes), 20 % contracts, the rest
    remnants; a third on each network or on all; caps of 1-3 a day."""
    for i in range(count):
        roll = rng.random()
        cls = "override" if roll < 0.01 else "contract" if roll < 0.21 else "remnant"
        extra = {"override": f"target: {{prefixes: ['+2547{i:04d}']}}\n",
                 "contract": f"priority: {rng.randint(1, 10)}\n",
                 "remnant": f"weight: {rng.randint(1, 10)}\n"}[cls]  # fmt: skip
        network = rng.choice((*NETWORKS, None))
        if network and cls != "override":
            extra += f"target: {{networks: ['{network}']}}\n"
        (folder / f"c{i:04d}.yaml").write_text(
            f"kind: campaign\nid: c{i:04d}\nclass: {cls}\n{extra}"
            "flight: {start: 2020-01-01, end: 2099-01-01, tz: Africa/Nairobi}\n"
            f"caps: {{per_day: {rng.randint(1, 3)}}}\n"
            f"text: {{en: 'Offer {i}: dial *5{i % 100:02d}#'}}\n"
        )


class Client:
    """A minimal keep-alive HTTP/1.1 JSON client (aiohttp's client would be the bottleneck)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            (f"POST /v1/piggyback HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
             f"\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
            + body
        )  # fmt: skip
        status = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return int(status.split()[1]), await self.reader.readexactly(length)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


async def load(port: int, concurrency: int, duration: float, warmup: float) -> dict[str, object]:
    latencies: list[float] = []
    counts = {"ok": 0, "ad": 0, "errors": 0}
    first_errors: list[str] = []
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration

    async def one() -> None:
        client = Client(port)
        try:
            while time.perf_counter() < stop_at:
                phone = f"+2547{random.randrange(10**8):08d}"
                body = json.dumps({"msisdn": phone, "text": BALANCE,
                                   "network": random.choice(NETWORKS)}).encode()  # fmt: skip
                began = time.perf_counter()
                try:
                    status, raw = await asyncio.wait_for(client.post(body), 10)
                except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    counts["errors"] += 1
                    first_errors.append(repr(exc))
                    await client.close()
                    client = Client(port)
                    continue
                if began < measure_from:
                    continue
                latencies.append((time.perf_counter() - began) * 1000)
                answer = json.loads(raw) if status == 200 else {}
                if status != 200 or not answer.get("text", "").startswith(BALANCE):
                    counts["errors"] += 1
                    first_errors.append(f"{status} {raw[:60]!r}")
                    continue
                counts["ok"] += 1
                counts["ad"] += answer.get("ad") is not None
        finally:
            await client.close()

    await asyncio.gather(*(one() for _ in range(concurrency)))
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return (
            round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 3)
            if ordered
            else 0.0
        )

    return {
        "requests_per_s": round(len(latencies) / duration, 1), "p50_ms": pct(50),
        "p99_ms": pct(99), "errors": counts["errors"], "first_errors": first_errors[:3],
        "with_ad": round(counts["ad"] / counts["ok"], 3) if counts["ok"] else 0.0,
    }  # fmt: skip


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
local networks = {"63902", "63903", "63907"}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) ok, ad, bad = 0, 0, 0; math.randomseed(os.time() + os.clock() * 1e6) end
function request()
  local body = string.format(%(template)s, math.random(0, 99999999), networks[math.random(1, 3)])
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  if status == 200 and string.find(body, %(prefix)s, 1, true) then
    ok = ok + 1
    if not string.find(body, '"ad":null', 1, true) then ad = ad + 1 end
  else
    bad = bad + 1
  end
end
function done(summary, latency, requests)
  local o, a, b = 0, 0, 0
  for _, t in ipairs(threads) do o = o + t:get("ok"); a = a + t:get("ad"); b = b + t:get("bad") end
  io.write(string.format("checks ok=%%d ad=%%d bad=%%d\\n", o, a, b))
end
"""


def wrk(
    port: int, concurrency: int, duration: float, folder: Path, warmup: float
) -> dict[str, object]:
    """The same load with ``wrk``: random subscribers on the three networks (a Lua ``request``
    per check), each answer checked (200, starts with the balance text) and its ad counted;
    after ``warmup`` seconds of the same load, not counted (as the built-in client does)."""
    script = folder / "post.lua"
    template = '{"msisdn":"+2547%08d","text":' + json.dumps(BALANCE) + ',"network":"%s"}'
    script.write_text(WRK_SCRIPT % {
        "token": TOKEN, "template": lua_string(template),
        "prefix": lua_string('{"text":' + json.dumps(BALANCE)[:-1]),
    })  # fmt: skip
    url = f"http://127.0.0.1:{port}/v1/piggyback"
    if warmup >= 1:
        subprocess.run(["wrk", "-t1", f"-c{concurrency}", f"-d{int(warmup)}s", "-s", str(script),
                        url], capture_output=True, check=False)  # fmt: skip
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{int(duration)}s", "--latency", "-s", str(script),
         url], capture_output=True, text=True, check=False,
    ).stdout  # fmt: skip
    rate = next((line.split()[1] for line in out.splitlines() if "Requests/sec" in line), "0")
    p99 = next((line.split()[1] for line in out.splitlines() if line.strip().startswith("99%")), "")
    counts = dict.fromkeys(("ok", "ad", "bad"), 0)
    for line in out.splitlines():
        if line.startswith("checks "):
            counts.update({k: int(v) for k, v in (w.split("=") for w in line.split()[1:])})
    socket = next((ln.split(":", 1)[1] for ln in out.splitlines() if "Socket errors" in ln), "")
    errors = counts["bad"] + sum(int(part.split()[-1]) for part in socket.split(",") if part)
    return {
        "requests_per_s": float(rate), "p99": p99, "errors": errors,
        "with_ad": round(counts["ad"] / counts["ok"], 3) if counts["ok"] else 0.0,
        "raw": out[-600:],
    }  # fmt: skip


def lua_string(value: str) -> str:
    """``value`` as a Lua string literal (single-quoted)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def decision_p99(port: int) -> tuple[str, float, dict[str, float]]:
    """The bucket bound under which 99 % of decisions finished, the share that finished
    within 5 ms, and the share within each bucket bound up to 25 ms (``/metrics``)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    buckets = [(line.split('le="')[1].split('"')[0], float(line.split()[-1]))
               for line in text.splitlines()
               if line.startswith("jumbe_ads_decision_seconds_bucket")]  # fmt: skip
    total = buckets[-1][1] if buckets else 0
    within_5ms = next((c for b, c in buckets if b == "0.005"), 0.0) / total if total else 0.0
    shares = {f"{float(b) * 1000:g} ms": round(c / total, 4) for b, c in buckets
              if total and b != "+Inf" and float(b) <= 0.025}  # fmt: skip
    for bound, count in buckets:
        if total and count >= 0.99 * total:
            label = f"<= {float(bound) * 1000:g} ms" if bound != "+Inf" else "> 250 ms"
            return label, round(within_5ms, 3), shares
    return "n/a", 0.0, shares


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    args: list[str], port: int, env: dict[str, str], cpu: int | None, redis_cpu: int | None
) -> subprocess.Popen[bytes]:
    """Start a server pinned to ``cpu``; its children (the embedded Redis, which inherits the
    pin) are moved to ``redis_cpu``, or left free to use every core (``None``)."""
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    pinned = {cpu} if cpu is not None and hasattr(os, "sched_setaffinity") else None
    if pinned is not None:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(process.pid, pinned)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            if pinned is not None:  # Redis is up before the server listens
                cores = {redis_cpu} if redis_cpu is not None else os.sched_getaffinity(0)
                for child in descendants(process.pid):
                    with contextlib.suppress(OSError):
                        os.sched_setaffinity(child, cores)
            return process
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{args[0]} did not start")


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs (Linux ``/proc``; none elsewhere)."""
    parents: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                with contextlib.suppress(OSError):
                    stat = Path(f"/proc/{entry}/stat").read_text()
                    parent = int(stat.rsplit(")", 1)[1].split()[1])
                    parents.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    parser.add_argument("-d", "--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--redis", help="a Redis URL (default: the embedded Redis)")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin both servers to (-1: no)")
    parser.add_argument(
        "--redis-cpu", type=int, default=-1,
        help="core to pin the embedded Redis to (default -1: free, as Redis on its own core or "
        "machine in production; the --cpu core makes it share the gateway's)",
    )  # fmt: skip
    parser.add_argument("--wrk", action="store_true", help="load with wrk when installed")
    args = parser.parse_args()
    duration = min(args.duration, MAX_DURATION)
    cpu = None if args.cpu < 0 else args.cpu
    redis_cpu = None if args.redis_cpu < 0 else args.redis_cpu
    python = sys.executable
    jumbe = shutil.which("jumbe") or str(Path(python).parent / "jumbe")
    with tempfile.TemporaryDirectory(prefix="jumbe-bench-") as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        write_campaigns(folder, args.campaigns, random.Random(7))
        env = {**os.environ, "JUMBE_API_TOKEN": TOKEN, "JUMBE_CONSENT_MODE_ADS": "opt_out",
               "JUMBE_LOG_LEVEL": "warning", "JUMBE_SMS_WORKER": "0"}  # fmt: skip
        results: dict[str, object] = {
            "campaigns": args.campaigns, "concurrency": args.concurrency, "duration_s": duration,
            "redis_cpu": "free" if redis_cpu is None else redis_cpu,
        }  # fmt: skip
        use_wrk = args.wrk and shutil.which("wrk") is not None
        for name, port in (("bare_aiohttp", free_port()), ("piggyback", free_port())):
            if name == "bare_aiohttp":
                command = [python, "-c", BARE, str(port)]
            else:
                command = [jumbe, "serve", "--menus", str(folder), "--port", str(port),
                           "--data-dir", str(Path(tmp) / "var")]  # fmt: skip
                command += ["--redis", args.redis] if args.redis else []
            process = start(command, port, env, cpu, redis_cpu)
            try:
                if use_wrk:
                    results[name] = wrk(port, args.concurrency, duration, Path(tmp), args.warmup)
                else:
                    results[name] = asyncio.run(load(port, args.concurrency, duration, args.warmup))
                if name == "piggyback":
                    p99, within_5ms, shares = decision_p99(port)
                    results["decision_p99"], results["decisions_within_5ms"] = p99, within_5ms
                    results["decisions_within"] = shares
            finally:
                process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(10)
        bare, piggy = results["bare_aiohttp"], results["piggyback"]
        assert isinstance(bare, dict) and isinstance(piggy, dict)
        if bare["requests_per_s"]:
            results["ratio_to_bare"] = round(piggy["requests_per_s"] / bare["requests_per_s"], 3)
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
