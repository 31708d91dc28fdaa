"""``jumbe serve --workers N``: N gateway processes sharing one port (``SO_REUSEPORT``).

The parent checks the menus once, owns the embedded Redis when no URL is given (one
redis-server for all workers), starts the workers with ``--redis <url> --reuse-port``, forwards
SIGTERM/SIGINT/SIGHUP to them, and stops everything if one worker dies.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from types import FrameType

from gateway.config import Settings
from gateway.store.connection import redis_for

POLL_S = 0.2


def run_workers(settings: Settings, workers: int, passthrough: list[str]) -> int:
    """Run ``workers`` serve processes until a signal or a worker's exit; their exit code."""
    url, embedded = redis_for(settings.redis_url, settings.data_dir)
    command = [
        sys.executable,
        "-m",
        "gateway",
        "serve",
        *passthrough,
        "--redis",
        url,
        "--reuse-port",
    ]
    children = [subprocess.Popen(command) for _ in range(workers)]
    stopping: list[int] = []

    def forward(signum: int, _frame: FrameType | None) -> None:
        if signum != signal.SIGHUP:
            stopping.append(signum)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM if signum != signal.SIGHUP else signum)

    previous = {
        sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    }
    try:
        while all(child.poll() is None for child in children):
            time.sleep(POLL_S)
        if not stopping:  # a worker died on its own: take the rest down with a clear code
            forward(signal.SIGTERM, None)
        codes = [child.wait(timeout=30) for child in children]
        # A worker still importing when asked to stop dies of the SIGTERM itself: that is a
        # clean stop too.
        clean = all(code in (0, -signal.SIGTERM) for code in codes)
        return 0 if stopping and clean else max(abs(code) for code in codes) or 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for child in children:
            if child.poll() is None:
                child.kill()
        if embedded is not None:
            embedded.stop()
