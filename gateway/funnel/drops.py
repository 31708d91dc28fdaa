"""Where and why a session ended before reaching an END, from its end-of-session notification.

The aggregators say little: Hubtel sends ``Timeout`` or ``Release`` (the subscriber ended it);
Africa's Talking sends ``Incomplete`` for a cancel *or* a timeout, and ``Failed`` for an error
(with ``errorMessage``, which names a timeout when there was one). An ``Incomplete`` session is
taken as timed out when nothing happened on it for ``idle_timeout`` seconds before the
notification arrived (networks drop an idle session after 20–60 s; a subscriber who cancels
usually does so sooner), else as ended by the subscriber.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gateway.channels.base import UssdSessionEnd
from gateway.hops.result import SessionView

TIMEOUT, USER, ERROR = "timeout", "user", "error"
_TIMEOUT = re.compile(r"\btime[ds]?[ -]?out\b", re.IGNORECASE)
"""An aggregator's error text that says the session timed out ("timeout", "timed out")."""
DROPS = (TIMEOUT, USER, ERROR)
DEFAULT_IDLE_TIMEOUT = 25.0


@dataclass(frozen=True, slots=True)
class Drop:
    """A session that ended on ``screen`` of ``menu_id`` before an END, and why."""

    menu_id: str
    screen: str
    reason: str


def drop(end: UssdSessionEnd, seen: SessionView | None, now: float,
         idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> Drop | None:  # fmt: skip
    """The drop ``end`` reports; ``None`` when the session reached an END (or succeeded), or
    is no longer stored (its screen is unknown)."""
    if seen is None or not seen.menu_id or not seen.screen:
        return None
    if seen.reply.end or end.status == "success":
        return None
    said_timeout = _TIMEOUT.search(end.error_message) is not None
    if end.ended_by:
        reason = end.ended_by
    elif end.status == "failed":
        reason = TIMEOUT if said_timeout else ERROR
    elif said_timeout or now - seen.touched >= idle_timeout:
        reason = TIMEOUT
    else:
        reason = USER
    return Drop(seen.menu_id, seen.screen, reason)
