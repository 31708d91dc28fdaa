"""``Background``: work started after an answer, kept referenced until it ends, awaited at
shutdown, its failure logged (never raised into whoever started it)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from gateway import logs


class Background:
    """A set of background tasks; ``event`` names the warning a failed one logs."""

    def __init__(self, logger: str, event: str) -> None:
        self._log = logs.get_logger(logger)
        self._event = event
        self._tasks: set[asyncio.Future[Any]] = set()

    def spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Future[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self._log.warning(self._event, error=str(task.exception()))

    async def close(self) -> None:
        """Wait for what is still running (bounded by each piece's own timeouts)."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
