"""``jumbe serve --workers N``: N gateway processes sharing one port (``SO_REUSEPORT``).

The parent has already started the embedded Redis when no URL is given (one redis-server for
all workers) and resolved the pseudonym key (``prepared_store``). It starts the workers with
``--redis <url> --reuse-port`` and the key in their environment (every worker must use the
same one), forwards SIGTERM/SIGINT/SIGHUP to them, restarts the embedded Redis if it dies,
and stops everything if one worker dies. The workers share one fresh
``PROMETHEUS_MULTIPROC_DIR`` (removed at the end), so ``/metrics`` adds up all of them.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

from gateway.config import Settings
from gateway.metrics import MULTIPROC_ENV
from gateway.store.embedded import EmbeddedRedis, restart_if_dead

POLL_S = 0.2


def run_workers(
    settings: Settings, embedded: EmbeddedRedis | None, workers: int, passthrough: list[str]
) -> int:
    """Run ``workers`` serve processes until a signal or a worker's exit; their exit code."""
    assert settings.redis_url is not None
    command = [
        sys.executable, "-m", "gateway", "serve", *passthrough,
        "--redis", settings.redis_url, "--reuse-port",
    ]  # fmt: skip
    metrics_dir = tempfile.mkdtemp(prefix="jumbe-metrics-")
    env = {**os.environ, "JUMBE_PSEUDONYM_KEY": settings.pseudonym_key.decode(),
           MULTIPROC_ENV: metrics_dir}  # fmt: skip
    try:
        return _supervise(command, env, embedded, workers)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)


def _supervise(
    command: list[str], env: dict[str, str], embedded: EmbeddedRedis | None, workers: int
) -> int:
    children = [subprocess.Popen(command, env=env) for _ in range(workers)]
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
    pause, next_try = 0.0, 0.0
    try:
        while all(child.poll() is None for child in children):
            time.sleep(POLL_S)
            if embedded is not None and not stopping and time.monotonic() >= next_try:
                pause = restart_if_dead(embedded, pause)
                next_try = time.monotonic() + pause
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
