"""Micro figures for the AT USSD hop's callback handling, in-process: parsing a typical body
(fast path and general path), authorizing the callback, and building the reply.

Each figure is the median of ``--repeat`` runs of ``--number`` calls, timed with
``time.process_time`` (the process's own CPU time, so another process on the same core does not
inflate it). Pin it to one core: ``taskset -c 1 python bench/hop_callback.py``. ~10 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from typing import Any

BODY = (
    b"sessionId=ATUid_0123456789abcdef0123456789abcdef&serviceCode=%2A384%2A123%23"
    b"&phoneNumber=%2B254712345678&networkCode=63902&text=2%2A4%2Agood"
)
FIRST = BODY[: BODY.index(b"&text=") + 6]
SETUP = """
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from gateway.channels.africastalking import ussd
from gateway.channels.base import Reply, authorize
from gateway.config import Settings
settings = Settings(callback_token="bench-token-0123456789")
request = make_mocked_request("POST", "/ussd/africastalking?token=bench-token-0123456789")
authorize(request, settings)
reply = Reply("Choose:\\n1. Balance\\n2. Bundles\\n3. Help", end=False)
general = getattr(ussd, "parse_hop_general", ussd.parse_hop)
from gateway.channels.africastalking import routes
plain = getattr(routes, "_plain", lambda text: web.Response(text=text, content_type="text/plain"))
"""
CASES = {
    "parse_hop (usual body)": "ussd.parse_hop(BODY)",
    "parse_hop (first hop, empty text)": "ussd.parse_hop(FIRST)",
    "general path (usual body)": "general(BODY)",
    "authorize (token, query cached)": "authorize(request, settings)",
    "reply: render + web.Response(text=…)": (
        'web.Response(text=ussd.render(reply), content_type="text/plain")'
    ),
    "reply: render + the route's response": "plain(ussd.render(reply))",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--number", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    names: dict[str, Any] = {"BODY": BODY, "FIRST": FIRST}
    exec(SETUP, names)
    for label, statement in CASES.items():
        timer = timeit.Timer(statement, globals=names, timer=time.process_time)
        runs = [t / args.number * 1e6 for t in timer.repeat(args.repeat, args.number)]
        print(f"{label:40s} {statistics.median(runs):6.3f} µs  (min {min(runs):.3f})")


if __name__ == "__main__":
    main()
