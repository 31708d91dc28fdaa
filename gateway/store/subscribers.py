"""What Jumbe remembers about a subscriber across sessions, keyed by pseudonym (never the number),
for tools (``jumbe simulate --lang``): the hop path reads and writes it with the session
(``store.session_store``)."""

from __future__ import annotations

from gateway.store import keys
from gateway.store.client import StoreClient
from gateway.store.session_store import LANGUAGE_FIELD


async def set_language(client: StoreClient, pseudonym: str, language: str) -> None:
    """Remember ``language`` for the subscriber."""
    key = keys.subscriber(pseudonym)
    async with client.pipeline(transaction=True) as pipe:
        pipe.hset(key, LANGUAGE_FIELD, language)
        pipe.expire(key, keys.SUBSCRIBER_TTL)
        await pipe.execute()
