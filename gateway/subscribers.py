"""What Jumbe remembers about a subscriber across sessions, keyed by pseudonym (never the number).

Today: the chosen language. Read on the first hop of multilingual menus, written when a
language screen changes it.
"""

from __future__ import annotations

import redis
import redis.asyncio

from gateway.errors import StoreUnavailable
from gateway.store import keys

LANGUAGE_FIELD = "lang"


async def set_language(client: redis.asyncio.Redis, pseudonym: str, language: str) -> None:
    """Remember ``language`` for the subscriber (e.g. from an admin tool or the simulator)."""
    key = keys.subscriber(pseudonym)
    try:
        async with client.pipeline(transaction=True) as pipe:
            pipe.hset(key, LANGUAGE_FIELD, language)
            pipe.expire(key, keys.SUBSCRIBER_TTL)
            await pipe.execute()
    except (redis.RedisError, OSError) as exc:
        raise StoreUnavailable(f"cannot save subscriber language: {exc}") from exc


async def get_language(client: redis.asyncio.Redis, pseudonym: str) -> str | None:
    """The remembered language, or ``None``."""
    try:
        value = await client.hget(keys.subscriber(pseudonym), LANGUAGE_FIELD)
    except (redis.RedisError, OSError) as exc:
        raise StoreUnavailable(f"cannot read subscriber language: {exc}") from exc
    return value.decode() if isinstance(value, bytes) else value
