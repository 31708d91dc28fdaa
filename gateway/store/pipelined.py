"""A minimal auto-pipelining Redis client for the hop path.

Why not redis-py here: redis-py's asyncio client checks a connection out of a pool per command
(one socket and one write/read pair per in-flight command) and spends ~50 µs of Python per
command; under 50 concurrent subscribers that was the largest cost of a hop after HTTP itself.
This client keeps **one** connection and, like node-redis, writes every command issued in the
same event-loop tick with a single ``write``; replies come back in order and are parsed by
hiredis (the C parser redis-py itself uses), which packs the commands too (but for scripts
carrying arguments packed ahead of time: ``store.resp``). It implements only what the hop
path needs: commands, ``EVALSHA`` with ``NOSCRIPT`` fallback, AUTH/SELECT, a per-command
deadline, and reconnection. Everything else (admin, streams, SMS) uses redis-py.

Errors are translated here, once: connection problems and timeouts become ``StoreUnavailable``;
Redis error replies become ``StoreReplyError``. Losing Redis is logged once at warning with the
reason (``redis_unavailable``), and getting it back once at info (``redis_available_again``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import hiredis

from gateway import logs, metrics
from gateway.errors import ConfigError, StoreError, StoreReplyError, StoreUnavailable
from gateway.store.resp import Packed, pack
from gateway.store.urls import describe

log = logs.get_logger("gateway.store")

SWEEP_INTERVAL_S = 0.1
EARLY_WRITE_AT = 16
"""Commands pending that ``run_together`` writes at once instead of at the next loop pass: in
a long pass (a burst of balance checks) Redis then works on them while the pass goes on, and
their replies are read at the pass's own poll, a pass sooner. Usual passes queue fewer, so
they still cost one write (bench/piggyback.py, docs/benchmarks.md "stop 21")."""


class HopClient(Protocol):
    """What the hop path needs of its Redis client: ``PipelinedRedis`` on one Redis,
    ``store.cluster.ClusterPipelinedRedis`` on a Cluster."""

    one_node: bool
    """Whether every key is on one Redis (not a Cluster): a script may then use keys of any
    slot."""

    async def execute(self, *args: Any) -> Any: ...

    async def run_script(self, source: str, keys: list[str], args: list[Any]) -> Any: ...

    async def run_together(
        self, calls: Sequence[Script | Command], abandoned: Abandoned | None = None
    ) -> list[Any]: ...

    async def close(self) -> None: ...


Script = tuple[str, list[str], list[Any]]
"""A script to run: its source, keys and arguments."""
Command = tuple[bytes, ...]
"""A command to run: its name and arguments."""
Abandoned = Callable[[list[Any]], None]
"""Called with the replies of calls whose caller was cancelled while they ran (to undo them)."""


class _Protocol(asyncio.Protocol):
    def __init__(self, on_lost: Any) -> None:
        self.reader = hiredis.Reader()
        self.waiters: deque[tuple[asyncio.Future[Any], float, asyncio.Future[None] | None]] = (
            deque()
        )
        """Per command sent: its reply's future, its deadline, and the future to settle with it
        (the last command of a ``run_together``: its caller waits on that one)."""
        self.transport: asyncio.Transport | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.pending: list[bytes] = []
        self.flush_scheduled = False
        self.on_lost = on_lost
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)
        waiters = self.waiters
        while True:
            reply = self.reader.gets()
            if reply is False:
                return
            if not waiters:
                continue
            future, _, then = waiters.popleft()
            if not future.done():
                if isinstance(reply, hiredis.ReplyError):
                    future.set_exception(StoreReplyError(str(reply)))
                else:
                    future.set_result(reply)
            if then is not None and not then.done():
                then.set_result(None)  # now, not from a callback a loop pass later

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        reason = f"redis connection lost: {exc or 'closed by server'}"
        self.fail(StoreUnavailable(reason))
        self.on_lost(self, reason)

    def fail(self, error: Exception) -> None:
        while self.waiters:
            future, _, then = self.waiters.popleft()
            if not future.done():
                future.set_exception(error)
            if then is not None and not then.done():
                then.set_result(None)

    def flush(self) -> None:
        self.flush_scheduled = False
        self.write_now()

    def write_now(self) -> None:
        """Write what is pending (a scheduled ``flush`` then writes only what came after)."""
        if self.transport is not None and self.pending:
            self.transport.write(b"".join(self.pending))
        self.pending.clear()


class PipelinedRedis:
    """One auto-pipelined connection to a standalone Redis (``redis://``, ``rediss://``,
    ``unix://``). Commands are sent in the order they are issued and answered in order."""

    one_node = True

    def __init__(self, url: str, timeout: float = 2.0, *, count_errors: bool = True) -> None:
        self.url = url
        self.timeout = timeout
        self.count_errors = count_errors
        """Count failed commands in ``jumbe_redis_errors`` (off for a Cluster's nodes, whose
        ``MOVED``/``ASK`` replies are routing, counted by ``ClusterPipelinedRedis``)."""
        self._parts = _parse_url(url)
        self._protocol: _Protocol | None = None
        self._opening: asyncio.Future[_Protocol] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._closed = False
        self._down_since: float | None = None

    def _down(self, reason: str) -> None:
        """Note that Redis cannot be used (logged once per outage, with the reason)."""
        if self._down_since is None and not self._closed:
            self._down_since = time.monotonic()
            log.warning("redis_unavailable", client="hop_path", redis=describe(self.url),
                        reason=reason)  # fmt: skip

    def _up(self) -> None:
        if self._down_since is not None:
            down_s = round(time.monotonic() - self._down_since, 3)
            self._down_since = None
            log.info("redis_available_again", client="hop_path", redis=describe(self.url),
                     down_s=down_s)  # fmt: skip

    async def _connection(self) -> _Protocol:
        """The live connection; while there is none, every caller shares one connect attempt.

        With Redis hung, a burst of hops thus waits for one connect timeout together, not one
        each in turn (and Redis sees one connection attempt, not a storm).
        """
        protocol = self._protocol
        if protocol is not None:
            return protocol
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open_shared())
            self._opening.add_done_callback(_consume_exception)
        return await asyncio.shield(self._opening)

    async def _open_shared(self) -> _Protocol:
        try:
            protocol = await self._open()
        except StoreUnavailable as exc:
            self._down(str(exc))
            raise
        finally:
            self._opening = None
        if self._closed:  # close() ran while this connect was in flight
            if protocol.transport is not None:
                protocol.transport.close()
            raise StoreUnavailable("redis client is closed")
        if protocol.lost:
            self._down(f"redis at {self._describe()} closed the new connection")
            raise StoreUnavailable(f"redis at {self._describe()} closed the new connection")
        self._protocol = protocol
        self._up()
        return protocol

    async def _open(self) -> _Protocol:
        if self._closed:
            raise StoreUnavailable("redis client is closed")
        loop = asyncio.get_running_loop()
        parts = self._parts
        protocol = _Protocol(self._lost)
        try:
            async with asyncio.timeout(self.timeout):
                if parts["path"]:
                    await loop.create_unix_connection(lambda: protocol, parts["path"])
                else:
                    await loop.create_connection(
                        lambda: protocol, parts["host"], parts["port"], ssl=parts["ssl"]
                    )
                handshake = []
                if parts["password"] is not None:
                    auth = ([parts["username"]] if parts["username"] else []) + [parts["password"]]
                    handshake.append(self._send(protocol, "AUTH", *auth))
                if parts["db"]:
                    handshake.append(self._send(protocol, "SELECT", parts["db"]))
                for reply in handshake:
                    await reply
        except (OSError, TimeoutError) as exc:
            if protocol.transport is not None:
                protocol.transport.close()
            raise StoreUnavailable(f"cannot connect to redis at {self._describe()}: {exc}") from exc
        except StoreReplyError as exc:
            if protocol.transport is not None:
                protocol.transport.close()
            raise StoreUnavailable(f"redis refused the connection: {exc}") from exc
        if self._sweeper is None:
            self._sweeper = loop.call_later(SWEEP_INTERVAL_S, self._sweep)
        return protocol

    def _describe(self) -> str:
        parts = self._parts
        return str(parts["path"] or f"{parts['host']}:{parts['port']}")

    def _lost(self, protocol: _Protocol, reason: str) -> None:
        if self._protocol is protocol:
            self._protocol = None
            self._down(reason)

    def _send(self, protocol: _Protocol, *args: Any) -> asyncio.Future[Any]:
        return self._send_packed(protocol, hiredis.pack_command(args))

    def _send_packed(self, protocol: _Protocol, command: bytes) -> asyncio.Future[Any]:
        loop = protocol.loop or asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if protocol.lost:
            # Lost between the connect and this caller waking up: nothing would answer or sweep.
            future.set_exception(StoreUnavailable("redis connection lost"))
            return future
        protocol.pending.append(command)
        protocol.waiters.append((future, time.monotonic() + self.timeout, None))
        if not protocol.flush_scheduled:
            protocol.flush_scheduled = True
            loop.call_soon(protocol.flush)
        return future

    def _send_together(
        self, protocol: _Protocol, commands: list[tuple[Any, ...] | bytes]
    ) -> tuple[list[asyncio.Future[Any]], asyncio.Future[None] | None]:
        """``commands`` (packed already, or to pack) queued for the next write, and a future
        that the reply to the last one settles directly (``None`` if there are none, or if the
        connection is already lost: every future has failed)."""
        loop = protocol.loop or asyncio.get_running_loop()
        if not commands:  # nothing to send: no reply would ever settle a waiter
            return [], None
        if protocol.lost:
            failed = []
            for _ in commands:
                future: asyncio.Future[Any] = loop.create_future()
                future.set_exception(StoreUnavailable("redis connection lost"))
                failed.append(future)
            return failed, None
        deadline = time.monotonic() + self.timeout
        pending, waiters, create = protocol.pending, protocol.waiters, loop.create_future
        waiter: asyncio.Future[None] = create()
        sent = []
        last = len(commands) - 1
        for i, args in enumerate(commands):
            future = create()
            pending.append(args if isinstance(args, bytes) else hiredis.pack_command(args))
            waiters.append((future, deadline, waiter if i == last else None))
            sent.append(future)
        if len(pending) >= EARLY_WRITE_AT:  # a long pass: Redis can start on these now
            protocol.write_now()
        elif not protocol.flush_scheduled:
            protocol.flush_scheduled = True
            loop.call_soon(protocol.flush)
        return sent, waiter

    def _sweep(self) -> None:
        """Fail commands past their deadline; replies are ordered, so the connection is reset."""
        self._sweeper = None
        protocol = self._protocol
        if protocol is not None and protocol.waiters and protocol.waiters[0][1] < time.monotonic():
            reason = f"redis did not answer within {self.timeout}s"
            protocol.fail(StoreUnavailable(reason))
            self._protocol = None
            self._down(reason)
            if protocol.transport is not None:
                protocol.transport.abort()
        if not self._closed:
            self._sweeper = asyncio.get_running_loop().call_later(SWEEP_INTERVAL_S, self._sweep)

    async def execute(self, *args: Any) -> Any:
        """Send one command; its reply (bytes, int, list, ``None``)."""
        protocol = self._protocol
        try:
            if protocol is None:  # awaiting ``_connection`` only then: a coroutine less per hop
                protocol = await self._connection()
            return await self._send(protocol, *args)
        except StoreError as exc:
            if self.count_errors:
                count_error(exc)
            raise

    async def execute_asking(self, *args: Any) -> Any:
        """``ASKING`` then one command, adjacent on this connection (a Cluster slot being
        migrated here: its keys are served only right after ``ASKING``)."""
        protocol = await self._connection()
        asking = self._send(protocol, b"ASKING")
        reply = self._send(protocol, *args)
        await asking
        return await reply

    async def run_script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """``EVALSHA`` of ``source``, loading it once on ``NOSCRIPT`` (e.g. after a restart).

        The hop path's write: sent from this coroutine itself (not through ``execute`` and the
        module's ``run_script``: two coroutines fewer per hop)."""
        protocol = self._protocol
        numkeys = _NUMKEYS[len(keys)] if len(keys) < 10 else len(keys)
        try:
            if protocol is None:
                protocol = await self._connection()
            try:
                return await self._send(protocol, b"EVALSHA", _sha(source), numkeys, *keys, *args)
            except StoreReplyError as exc:
                if not str(exc).startswith("NOSCRIPT"):
                    raise
            return await self._send(protocol, b"EVAL", source, numkeys, *keys, *args)
        except StoreError as exc:
            if self.count_errors:
                count_error(exc)
            raise

    async def run_together(
        self, calls: Sequence[Script | Command], abandoned: Abandoned | None = None
    ) -> list[Any]:
        """Scripts and commands written in one go (one round trip, no task each); each one's
        reply, or the ``StoreError`` it raised, in order. If the caller is cancelled while
        they run, ``abandoned`` gets the replies when they arrive (they ran all the same)."""
        protocol = self._protocol
        if protocol is None:  # awaiting ``_connection`` only then: a coroutine less per call
            try:
                protocol = await self._connection()
            except StoreError as exc:
                if self.count_errors:
                    count_error(exc)
                return [exc] * len(calls)
        sent, waiter = self._send_together(protocol, [_command(call) for call in calls])
        if waiter is not None:
            try:
                await waiter
            except asyncio.CancelledError:
                if abandoned is not None:
                    last = sent[-1]
                    last.add_done_callback(lambda _: abandoned([_reply(f) for f in sent]))
                raise
        results = [_reply(future) for future in sent]
        missing = [
            i for i, (call, result) in enumerate(zip(calls, results, strict=True))
            if isinstance(call[0], str) and isinstance(result, StoreReplyError)
            and str(result).startswith("NOSCRIPT")
        ]  # fmt: skip
        if missing:  # a restarted Redis: EVAL loads them (and runs them, once)
            again = [self._send_packed(protocol, _packed(calls[i], load=True)) for i in missing]
            await _replied(
                again, None if abandoned is None else _merged(results, missing, abandoned)
            )
            for i, future in zip(missing, again, strict=True):
                results[i] = _reply(future)
        if self.count_errors:
            for result in results:
                if isinstance(result, StoreError):
                    count_error(result)
        return results

    async def close(self) -> None:
        self._closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.flush()
            protocol.transport.close()
            with contextlib.suppress(Exception):
                await asyncio.sleep(0)


_SHAS: dict[str, bytes] = {}


async def run_script(
    execute: Callable[..., Awaitable[Any]], source: str, keys: list[str], args: list[Any]
) -> Any:
    """``EVALSHA`` of ``source`` through ``execute``; on ``NOSCRIPT`` (a restarted Redis, a new
    Cluster node) ``EVAL`` it, which also loads it."""
    try:
        return await execute(b"EVALSHA", _sha(source), len(keys), *keys, *args)
    except StoreReplyError as exc:
        if not str(exc).startswith("NOSCRIPT"):
            raise
        return await execute(b"EVAL", source, len(keys), *keys, *args)


def _command(call: Script | Command, load: bool = False) -> tuple[Any, ...] | bytes:
    """The command that runs ``call``: a script by its SHA1 (``EVALSHA``), or by its source
    (``EVAL``, which also loads it) when ``load``; packed already (``store.resp``) if its
    first argument is a ``Packed`` part (the other arguments may hold more)."""
    if not isinstance(call[0], str):
        return call
    source, keys, args = call
    command = (b"EVAL" if load else b"EVALSHA", source if load else _sha(source),
               _NUMKEYS[len(keys)] if len(keys) < 10 else len(keys), *keys, *args)  # fmt: skip
    return pack(command) if args and isinstance(args[0], Packed) else command


def _packed(call: Script | Command, load: bool) -> bytes:
    """``_command`` of ``call``, packed."""
    command = _command(call, load)
    return command if isinstance(command, bytes) else bytes(hiredis.pack_command(command))


_NUMKEYS = [str(n).encode() for n in range(10)]
"""Key counts as the text the client sends (not made from the int per call)."""


async def _replied(sent: list[asyncio.Future[Any]], abandoned: Abandoned | None) -> None:
    """Wait until every one of ``sent`` has its reply (replies come in order: the last one's
    is last), without cancelling them if the caller is cancelled: ``abandoned`` then gets them."""
    last = sent[-1]
    if last.done():
        return
    waiter = asyncio.get_running_loop().create_future()
    last.add_done_callback(lambda _: _wake(waiter))
    try:
        await waiter
    except asyncio.CancelledError:
        if abandoned is not None:
            last.add_done_callback(lambda _: abandoned([_reply(future) for future in sent]))
        raise


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _reply(future: asyncio.Future[Any]) -> Any:
    """A settled command's reply, or the ``StoreError`` it failed with."""
    error = future.exception()
    if error is None:
        return future.result()
    if isinstance(error, StoreError):
        return error
    raise error


def _merged(results: list[Any], at: list[int], abandoned: Abandoned) -> Abandoned:
    """``abandoned`` for replies that replace ``results[i]`` for each ``i`` in ``at``."""

    def merge(replies: list[Any]) -> None:
        merged = list(results)
        for i, reply in zip(at, replies, strict=True):
            merged[i] = reply
        abandoned(merged)

    return merge


def _sha(source: str) -> bytes:
    sha = _SHAS.get(source)
    if sha is None:
        sha = _SHAS[source] = hashlib.sha1(source.encode()).hexdigest().encode()
    return sha


def count_error(exc: StoreError) -> None:
    """One failed hop-path command, in ``jumbe_redis_errors{client="hop_path"}`` (not a
    ``NOSCRIPT``: that is the script cache being refilled, answered at once by ``EVAL``)."""
    if str(exc).startswith("NOSCRIPT"):
        return
    kind = "reply" if isinstance(exc, StoreReplyError) else "unavailable"
    metrics.count_redis_error("hop_path", kind)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a shared connect's failure as seen even if every waiter was cancelled."""
    if not future.cancelled():
        future.exception()


def _parse_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"unsupported Redis URL scheme {parts.scheme!r} in {url!r}")
    db_text = (parts.path.lstrip("/") if parts.scheme != "unix" else "") or (
        query.get("db", ["0"])[0]
    )
    try:
        db = int(db_text or 0)
    except ValueError:
        raise ConfigError(f"bad Redis database number {db_text!r} in {url!r}") from None
    return {
        "path": unquote(parts.path) if parts.scheme == "unix" else "",
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "ssl": ssl.create_default_context() if parts.scheme == "rediss" else None,
        "username": unquote(parts.username) if parts.username else None,
        "password": unquote(parts.password)
        if parts.password
        else (query["password"][0] if "password" in query else None),
        "db": db,
    }
