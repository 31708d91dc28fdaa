"""``Turns``: one holder per key at a time in this process, the others waiting in order.

What an ``asyncio.Lock`` per key did, without a lock object, an ``acquire`` coroutine or a
dictionary of counts each time: an uncontended turn is a dictionary entry; only a caller that
finds its key busy waits, on a future. Used for a USSD session's hops (a retry arriving while
the first copy is answered) and a subscriber's SMS survey replies (applied one at a time).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class Turns:
    """Turns per key: ``take_now`` or ``await take``, then ``give_back`` exactly once."""

    def __init__(self) -> None:
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        """Keys with a holder → the futures of those waiting for it, first in line first."""

    def __contains__(self, key: str) -> bool:
        return key in self._waiting

    def take_now(self, key: str) -> bool:
        """Take the turn if nobody holds it (the common case: nothing to await)."""
        if key in self._waiting:
            return False
        self._waiting[key] = deque()
        return True

    async def take(self, key: str) -> None:
        """Wait for the turn, first come, first served (bound it with ``asyncio.timeout``: a
        waiter cancelled or timed out leaves the line, or passes on a turn just handed to it)."""
        queue = self._waiting.get(key)
        if queue is None:
            self._waiting[key] = deque()
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(future)
        try:
            await future
        except BaseException:
            if future.done() and not future.cancelled():
                self.give_back(key)  # handed the turn as the wait ended: pass it on
            elif future in queue:
                queue.remove(future)
            raise

    def give_back(self, key: str) -> None:
        """End the holder's turn: the next waiter's begins, or the key is free."""
        queue = self._waiting.get(key)
        if queue is None:
            return
        while queue:
            future = queue.popleft()
            if not future.done():
                future.set_result(None)
                return
        del self._waiting[key]

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold ``key``'s turn for the ``async with`` block (waiting for it if need be)."""
        if not self.take_now(key):
            await self.take(key)
        try:
            yield
        finally:
            self.give_back(key)
