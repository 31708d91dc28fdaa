"""Instructions per balance check: ``jumbe serve`` under callgrind, counted only while a fixed
number of checks runs (noise-immune, unlike a wall-clock benchmark on a shared machine).

Writes the 1,000 campaign files of ``bench/piggyback.py``, starts a private ``redis-server``
(not counted) and ``jumbe serve`` under ``valgrind --tool=callgrind --instr-atstart=no``, warms
it up with ``--warmup`` checks, switches instrumentation on, sends ``--checks`` checks of random
subscribers with ``-c`` in flight (keep-alive HTTP/1.1, the load generator outside valgrind),
switches it off and prints the gateway's instructions per check (and the callgrind file, for
``callgrind_annotate``). ``--bare``: the same for the bare aiohttp JSON endpoint of
``bench/piggyback.py``, for scale; ``--redis-too``: Redis's instructions per check as well
(its own callgrind, same window). The content watcher's once-a-second scan is turned off
(``JUMBE_RELOAD_INTERVAL``): under valgrind a second holds few checks, so it would weigh
hundreds of times more than it does at full speed. Python's own allocator is kept.

    python bench/piggyback_instructions.py --checks 2000 -c 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from piggyback import BALANCE, BARE, NETWORKS, TOKEN, Client, free_port, write_campaigns


async def send(port: int, checks: int, concurrency: int, rng: random.Random) -> dict[str, int]:
    counts = {"ok": 0, "ad": 0, "bad": 0}
    left = [checks]

    async def one() -> None:
        client = Client(port)
        try:
            while left[0] > 0:
                left[0] -= 1
                body = json.dumps({"msisdn": f"+2547{rng.randrange(10**8):08d}", "text": BALANCE,
                                   "network": rng.choice(NETWORKS)}).encode()  # fmt: skip
                status, raw = await client.post(body)
                if status != 200 or not raw.startswith(b'{"text":'):
                    counts["bad"] += 1
                    continue
                counts["ok"] += 1
                counts["ad"] += b'"ad":null' not in raw
        finally:
            await client.close()

    await asyncio.gather(*(one() for _ in range(concurrency)))
    return counts


def control(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, capture_output=True)


def counted(out: str, checks: int, keep: bool) -> dict[str, object]:
    """Instructions per check from the last callgrind dump (``out.N``)."""
    files = sorted(Path(out).parent.glob(Path(out).name + "*"), key=os.path.getmtime)
    text = files[-1].read_text(errors="replace")
    total = int(re.search(r"^totals: (\d+)", text, re.M).group(1))  # type: ignore[union-attr]
    return {"instructions_per_check": round(total / checks),
            "callgrind_file": str(files[-1]) if keep else None}  # fmt: skip


def wait_for(port: int, rng: random.Random) -> None:
    """Until the server under valgrind answers a check (2 minutes at most)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            asyncio.run(send(port, 1, 1, rng))
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the server did not start under valgrind") from None
            time.sleep(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--campaigns", type=int, default=1000)
    parser.add_argument("--checks", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    parser.add_argument("--mode", default="opt_out", help="JUMBE_CONSENT_MODE_ADS")
    parser.add_argument("--log-level", default="warning", help="as bench/piggyback.py: warning")
    parser.add_argument("--bare", action="store_true", help="the bare aiohttp endpoint instead")
    parser.add_argument("--redis-too", action="store_true",
                        help="count the redis-server's instructions per check as well")  # fmt: skip
    parser.add_argument("--out", help="keep the callgrind file here")
    args = parser.parse_args()
    python = sys.executable
    jumbe = shutil.which("jumbe") or str(Path(python).parent / "jumbe")
    with tempfile.TemporaryDirectory(prefix="jumbe-instr-") as tmp:
        folder = Path(tmp) / "content"
        folder.mkdir()
        write_campaigns(folder, args.campaigns, random.Random(7))
        redis_port, port = free_port(), free_port()
        redis_out = str(Path(tmp) / "redis.callgrind")
        redis_command = ["redis-server", "--port", str(redis_port), "--save", "",
                         "--appendonly", "no", "--dir", tmp]  # fmt: skip
        if args.redis_too:
            redis_command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                             f"--callgrind-out-file={redis_out}", *redis_command]  # fmt: skip
        redis = subprocess.Popen(redis_command, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        out = args.out or str(Path(tmp) / "callgrind.out")
        env = {**os.environ, "JUMBE_API_TOKEN": TOKEN, "JUMBE_CONSENT_MODE_ADS": args.mode,
               "JUMBE_LOG_LEVEL": args.log_level, "JUMBE_SMS_WORKER": "0",
               "JUMBE_PSEUDONYM_KEY": "ab" * 32, "JUMBE_ADS_DEADLINE_MS": "5000",
               "JUMBE_RELOAD_INTERVAL": "3600"}  # fmt: skip
        command = [jumbe, "serve", "--menus", str(folder), "--port", str(port),
                   "--redis", f"redis://127.0.0.1:{redis_port}/0"]  # fmt: skip
        if args.bare:
            command = [python, "-c", BARE, str(port)]
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             *command], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            rng = random.Random(11)
            wait_for(port, rng)
            warm = asyncio.run(send(port, args.warmup, args.concurrency, rng))
            watched = [server.pid] + ([redis.pid] if args.redis_too else [])
            for pid in watched:
                control(pid, "-i", "on")
            counts = asyncio.run(send(port, args.checks, args.concurrency, rng))
            for pid in watched:
                control(pid, "-i", "off")
                control(pid, "-d")
            time.sleep(1)
            found = counted(out, args.checks, bool(args.out))
            if args.redis_too:
                redis_found = counted(redis_out, args.checks, False)
                found["redis_instructions_per_check"] = redis_found["instructions_per_check"]
            print(json.dumps({"checks": args.checks, "warmup": warm, "counted": counts,
                              **found}, indent=2))  # fmt: skip
        finally:
            server.terminate()
            server.wait(30)
            redis.terminate()
            redis.wait(10)


if __name__ == "__main__":
    main()
