"""Stream helpers shared by the scripts that append to streams with a retention period."""

from __future__ import annotations

import time


def min_stream_id(keep_seconds: int, now: float = 0.0) -> str:
    """The oldest stream entry id to keep (``XTRIM MINID``) when entries live ``keep_seconds``."""
    return f"{max(int(((now or time.time()) - keep_seconds) * 1000), 0)}-0"
