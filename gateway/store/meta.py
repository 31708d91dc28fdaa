"""Who wrote this Redis's data, and whether it was lost: the ``j:meta:{meta}`` hash.

Written at the first start (``open_data``): an ``epoch`` (random id of this installation's
data), when it was created, and a check value of the pseudonym key. Then:

- a gateway whose key does not match refuses to start (``KeyMismatch``);
- data loss is detected — by the data dir remembering an epoch Redis no longer has (embedded
  Redis), or by a running gateway seeing the hash vanish (``DataGuard.watch``: Redis restarted
  without persistence, a failover to an empty replica, FLUSHALL) — and recorded in the hash as
  ``lost_at``/``lost_reason``;
- until an operator acknowledges it (``jumbe ack-data-loss``), ``DataGuard.loss()`` says why,
  and everything that depends on remembered opt-outs (marketing in ``opt_out`` mode) is
  refused: the opt-outs may be gone with the data.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from pathlib import Path
from typing import Any

import redis
import redis.asyncio

from gateway import logs
from gateway.errors import KeyMismatch, StoreError
from gateway.store import keys, lua
from gateway.store.client import StoreClient
from gateway.store.identity import key_check

log = logs.get_logger("gateway.store")

EPOCH_FILE = "epoch"
WATCH_INTERVAL_S = 1.0

_INIT = lua.source("meta_init")


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _reason_data_dir(remembered: str) -> str:
    return (
        f"the data dir remembers data epoch {remembered} but Redis no longer holds it "
        "(its append-only file was lost or replaced)"
    )


def open_data(
    client: redis.Redis | redis.RedisCluster, key: bytes, data_dir: Path | None = None
) -> str:
    """Check or initialise this Redis's metadata at start-up; the data epoch.

    ``data_dir`` (embedded Redis) keeps a copy of the epoch, so that losing the append-only
    file is noticed at the next start. Raises ``KeyMismatch`` on a different key.
    """
    remembered = _read_epoch(data_dir)
    reason = _reason_data_dir(remembered) if remembered else ""
    stored: Any = client.eval(
        _INIT, 1, keys.meta(), _new_epoch(), time.time(), key_check(key), reason
    )
    epoch, check = (_text(value) for value in stored)
    if check != key_check(key):
        raise KeyMismatch(
            "JUMBE_PSEUDONYM_KEY is not the key this Redis's data was written with: every "
            "subscriber would be forgotten and their opt-outs orphaned. Use the original key "
            "(rotation is not supported: see docs/architecture.md, 'Subscriber identity')"
        )
    if remembered and epoch != remembered and not _text(client.hget(keys.meta(), "lost_at")):
        client.hset(keys.meta(), mapping={"lost_at": time.time(),
                                          "lost_reason": _reason_data_dir(remembered)})  # fmt: skip
    if data_dir is not None:
        _write_epoch(data_dir, epoch)
    lost = _text(client.hget(keys.meta(), "lost_reason"))
    if lost:
        log.error("redis_data_loss_unacknowledged", reason=lost,
                  hint="run `jumbe ack-data-loss` once opt-outs are restored")  # fmt: skip
    return epoch


def acknowledge(client: redis.Redis | redis.RedisCluster, note: str) -> str | None:
    """Clear a recorded data loss (keeping an audit entry); the loss acknowledged, if any."""
    reason = _text(client.hget(keys.meta(), "lost_reason"))
    if not reason:
        return None
    lost_at = _text(client.hget(keys.meta(), "lost_at"))
    pipe = client.pipeline(transaction=True)
    pipe.hdel(keys.meta(), "lost_at", "lost_reason")
    pipe.hset(keys.meta(), mapping={"acknowledged_at": time.time(), "acknowledged_note": note})
    pipe.xadd(keys.meta_log(), {
        "event": "data_loss_acknowledged", "lost_at": lost_at, "reason": reason, "note": note,
        "at": f"{time.time():.3f}",
    })  # fmt: skip
    pipe.execute()
    return reason


class DataGuard:
    """Answers "was the data lost?" for the checks that depend on remembered opt-outs, and
    watches for a loss while the gateway runs."""

    def __init__(self, client: StoreClient, key: bytes = b"") -> None:
        self._redis = client
        self._key = key
        self._init = client.register_script(_INIT)

    async def loss(self) -> str | None:
        """Why remembered data cannot be trusted (unacknowledged loss), or ``None``."""
        epoch, reason = await self._redis.hmget(keys.meta(), ["epoch", "lost_reason"])
        if epoch is None:
            return "Redis holds no Jumbe metadata: its data was lost or never initialised"
        return _text(reason) or None

    async def watch(self, stop: asyncio.Event) -> None:
        """Every second, make sure the metadata is still there; if it vanished, record the
        loss (one gateway wins the race; every one logs it at error once)."""
        reported = ""
        while not stop.is_set():
            try:
                if await self._redis.hget(keys.meta(), "epoch") is None:
                    await self._init(keys=[keys.meta()], args=[
                        _new_epoch(), time.time(), key_check(self._key),
                        f"the Jumbe metadata vanished while gateway pid {os.getpid()} ran: Redis "
                        "lost its data (a restart without persistence, a failover to an empty "
                        "replica, FLUSHALL)",
                    ])  # fmt: skip
                reason = await self.loss() or ""
                if reason and reason != reported:
                    log.error("redis_data_loss", reason=reason,
                              hint="marketing in opt_out mode is refused until "
                              "`jumbe ack-data-loss`")  # fmt: skip
                reported = reason
            except StoreError:
                pass  # Redis is down: the hop path and /readyz report that
            try:
                await asyncio.wait_for(stop.wait(), WATCH_INTERVAL_S)
            except TimeoutError:
                continue


def _new_epoch() -> str:
    return secrets.token_hex(8)


def _read_epoch(data_dir: Path | None) -> str:
    if data_dir is None:
        return ""
    try:
        return (data_dir / EPOCH_FILE).read_text().strip()
    except FileNotFoundError:
        return ""


def _write_epoch(data_dir: Path, epoch: str) -> None:
    path = data_dir / EPOCH_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(epoch + "\n")
    tmp.replace(path)
