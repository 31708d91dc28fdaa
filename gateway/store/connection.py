"""Connecting to Redis: a URL, or the embedded redis-server (``gateway.store.embedded``).

``prepared_store`` is what ``serve`` runs before it listens: it starts the embedded Redis (or
checks that the URL answers), resolves the pseudonym key and checks it against the data
(``gateway.store.identity``, ``gateway.store.meta``), so that a wrong setting is one clear
line at start-up instead of a gateway that forgets its subscribers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio

from gateway.config import Settings
from gateway.errors import ConfigError, StoreUnavailable
from gateway.store.client import ClusterStore, StandaloneStore, StoreClient
from gateway.store.embedded import EmbeddedRedis
from gateway.store.identity import resolve_key
from gateway.store.meta import open_data
from gateway.store.urls import describe

PREFLIGHT_TIMEOUT_S = 3.0


_CLUSTER_DB = ("{url} is a Redis Cluster node: a Cluster has only database 0 (drop the /<db> "
               "from the URL)")  # fmt: skip


def redis_for(url: str | None, data_dir: Path) -> tuple[str, EmbeddedRedis | None]:
    """``url`` itself, or a started embedded Redis under ``data_dir`` and its URL."""
    if url is not None:
        return url, None
    embedded = EmbeddedRedis(data_dir)
    embedded.start()
    return embedded.url, embedded


def connect(url: str, *, cluster: bool = False, socket_timeout: float = 2.0) -> StoreClient:
    """An asyncio client for ``url`` (``redis://``, ``rediss://`` or ``unix://``; with
    ``cluster``, any node of a Redis Cluster), bytes in/out, raising
    ``StoreUnavailable``/``StoreReplyError`` (``store.client``)."""
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": min(socket_timeout, 1.0),
        "decode_responses": False,
    }
    try:
        client = (ClusterStore if cluster else StandaloneStore).from_url(url, **options)
    except (ValueError, redis.RedisError) as exc:
        raise ConfigError(f"bad Redis URL {describe(url)!r}: {exc}") from None
    assert isinstance(client, ClusterStore | StandaloneStore)  # from_url builds its own class
    return client


def is_cluster(client: redis.Redis) -> bool:
    """Whether the node ``client`` talks to is part of a Redis Cluster."""
    return str(client.info("cluster").get("cluster_enabled", "0")) == "1"


def detect_cluster(url: str) -> bool:
    """Whether the Redis at ``url`` is a Cluster node (one short synchronous check, for
    start-up: ``jumbe worker``, tools)."""
    client = check_reachable(url)
    try:
        return is_cluster(client)
    except (redis.RedisError, OSError) as exc:
        raise StoreUnavailable(f"cannot use Redis at {describe(url)}: {exc}") from None
    finally:
        client.close()


def check_reachable(url: str) -> redis.Redis:
    """A synchronous client that has answered PING; ``StoreUnavailable`` saying why not."""
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigError(f"unsupported Redis URL {describe(url)!r}: use redis://, rediss:// or "
                          "unix://")  # fmt: skip
    try:
        client = redis.Redis.from_url(
            url, socket_timeout=PREFLIGHT_TIMEOUT_S, socket_connect_timeout=PREFLIGHT_TIMEOUT_S
        )
    except ValueError as exc:
        raise ConfigError(f"bad Redis URL {describe(url)!r}: {exc}") from None
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        client.close()
        reason = str(exc).strip() or type(exc).__name__
        if "not allowed in cluster mode" in reason:
            raise ConfigError(_CLUSTER_DB.format(url=describe(url))) from None
        raise StoreUnavailable(f"cannot use Redis at {describe(url)}: {reason}") from None
    return client


@contextmanager
def prepared_store(settings: Settings) -> Iterator[tuple[Settings, EmbeddedRedis | None]]:
    """Settings with a reachable Redis URL and the pseudonym key, plus the embedded Redis this
    process owns (stopped on exit). Raises ``ConfigError``/``StoreUnavailable`` with one line."""
    embedded_mode = settings.redis_url is None
    key = resolve_key(settings.pseudonym_key, settings.data_dir, embedded=embedded_mode)
    url, embedded = redis_for(settings.redis_url, settings.data_dir)
    try:
        cluster = detect_cluster(url)
        if cluster and urlsplit(url).path.strip("/") not in ("", "0"):
            raise ConfigError(_CLUSTER_DB.format(url=describe(url)))
        client: redis.Redis | redis.RedisCluster = (
            redis.RedisCluster.from_url(url, socket_timeout=PREFLIGHT_TIMEOUT_S)
            if cluster
            else check_reachable(url)
        )
        try:
            open_data(client, key, settings.data_dir if embedded is not None else None)
        except (redis.RedisError, OSError) as exc:
            raise StoreUnavailable(f"cannot use Redis at {describe(url)}: {exc}") from None
        finally:
            client.close()
        prepared = replace(settings, redis_url=url, pseudonym_key=key, redis_cluster=cluster)
        yield prepared, embedded
    finally:
        if embedded is not None:
            embedded.stop()
