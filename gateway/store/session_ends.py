"""End-of-session notifications: kept 30 days per session and streamed for funnel reports.

Stored once per session by one Lua script (``session_end.lua``): the notification's hash is
its own "already handled" marker and is written together with the stream entry and the
session's funnel drop count, so an aggregator's retry after a failed attempt stores and counts
it exactly once.
"""

from __future__ import annotations

import time
from typing import Any

from gateway.channels.base import UssdSessionEnd
from gateway.funnel.drops import Drop
from gateway.privacy import redact_numbers
from gateway.store import keys, lua
from gateway.store.client import StoreClient
from gateway.store.streams import min_stream_id

_SCRIPT = lua.source("session_end")


class SessionEnds:
    """Writes end-of-session notifications (redis-py; off the hop path)."""

    def __init__(self, client: StoreClient, ttl: int = keys.USSD_EVENT_TTL) -> None:
        self._store = client.register_script(_SCRIPT)
        self._ttl = ttl
        """Seconds a notification, and its stream entry, is kept."""

    async def store(
        self, end: UssdSessionEnd, subscriber: str, drop: Drop | None = None, now: float = 0.0
    ) -> bool:
        """Keep ``end`` under the subscriber's pseudonym, and count ``drop`` (at ``now``) for
        the funnel report; ``False`` if it was kept (and counted) before."""
        # Funnel reports are exports: a number typed into a menu (and echoed in the last
        # screen) or named in an error is redacted like in the logs.
        fields: dict[str, Any] = {
            "provider": end.provider, "session_id": end.session_id, "subscriber": subscriber,
            "service_code": redact_numbers(end.service_code), "network": end.network_code,
            "status": end.status,
            "duration_ms": end.duration_ms if end.duration_ms is not None else "",
            "hops": end.hops if end.hops is not None else "",
            "last_response": redact_numbers(end.last_response),
            "error": redact_numbers(end.error_message), "date": end.date,
        }  # fmt: skip
        shard = keys.ussd_ends_shard(end.provider, end.session_id)
        hour = int(now or time.time()) // 3600
        counter = keys.funnel_drops(shard, drop.menu_id if drop else "", hour // 24)
        counted = f"{hour % 24}|{drop.reason}|{drop.screen}" if drop else ""
        stored: Any = await self._store(
            keys=[keys.session_end(end.provider, end.session_id), keys.ussd_ends_stream(shard),
                  counter],
            args=[self._ttl, keys.USSD_ENDS_MAXLEN // keys.USSD_ENDS_SHARDS, counted,
                  keys.FUNNEL_TTL, min_stream_id(self._ttl, now),
                  *(item for pair in fields.items() for item in pair)],
        )  # fmt: skip
        return bool(stored)
