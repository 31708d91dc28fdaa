"""The hop path's client for a Redis Cluster: the auto-pipelined client, once per master.

Why not a maintained cluster client on the hop path: measured on this machine (one process,
one core, 50 concurrent ``EVALSHA``), the hand-written pipelined client did 31–34k/s,
valkey-glide 2.6 22–29k/s, redis-py 8.1 12–15k/s and coredis 9–10k/s; the hop costs one round
trip, so its client is most of the gateway's Redis cost. Everything off the hop path uses
redis-py's ``RedisCluster`` (``store.client.ClusterStore``).

How it works:
- each command goes to the master that owns its key's slot (CRC16 with hash tags, redis-py's
  ``key_slot``): one ``PipelinedRedis`` per master, so commands for different masters go out
  in parallel and the round trips per hop stay what they are on one Redis;
- the slot map comes from ``CLUSTER SLOTS`` on first use (one shared read for a burst), and is
  re-read in the background, at most once a second, whenever something suggests it changed:
  commands never wait for that, so a stalled master holds up only the hops whose keys it owns;
- ``MOVED`` (a slot changed owner): the slot is pointed at the new owner at once and the
  command is sent there;
- ``ASK`` (a slot being migrated, this key already moved): ``ASKING`` and the command are sent
  together to the target, leaving the map alone;
- ``TRYAGAIN``/``CLUSTERDOWN`` (a multi-key command during a migration, a failover): retried
  briefly; connection errors are ``StoreUnavailable`` as on one Redis (the map is re-read in
  case the master failed over to a replica).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from redis.crc import key_slot

from gateway import logs
from gateway.errors import ConfigError, StoreError, StoreReplyError, StoreUnavailable
from gateway.store.pipelined import (
    Abandoned,
    Command,
    PipelinedRedis,
    Script,
    count_error,
    run_script,
)

log = logs.get_logger("gateway.store")

SLOTS = 16384
MAX_REDIRECTS = 5
RETRY_PAUSE_S = 0.05
REFRESH_AT_MOST_EVERY_S = 1.0
_SCRIPT_COMMANDS = (b"EVALSHA", b"EVAL")


class ClusterPipelinedRedis:
    """``PipelinedRedis``'s interface (``execute``, ``run_script``, ``close``) on a Cluster."""

    one_node = False

    def __init__(self, url: str, timeout: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("redis", "rediss"):
            raise ConfigError(f"a Redis Cluster is reached over redis:// or rediss://, not {url!r}")
        self._parts = parts
        self.timeout = timeout
        seed = f"{parts.hostname or '127.0.0.1'}:{parts.port or 6379}"
        self._seeds = [seed]
        self._nodes: dict[str, PipelinedRedis] = {}
        self._slots: list[str | None] = [None] * SLOTS
        self._refreshing: asyncio.Future[None] | None = None
        self._last_refresh = 0.0
        self._mapped = False
        self._failing: set[str] = set()
        self._map_failing = False
        self._closed = False

    # --- routing ----------------------------------------------------------------------------

    async def execute(self, *args: Any) -> Any:
        """Send one command to the master of its key's slot; its reply."""
        try:
            return await self._routed(False, args)
        except StoreError as exc:
            count_error(exc)
            raise

    async def run_script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """``EVALSHA`` of ``source`` on the master of ``keys``' slot (one slot: hash tags)."""
        return await run_script(self.execute, source, keys, args)

    async def run_together(
        self, calls: Sequence[Script | Command], abandoned: Abandoned | None = None
    ) -> list[Any]:
        """Scripts and commands sent together, each routed to its slot's master; each one's
        reply, or the ``StoreError`` it raised, in order (``abandoned``: as
        ``PipelinedRedis.run_together``)."""
        steps = [
            self.execute(*call) if not isinstance(call[0], str) else self.run_script(*call)
            for call in calls
        ]
        together = asyncio.gather(*steps, return_exceptions=True)
        try:
            results = await asyncio.shield(together)
        except asyncio.CancelledError:
            if abandoned is not None:
                together.add_done_callback(lambda done: abandoned(done.result()))
            raise
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, StoreError):
                raise result
        return results

    async def _routed(self, asking: bool, args: tuple[Any, ...]) -> Any:
        slot = _slot_of(args)
        address: str | None = None
        for _ in range(MAX_REDIRECTS):
            if address is None:
                address = await self._owner(slot)
            node = self._node(address)
            try:
                if asking:
                    return await node.execute_asking(*args)
                return await node.execute(*args)
            except StoreReplyError as exc:
                redirect = _redirect(str(exc))
                if redirect is None:
                    if not str(exc).startswith(("TRYAGAIN", "CLUSTERDOWN")):
                        raise
                    await asyncio.sleep(RETRY_PAUSE_S)  # a migration's multi-key step, a failover
                    address, asking = None, False
                    self._refresh_soon()
                    continue
                kind, moved_slot, address = redirect
                asking = kind == "ASK"
                if kind == "MOVED":
                    self._slots[moved_slot] = address
                    self._refresh_soon()
            except StoreUnavailable:
                self._refresh_soon()  # the master may have failed over: ask the cluster again
                raise
        raise StoreUnavailable(f"redis cluster: more than {MAX_REDIRECTS} redirections")

    async def _owner(self, slot: int | None) -> str:
        if not self._mapped:
            await self._first_map()
        if slot is None:
            return self._seeds[0]
        owner = self._slots[slot]
        if owner is None:
            self._refresh_soon()
            raise StoreUnavailable(f"redis cluster: no master serves slot {slot}")
        return owner

    # --- the slot map -----------------------------------------------------------------------

    async def _first_map(self) -> None:
        """Read the slot map before the first command (callers meanwhile share one read)."""
        if self._refreshing is None:
            self._start_refresh()
        assert self._refreshing is not None
        await asyncio.shield(self._refreshing)

    def _refresh_soon(self) -> None:
        """Re-read the slot map in the background (at most once a second): commands keep
        using the map they have, so one stalled master cannot hold up the others' hops."""
        if (
            self._refreshing is None
            and not self._closed
            and (time.monotonic() - self._last_refresh > REFRESH_AT_MOST_EVERY_S)
        ):
            self._start_refresh()

    def _start_refresh(self) -> None:
        self._last_refresh = time.monotonic()
        self._refreshing = asyncio.ensure_future(self._read_slots())
        self._refreshing.add_done_callback(self._refreshed)

    def _refreshed(self, future: asyncio.Future[None]) -> None:
        """Log when the map could not be read, once until it can be again."""
        self._refreshing = None
        problem = None if future.cancelled() else future.exception()
        if problem is not None and not self._map_failing:
            log.warning("redis_cluster_map_unavailable", reason=str(problem))
        self._map_failing = problem is not None

    async def _read_slots(self) -> None:
        problem: Exception | None = None
        known = [*self._seeds, *(a for a in self._nodes if a not in self._seeds)]
        for address in sorted(known, key=lambda a: a in self._failing):
            try:
                reply = await self._node(address).execute(b"CLUSTER", b"SLOTS")
            except (StoreUnavailable, StoreReplyError) as exc:
                self._failing.add(address)
                problem = exc
                continue
            self._failing.discard(address)
            slots: list[str | None] = [None] * SLOTS
            for start, end, master, *_replicas in reply:
                owner = _address(master, self._parts.hostname)
                for slot in range(int(start), int(end) + 1):
                    slots[slot] = owner
            self._slots = slots
            self._mapped = True
            masters = sorted({owner for owner in slots if owner})
            self._seeds = masters or self._seeds
            for gone in [a for a in self._nodes if a not in masters]:
                await self._nodes.pop(gone).close()
            return
        raise StoreUnavailable(f"redis cluster: no node answered CLUSTER SLOTS ({problem})")

    def _node(self, address: str) -> PipelinedRedis:
        node = self._nodes.get(address)
        if node is None:
            if self._closed:
                raise StoreUnavailable("redis client is closed")
            host, _, port = address.rpartition(":")
            netloc = self._parts.netloc.rsplit("@", 1)
            credentials = netloc[0] + "@" if len(netloc) == 2 else ""
            url = urlunsplit(self._parts._replace(netloc=f"{credentials}{host}:{port}",
                                                  path="", query=""))  # fmt: skip
            node = self._nodes[address] = PipelinedRedis(url, self.timeout, count_errors=False)
        return node

    async def close(self) -> None:
        self._closed = True
        if self._refreshing is not None:
            self._refreshing.cancel()
        nodes, self._nodes = list(self._nodes.values()), {}
        for node in nodes:
            await node.close()


def _slot_of(args: tuple[Any, ...]) -> int | None:
    """The slot of a command's first key (``None``: a command without keys)."""
    if not args:
        return None
    command = args[0] if isinstance(args[0], bytes) else str(args[0]).encode()
    if command.upper() in _SCRIPT_COMMANDS:
        return key_slot(_bytes(args[3])) if len(args) > 3 and int(args[2]) > 0 else None
    return key_slot(_bytes(args[1])) if len(args) > 1 else None


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


def _redirect(message: str) -> tuple[str, int, str] | None:
    """``MOVED 3999 127.0.0.1:6381`` → ("MOVED", 3999, "127.0.0.1:6381"); ``None`` otherwise."""
    parts = message.split()
    if len(parts) == 3 and parts[0] in ("MOVED", "ASK") and parts[1].isdigit():
        return parts[0], int(parts[1]), parts[2]
    return None


def _address(node: list[Any], default_host: str | None) -> str:
    """``host:port`` of a ``CLUSTER SLOTS`` node entry (an empty host means the one we asked)."""
    host = node[0].decode() if isinstance(node[0], bytes) else str(node[0])
    return f"{host or default_host or '127.0.0.1'}:{int(node[1])}"
