"""``run_all``: many Lua script calls in one pipelined round trip (a Cluster client sends each
node its share at once), for a worker that moves a batch of records at a time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError

from gateway.store.client import StoreClient, translate

Call = tuple[AsyncScript, list[str], list[Any]]
"""A script and its keys (one slot) and arguments."""


async def run_all(client: StoreClient, calls: Sequence[Call]) -> list[Any]:
    """The replies of ``calls``, in order. A script Redis does not know yet (``NOSCRIPT``: a
    restarted or flushed Redis) is run on its own, which loads it; any other error reply
    raises it, translated (the calls before and after it may have run)."""
    if len(calls) <= 1:  # a pipeline costs more than one command
        return [await script(keys=keys, args=args) for script, keys, args in calls]
    pipe = client.pipeline(transaction=False)
    for script, keys, args in calls:
        # as a plain command: redis-py's cluster pipeline refuses its ``evalsha`` method, yet
        # routes ``EVALSHA`` by its keys like any other command
        pipe.execute_command("EVALSHA", script.sha, len(keys), *keys, *args)
    replies = await pipe.execute(raise_on_error=False)
    results = []
    for (script, keys, args), reply in zip(calls, replies, strict=True):
        if isinstance(reply, NoScriptError):
            reply = await script(keys=keys, args=args)  # noqa: PLW2901
        elif isinstance(reply, BaseException):
            raise translate(reply) from reply
        results.append(reply)
    return results
