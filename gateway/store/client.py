"""The redis-py client everything off the hop path uses, with Redis's errors translated here.

This is the one place where redis-py's exceptions become Jumbe's (``gateway.errors``): a
connection problem or a timeout becomes ``StoreUnavailable``; an error reply (``NOGROUP``,
``WRONGTYPE``, a failing script) becomes ``StoreReplyError``. redis-py sends every command
through ``execute_command`` and every pipeline through ``execute``, so translating those covers
commands, scripts and pipelines. (The hop path's own client, ``store.pipelined``, translates its
errors the same way.)

Two clients, one for a standalone Redis and one for a Redis Cluster (``connect`` picks by what
the URL's node says it is); ``StoreClient`` is either: code that uses one uses the commands both
have, with every multi-key command and script on keys that share a hash tag.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import redis
import redis.asyncio
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import NoScriptError, RedisClusterException

from gateway import metrics
from gateway.errors import StoreReplyError, StoreUnavailable


def translate(exc: BaseException) -> Exception:
    """The Jumbe error for a redis-py (or socket) error (counted in ``jumbe_redis_errors``)."""
    if isinstance(exc, (redis.ResponseError, RedisClusterException)):
        # RedisClusterException: the cluster client refusing keys of several slots itself (a
        # bug of ours, like Redis's own CROSSSLOT answer), not an outage
        metrics.count_redis_error("main", "reply")
        return StoreReplyError(str(exc))
    metrics.count_redis_error("main", "unavailable")
    reason = str(exc).strip() or type(exc).__name__
    return StoreUnavailable(f"redis: {reason}")


class StorePipeline(Pipeline):
    """A redis-py pipeline whose ``execute`` raises Jumbe's errors."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        try:
            return await super().execute(raise_on_error)
        except (redis.RedisError, OSError) as exc:
            raise translate(exc) from exc


class StandaloneStore(redis.asyncio.Redis):
    """``redis.asyncio.Redis`` raising ``StoreUnavailable`` / ``StoreReplyError``."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except NoScriptError:
            raise  # redis-py's script objects load the script and try again
        except (redis.RedisError, OSError) as exc:
            raise translate(exc) from exc

    def pipeline(self, transaction: bool = True, shard_hint: str | None = None) -> StorePipeline:
        return StorePipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


class StoreClusterPipeline(ClusterPipeline):
    """A redis-py cluster pipeline whose ``execute`` raises Jumbe's errors."""

    async def execute(
        self, raise_on_error: bool = True, allow_redirections: bool = True
    ) -> list[Any]:
        try:
            return await super().execute(raise_on_error, allow_redirections)
        except (redis.RedisError, RedisClusterException, OSError) as exc:
            raise translate(exc) from exc


class ClusterStore(RedisCluster):
    """``redis.asyncio.RedisCluster`` (it follows ``MOVED``/``ASK`` and refreshes its slot map)
    raising ``StoreUnavailable`` / ``StoreReplyError``."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)
        except NoScriptError:
            raise
        except (redis.RedisError, RedisClusterException, OSError) as exc:
            raise translate(exc) from exc
        except AttributeError:
            # redis-py 7's cluster client can lose a node connection's writer while another
            # command is connecting it ('NoneType' object has no attribute 'writelines'), before
            # this command was written: sent once more on a fresh connection; failing again, a
            # connection failure for the caller (503, retried), not a crash (500).
            try:
                return await super().execute_command(*args, **options)
            except NoScriptError:
                raise
            except (redis.RedisError, RedisClusterException, OSError, AttributeError) as exc:
                raise translate(exc) from exc

    def pipeline(
        self, transaction: Any | None = None, shard_hint: Any | None = None
    ) -> StoreClusterPipeline:
        return StoreClusterPipeline(self, transaction)  # type: ignore[abstract]


StoreClient: TypeAlias = StandaloneStore | ClusterStore
"""What engines get (``app[REDIS]``): a standalone or a cluster client."""
