"""Survey hops against menu hops, on the same gateway in one invocation (issue 12).

N simulated subscribers each take the shipped NPS survey (``menus/surveys/nps.yaml``, dialled
at ``*384*77#``: intro, score, reason, ease, closing) with a fresh number every time (a
completed survey is not retaken), then the same N run the benchmark menu journey
(``*384*123#``). It prints hops/s and p50/p95/p99 per hop for both: a survey answer rides with
the session's save, so its hop should cost about what a menu hop costs.

    python bench/survey_load.py --spawn embedded -c 20 -d 10
    python bench/survey_load.py --url http://127.0.0.1:8000/ussd/africastalking -c 20 -d 10

Only loopback targets; each phase is bounded by ``--duration`` (max 300 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ussd_load  # the load generator: its client, spawner and percentiles

SURVEY = [
    ("", "CON Jumbe survey: 3 quick questions"),
    ("1", "CON How likely are you to recommend Jumbe"),
    ("1*{s}", "CON What is the main reason"),
    ("1*{s}*{c}", "CON Jumbe makes it easy"),
    ("1*{s}*{c}*{e}", "END Thank you!"),
]
SURVEY_HOPS = ["dial (respondent read)", "intro", "score", "reason", "ease (completes)"]


async def respondent(
    url: str, stop_at: float, measure_from: float, latencies: list[list[float]], errors: list[str]
) -> None:
    parts = urlsplit(url)
    client = ussd_load.Client(parts.hostname or "127.0.0.1", parts.port or 80, parts.path)
    try:
        while time.perf_counter() < stop_at:
            session, phone = f"ATUid_{uuid.uuid4().hex}", f"+2547{random.randrange(10**8):08d}"
            values = {"s": random.randint(0, 10), "c": random.choice(ussd_load.COMMENTS),
                      "e": random.randint(1, 7)}  # fmt: skip
            for index, (text, expected) in enumerate(SURVEY):
                body = urlencode({"sessionId": session, "serviceCode": "*384*77#",
                                  "phoneNumber": phone, "networkCode": "63902",
                                  "text": text.format(**values)}).encode()  # fmt: skip
                started = time.perf_counter()
                try:
                    status, reply = await asyncio.wait_for(client.post(body), 10)
                except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    errors.append(f"transport: {exc!r}")
                    await client.close()
                    client = ussd_load.Client(client.host, client.port, client.path)
                    break
                if started >= measure_from:
                    latencies[index].append((time.perf_counter() - started) * 1000)
                if status != 200 or not reply.startswith(expected):
                    errors.append(f"hop {index + 1}: {status} {reply[:40]!r}")
                    break
    finally:
        await client.close()


async def survey_phase(
    url: str, concurrency: int, duration: float, warmup: float
) -> dict[str, object]:
    latencies: list[list[float]] = [[] for _ in SURVEY]
    errors: list[str] = []
    start = time.perf_counter()
    measure_from, stop_at = start + warmup, start + warmup + duration
    await asyncio.gather(*(respondent(url, stop_at, measure_from, latencies, errors)
                           for _ in range(concurrency)))  # fmt: skip
    every = [v for hop in latencies for v in hop]
    pct = ussd_load.percentile
    return {
        "hops": len(every), "hops_per_s": round(len(every) / duration, 1),
        "p50_ms": round(pct(every, 50), 3), "p99_ms": round(pct(every, 99), 3),
        "per_hop_ms": {name: [round(pct(v, q), 3) for q in (50, 95, 99)]
                       for name, v in zip(SURVEY_HOPS, latencies, strict=True)},
        "errors": len(errors), "first_errors": errors[:5],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--url", default="http://127.0.0.1:8000/ussd/africastalking")
    target.add_argument("--spawn", metavar="REDIS", help="start `jumbe serve` (embedded|URL)")
    parser.add_argument("-c", "--concurrency", type=int, default=20)
    parser.add_argument("-d", "--duration", type=float, default=10.0)
    parser.add_argument("-w", "--warmup", type=float, default=2.0)
    args = parser.parse_args()
    duration = min(args.duration, ussd_load.MAX_DURATION)
    url, process = args.url, None
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only loopback targets")
    with tempfile.TemporaryDirectory() as data_dir:
        if args.spawn:
            port = ussd_load.free_port()
            process = ussd_load.spawn(args.spawn, port, data_dir)
            url = f"http://127.0.0.1:{port}/ussd/africastalking"
        try:
            survey = asyncio.run(survey_phase(url, args.concurrency, duration, args.warmup))
            menu = asyncio.run(ussd_load.run(url, args.concurrency, duration, args.warmup, None))
        finally:
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    print(json.dumps({"concurrency": args.concurrency, "duration_s": duration,
                      "survey": survey, "menu": menu}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
